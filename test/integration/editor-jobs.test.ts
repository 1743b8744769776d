// The editor's jobs through the real worker processes: create a project from a video (it opens when
// decoded), suggest keyframes from content, export with progress, cancel, and a keyframe render that
// either finishes or fails with a message the user can act on (never a fake result).
import { test, describe, before, after } from 'node:test';
import { finished } from '../helpers/editor-jobs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import type { JobState, ProjectState } from '../../preload/api';
import { makeVideo, tempDir, ffprobeStreams } from '../helpers/media';
import { projectPaths } from '../../main/engine/project/paths';
import { exportSize } from '../../preload/export-size';


describe('editor jobs on real workers', () => {
  let dir: string;
  let editor: Editor;
  before(() => {
    dir = tempDir('rerender-editor-jobs-');
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
  });
  after(() => editor.dispose());

  test('given a video, when a project is created, then decoding runs as a job with progress and the project opens when it is done', async () => {
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 36, fps: 12 });
    const progress: number[] = [];
    const opened = new Promise<ProjectState>((resolve) => { const off = editor.on('project.changed', (s) => { if (s) { off(); resolve(s); } }); });
    editor.on('job.updated', (j) => { if (j.kind === 'create') progress.push(j.fraction); });
    const { jobId } = await editor.handlers['project.create']({ projectFile: path.join(dir, 'clip.rerender'), video, shortSide: 64 });
    const job = await finished(editor, jobId);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    const state = await opened;
    assert.equal(state.project.frames.count, 36);
    assert.equal(state.framesReady, true);
    assert.ok(progress.length >= 2);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(editor.settings.get().recent, [path.join(dir, 'clip.rerender')], 'a new project is a recent project');
  });

  test('given an open project, when keyframes are suggested from content, then frames come back without changing the project', async () => {
    const before = editor.session.state()!;
    const { frames } = await editor.handlers['keyframes.suggest']({ method: 'adaptive', min: 3, max: 12 });
    assert.equal(frames[0], 0);
    assert.ok(frames.every((f, i) => i === 0 || (f - frames[i - 1] >= 3 && f - frames[i - 1] <= 12)));
    assert.deepEqual(editor.session.state()!.project.keyframes, before.project.keyframes);
    const uniform = await editor.handlers['keyframes.suggest']({ method: 'uniform', every: 7 });
    assert.deepEqual(uniform.frames, [0, 7, 14, 21, 28, 35]);
  });

  test('given unrendered keyframes, when exporting with source frames allowed, then the job writes a playable file and names it', async () => {
    const out = path.join(dir, 'out.webm');
    const { jobId } = await editor.handlers['export.start']({ out, format: 'webm', sideBySide: true, allowIncomplete: true });
    const job = await finished(editor, jobId);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.equal(job.output, out);
    const v = ffprobeStreams(out).find((s) => s.codec_type === 'video')!;
    assert.equal(v.width, 2 * exportSize(editor.session.project()).width, 'side by side at the source size');
  });

  test('given ProRes chosen with a name ending .mp4, when the editor starts the export, then it is refused at once with the name to use and nothing is written', async () => {
    const out = path.join(dir, 'prores-named.mp4');
    await assert.rejects(async () => editor.handlers['export.start']({ out, format: 'prores', sideBySide: false, allowIncomplete: true }), /a ProRes export needs a name ending \.mov: the extension \.mp4 is for MP4; use prores-named\.mov/);
    assert.ok(!fs.existsSync(out));
  });

  test('given an export that is not allowed to use source frames, then it fails with what to do', async () => {
    const { jobId } = await editor.handlers['export.start']({ out: path.join(dir, 'strict.mp4'), format: 'mp4', sideBySide: false, allowIncomplete: false });
    const job = await finished(editor, jobId);
    assert.equal(job.status, 'failed');
    assert.match(job.error!.message, /not rendered yet/);
    assert.ok(job.error!.fix);
    assert.ok(!fs.existsSync(path.join(dir, 'strict.mp4')));
  });

  test('given a failed export, when an export to another file is done, then the failure still stands; done to its own file, it is superseded', async () => {
    const strict = path.join(dir, 'strict-superseded.mp4');
    const failed = await finished(editor, (await editor.handlers['export.start']({ out: strict, format: 'mp4', sideBySide: false, allowIncomplete: false })).jobId);
    assert.equal(failed.status, 'failed');
    const other = await finished(editor, (await editor.handlers['export.start']({ out: path.join(dir, 'other.mp4'), format: 'mp4', sideBySide: false, allowIncomplete: true })).jobId);
    assert.equal(other.status, 'done', JSON.stringify(other.error));
    const listed = async () => (await editor.handlers['jobs.list']({})).find((j) => j.id === failed.id)!;
    assert.equal((await listed()).supersededBy, undefined, 'another destination was exported, not this one: not "done since by a later run"');
    const same = await finished(editor, (await editor.handlers['export.start']({ out: strict, format: 'mp4', sideBySide: false, allowIncomplete: true })).jobId);
    assert.equal(same.status, 'done', JSON.stringify(same.error));
    assert.equal((await listed()).supersededBy, same.id, 'the same destination exported since');
  });

  test('given a running export, when cancelled, then the job ends as cancelled and leaves no file', async () => {
    const out = path.join(dir, 'cancelled.gif');
    const { jobId } = await editor.handlers['export.start']({ out, format: 'gif', sideBySide: false, allowIncomplete: true });
    await editor.handlers['jobs.cancel']({ id: jobId });
    const job = await finished(editor, jobId);
    assert.ok(job.status === 'cancelled' || job.status === 'done', job.status); // a tiny export may finish first
    if (job.status === 'cancelled') assert.ok(!fs.existsSync(out));
  });

  test('given a keyframe, when rendering is asked for, then the keyframe shows as rendering and the job ends done or with an actionable error', async () => {
    const k = editor.session.project().keyframes[0];
    const { jobId } = await editor.handlers['keyframe.render']({ id: k.id, newSeed: false });
    assert.equal(editor.session.state()!.project.keyframes[0].status, 'rendering');
    const job = await finished(editor, jobId);
    await new Promise((r) => setImmediate(r));
    if (job.status === 'done') {
      const after = editor.session.state()!.project.keyframes.find((x) => x.id === k.id)!;
      assert.equal(after.status, 'done');
      assert.ok(after.image);
    } else {
      assert.equal(job.status, 'failed');
      assert.doesNotMatch(job.error!.message, /^internal error/);
      assert.notEqual(editor.session.state()!.project.keyframes[0].status, 'rendering');
    }
  });

  test('given a project whose frame cache is gone, when it is opened, then the frames are decoded again as a job and the previews come back', async () => {
    const file = editor.session.file!;
    fs.rmSync(projectPaths(file).cacheDir, { recursive: true, force: true });
    const opened = await editor.handlers['project.open']({ file });
    assert.equal(opened.framesReady, false);
    const decode = (editor.handlers['jobs.list']({}) as JobState[]).find((j) => j.kind === 'decode' && j.status === 'running');
    assert.ok(decode, 'a decode job runs');
    assert.equal((await finished(editor, decode.id)).status, 'done');
    await new Promise((r) => setImmediate(r));
    assert.equal(editor.session.state()!.framesReady, true);
    assert.equal(fs.readdirSync(projectPaths(file).framesDir).filter((f) => f.endsWith('.png')).length, 36);
    assert.ok(fs.existsSync(path.join(projectPaths(file).thumbsDir, '00035.jpg')));
  });
});
