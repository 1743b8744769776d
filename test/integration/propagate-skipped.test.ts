// Propagate all with a keyframe that has no image yet, as a new user does after rendering a few: the
// segments whose keyframes are ready run, the others are skipped with one line saying which and why
// (engine, `rerender propagate`, the editor's job note), and the editor never shows a segment failed
// that did not run. Only when no segment can run is it refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createProject } from '../../main/engine/project/create';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { propagateProject, runnableSegments } from '../../main/engine/propagation/propagate-project';
import { createEditor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import type { Project } from '../../preload/project-schema';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { finished } from '../helpers/editor-jobs';

/** 16 frames, keyframes at 0, 6 and 12; only those in `ready` get an image (the source frame itself). */
async function project(dir: string, ready: number[]): Promise<{ file: string; p: Project }> {
  const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 16, fps: 12 });
  const file = path.join(dir, 'clip.rerender');
  let p = await createProject(file, video, { size: 64 });
  p = { ...setKeyframeFrames(p, [0, 6, 12]), propagation: { ...p.propagation, searchVoteIters: 1, patchMatchIters: 1, workers: 1 } };
  for (const k of ready) p = await importKeyframeImage(file, p, k, path.join(projectPaths(file).framesDir, frameFileName(k)));
  await writeProjectFile(file, p);
  return { file, p };
}

test('given one keyframe without an image, when everything is propagated, then the ready segment runs and the others are skipped in one line; with none ready it is refused', async () => {
  const { file, p } = await project(tempDir('rerender-skip-'), [0, 6]);
  const r = await propagateProject(file, p);
  assert.equal(r.segments, 1, 'frames 0–6 have both images');
  assert.deepEqual(r.skipped?.ids, ['6-12', '12-15']);
  assert.equal(r.skipped?.note, 'skipped 2 segments (6-12, 12-15): the keyframe at frame 12 has no finished image yet; render or import it, then propagate again');

  const cli = rerender(['propagate', file]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^propagated 1 segment: 0 frames written, 5 kept from an earlier run$/m);
  assert.match(cli.stdout, /^skipped 2 segments \(6-12, 12-15\): the keyframe at frame 12 has no finished image yet/m);

  const none = await project(tempDir('rerender-skip-none-'), []);
  assert.throws(() => runnableSegments(none.p), /^UserError: the keyframes at frames 0, 6 and 12 have no finished image yet; render or import them first$/);
  const refused = rerender(['propagate', none.file]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the keyframes at frames 0, 6 and 12 have no finished image yet; render or import them first/);
  // One segment asked for by name still needs both of its keyframes.
  assert.throws(() => runnableSegments(p, '6-12'), /the keyframe at frame 12 has no finished image yet; render or import it first/);
});

test('given the editor, when Propagate all runs with a keyframe not ready, then the job is done with a note of the skipped segments and no segment shows failed; when none can run, none is marked failed either', async () => {
  const dir = tempDir('rerender-skip-editor-');
  const editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
  try {
    const { file } = await project(dir, [0, 6]);
    await editor.handlers['project.open']({ file });
    const { jobId } = await editor.handlers['propagate.start']({ on: 'local' });
    const job = await finished(editor, jobId);
    assert.equal(job.status, 'done', job.error?.message);
    assert.match(job.note ?? '', /^Skipped 2 segments \(6-12, 12-15\): the keyframe at frame 12 has no finished image yet/);
    await new Promise((r) => setImmediate(r));
    const status = Object.fromEntries(editor.session.state()!.segments.map((s) => [s.id, s.status]));
    assert.equal(status['0-6'], 'done');
    assert.notEqual(status['6-12'], 'failed');
    assert.notEqual(status['12-15'], 'failed');

    const none = await project(tempDir('rerender-skip-editor-none-'), []);
    await editor.handlers['project.open']({ file: none.file });
    const refused = await finished(editor, (await editor.handlers['propagate.start']({ on: 'local' })).jobId);
    assert.equal(refused.status, 'failed');
    assert.match(refused.error?.message ?? '', /the keyframes at frames 0, 6 and 12 have no finished image yet/);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(editor.session.state()!.segments.filter((s) => s.status === 'failed').map((s) => s.id), [], 'segments that never ran are not failed');
  } finally {
    editor.dispose();
  }
});
