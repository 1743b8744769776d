// The source video over a project's life: a truncated file is refused unless the user keeps what decodes;
// a moved or replaced source is noticed (on open and before export) and never exported silently without
// its sound or with another clip's; relinking accepts only the same video.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rerender } from '../helpers/cli';
import { finished } from '../helpers/editor-jobs';
import { makeVideo, tempDir, ffprobeStreams } from '../helpers/media';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';

/** An MP4 with its index first (as web videos are), cut to `fraction` of its bytes: a broken download. */
function truncatedMp4(dir: string, frames: number, fraction: number): string {
  const full = path.join(dir, 'download-full.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=24:duration=${frames / 24}`, '-c:v', 'libx264', '-movflags', '+faststart', full]);
  const cut = path.join(dir, 'download.mp4');
  const bytes = fs.readFileSync(full);
  fs.writeFileSync(cut, bytes.subarray(0, Math.round(bytes.length * fraction)));
  return cut;
}

const videoFrames = (file: string) => Number(ffprobeStreams(file).find((s) => s.codec_type === 'video')!.nb_read_frames);
const hasAudio = (file: string) => ffprobeStreams(file).some((s) => s.codec_type === 'audio');

describe('a truncated video', () => {
  const dir = tempDir('rerender-truncated-');
  const video = truncatedMp4(dir, 231, 0.2);

  test('given a video holding fewer frames than it announces, when a project is made, then it is refused naming the file and both counts', () => {
    const project = path.join(dir, 'cut.rerender');
    const r = rerender(['new', project, '--video', video, '--short-side', '64']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the video is truncated: it announces 231 frames but only \d+ decode/);
    assert.ok(r.stderr.includes(video));
    assert.match(r.stderr, /--allow-truncated/);
    assert.ok(!fs.existsSync(project), 'no project is written');
    assert.ok(!fs.existsSync(path.join(dir, 'cut.cache')), 'nothing decoded is left');
  });

  test('given --allow-truncated, then the project keeps every frame that decodes', () => {
    const r = rerender(['new', path.join(dir, 'kept.rerender'), '--video', video, '--short-side', '64', '--allow-truncated', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const frames = r.json().frames;
    assert.ok(frames > 0 && frames < 231, `${frames}`);
  });

  test('given the editor, when creating a project from it, then the job fails the same way unless allowTruncated is set', async () => {
    const editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
    try {
      const refused = await finished(editor, (await editor.handlers['project.create']({ projectFile: path.join(dir, 'e1.rerender'), video, shortSide: 64 })).jobId);
      assert.equal(refused.status, 'failed');
      assert.match(refused.error!.message, /truncated: it announces 231 frames/);
      const kept = await finished(editor, (await editor.handlers['project.create']({ projectFile: path.join(dir, 'e2.rerender'), video, shortSide: 64, allowTruncated: true })).jobId);
      assert.equal(kept.status, 'done', JSON.stringify(kept.error));
    } finally {
      editor.dispose();
    }
  });
});

describe('a source that moved or was replaced', () => {
  let dir: string;
  let project: string;
  let video: string;
  const setUp = () => {
    dir = tempDir('rerender-source-');
    video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 24, fps: 12, audio: true });
    project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
  };

  test('given a moved source, then info says so, export refuses to drop the sound silently, and relink brings it back', () => {
    setUp();
    const moved = path.join(dir, 'elsewhere', 'clip renamed.mp4');
    fs.mkdirSync(path.dirname(moved));
    fs.renameSync(video, moved);
    assert.match(rerender(['info', project]).stdout, /source: the source video clip\.mp4 is missing \(moved or deleted\)/);
    const out = path.join(dir, 'out.mp4');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /missing.*so the export would have no sound.*--no-audio/);
    assert.ok(!fs.existsSync(out));

    const silent = rerender(['export', project, '--out', out, '--allow-incomplete', '--no-audio']);
    assert.equal(silent.code, 0, silent.stderr);
    assert.equal(hasAudio(out), false);

    assert.equal(rerender(['relink', project, '--video', moved]).code, 0);
    assert.equal(rerender(['export', project, '--out', out, '--allow-incomplete', '--force']).code, 0);
    assert.equal(hasAudio(out), true);
    assert.equal(videoFrames(out), 24);
  });

  test('given a source replaced by another clip, then export refuses (no other clip\'s sound) and relink refuses a video that does not fit', () => {
    setUp();
    const original = path.join(dir, 'original.mp4');
    fs.copyFileSync(video, original);
    const other = makeVideo(dir, 'other', { width: 160, height: 96, frames: 36, fps: 12, audio: true });
    fs.copyFileSync(other, video);
    const r = rerender(['export', project, '--out', path.join(dir, 'out.mp4'), '--allow-incomplete']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /was replaced since the project was made \(it was \d+ bytes, modified .*, now \d+ bytes/);
    const wrong = rerender(['relink', project, '--video', other]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /not the project's source video \(36 frames instead of 24\)/);
    assert.equal(rerender(['relink', project, '--video', original]).code, 0);
    assert.equal(rerender(['export', project, '--out', path.join(dir, 'out.mp4'), '--allow-incomplete']).code, 0);
  });

  test('given a silent source that was deleted, when exporting, then there is no sound to lose and the export is made', () => {
    const silentDir = tempDir('rerender-silent-');
    const silent = makeVideo(silentDir, 'silent', { width: 160, height: 96, frames: 12, fps: 12 });
    const silentProject = path.join(silentDir, 'silent.rerender');
    assert.equal(rerender(['new', silentProject, '--video', silent, '--short-side', '64']).code, 0);
    fs.rmSync(silent);
    const r = rerender(['export', silentProject, '--out', path.join(silentDir, 'out.mp4'), '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(videoFrames(path.join(silentDir, 'out.mp4')), 12);
  });

  test('given a copy of the source with a new modification time (same bytes), then it is still the project\'s source', () => {
    setUp();
    const later = new Date(Date.now() + 3_600_000);
    fs.utimesSync(video, later, later);
    const r = rerender(['export', project, '--out', path.join(dir, 'out.mp4'), '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
  });

  describe('in the editor', () => {
    let editor: Editor;
    before(() => {
      setUp();
      editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
    });
    after(() => editor.dispose());

    test('given a moved source, when the project opens, then the state says what changed; relinked, exports have the sound again', async () => {
      const moved = path.join(dir, 'moved.mp4');
      fs.renameSync(video, moved);
      const opened = await editor.handlers['project.open']({ file: project });
      assert.match(opened.sourceProblem ?? '', /missing \(moved or deleted\)/);
      await assert.rejects(async () => editor.handlers['project.relink']({ video: makeVideo(dir, 'short', { width: 160, height: 96, frames: 6, fps: 12 }) }), /not the project's source video/);
      const relinked = await editor.handlers['project.relink']({ video: moved });
      assert.equal(relinked.sourceProblem, undefined);
      assert.equal(relinked.project.source.path, 'moved.mp4');
      const out = path.join(dir, 'editor.mp4');
      const job = await finished(editor, (await editor.handlers['export.start']({ out, format: 'mp4', sideBySide: false, allowIncomplete: true })).jobId);
      assert.equal(job.status, 'done', JSON.stringify(job.error));
      assert.equal(hasAudio(out), true);
    });
  });
});
