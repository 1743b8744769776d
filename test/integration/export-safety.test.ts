// Exports never delete or replace what the app did not write: a frames export goes into a new, empty or
// earlier-export folder; an existing video is replaced only with --force (the editor asks first).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { rerender } from '../helpers/cli';
import { finished } from '../helpers/editor-jobs';
import { makeVideo, tempDir, ffprobeStreams } from '../helpers/media';
import { createEditor, dispatchCall, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { EXPORT_EXISTS } from '../../preload/api';

/** Every file under `dir` with its content, to show nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

describe('exports never destroy what they did not make', () => {
  let dir: string;
  let project: string;
  before(() => {
    dir = tempDir('rerender-export-safety-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 12, fps: 12, audio: true });
    project = path.join(dir, 'clip.rerender');
    const r = rerender(['new', project, '--video', video, '--short-side', '64']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('given a folder of the user\'s files, when frames are exported into it, then it is refused and every file is intact', () => {
    const documents = path.join(dir, 'Documents');
    fs.mkdirSync(path.join(documents, 'photos'), { recursive: true });
    fs.writeFileSync(path.join(documents, 'letter.txt'), 'dear…');
    fs.writeFileSync(path.join(documents, 'photos', '00001.png'), 'not ours');
    const before = snapshot(documents);
    const r = rerender(['export', project, '--out', documents, '--format', 'png', '--allow-incomplete', '--force']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /holds files Rerender did not write \(letter\.txt, photos\).*nothing was changed/);
    assert.ok(r.stderr.includes(documents));
    assert.deepEqual(snapshot(documents), before);
  });

  test('given the project\'s own folder as --out, when exporting frames, then it is refused and the project and its cache are intact', () => {
    const before = snapshot(dir);
    const r = rerender(['export', project, '--out', dir, '--format', 'png', '--allow-incomplete', '--force']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /holds files Rerender did not write/);
    assert.deepEqual(snapshot(dir), before);
  });

  test('given the project\'s cache or its source video as --out, then the export is refused even with --force', () => {
    const before = snapshot(dir);
    for (const out of [path.join(dir, 'clip.cache', 'frames'), path.join(dir, 'clip.mp4')]) {
      const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--force', ...(out.endsWith('frames') ? ['--format', 'png'] : [])]);
      assert.notEqual(r.code, 0, out);
      assert.match(r.stderr, /inside the project's cache folder|the project's source video/);
    }
    assert.deepEqual(snapshot(dir), before);
  });

  test('given an empty folder, frames go there marked as ours; a second export needs --force and replaces only our files', () => {
    const out = path.join(dir, 'frames-out');
    fs.mkdirSync(out);
    assert.equal(rerender(['export', project, '--out', out, '--allow-incomplete']).code, 0);
    assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.png')).length, 12);
    assert.ok(fs.existsSync(path.join(out, '.rerender-export')));

    const again = rerender(['export', project, '--out', out, '--allow-incomplete', '--range', '0-3']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /an earlier frames export is in this folder; replace it with --force/);
    assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.png')).length, 12, 'untouched without --force');

    assert.equal(rerender(['export', project, '--out', out, '--allow-incomplete', '--range', '0-3', '--force']).code, 0);
    assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.png')).length, 4);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temp folders left beside it');
  });

  test('given an earlier frames export the user added a file to, when replaced with --force, then it is refused and the file stays', () => {
    const out = path.join(dir, 'frames-kept');
    assert.equal(rerender(['export', project, '--out', out, '--allow-incomplete']).code, 0);
    fs.writeFileSync(path.join(out, 'my-notes.txt'), 'mine');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--force']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /my-notes\.txt/);
    assert.equal(fs.readFileSync(path.join(out, 'my-notes.txt'), 'utf8'), 'mine');
  });

  test('given an existing video file, when exporting over it, then it needs --force and is replaced by a playable video', () => {
    const out = path.join(dir, 'holiday.mp4');
    fs.writeFileSync(out, 'the user\'s own video');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /already exists; replace it with --force/);
    assert.equal(fs.readFileSync(out, 'utf8'), 'the user\'s own video');
    assert.equal(rerender(['export', project, '--out', out, '--allow-incomplete', '--force']).code, 0);
    assert.equal(Number(ffprobeStreams(out).find((s) => s.codec_type === 'video')!.nb_read_frames), 12);
  });

  describe('in the editor', () => {
    let editor: Editor;
    before(async () => {
      editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
      await editor.handlers['project.open']({ file: project });
    });
    after(() => editor.dispose());

    test('given an existing export, when export.start has no overwrite confirmation, then the call fails at once and the file is kept; confirmed, it is replaced', async () => {
      const out = path.join(dir, 'editor.webm');
      fs.writeFileSync(out, 'earlier');
      const params = { out, format: 'webm', sideBySide: false, allowIncomplete: true };
      const refused = await dispatchCall(editor.handlers, 'export.start', params);
      assert.equal(refused.ok, false);
      assert.match(!refused.ok ? refused.error.message : '', EXPORT_EXISTS);
      assert.equal(fs.readFileSync(out, 'utf8'), 'earlier');
      const { jobId } = await editor.handlers['export.start']({ ...params, format: 'webm', overwrite: true });
      const job = await finished(editor, jobId);
      assert.equal(job.status, 'done', JSON.stringify(job.error));
      assert.equal(ffprobeStreams(out).find((s) => s.codec_type === 'video')!.codec_name, 'vp9');
    });
  });
});
