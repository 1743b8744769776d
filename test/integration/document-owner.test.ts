// One owner per document (issue 15): what the editor shows is always true. The five user-visible bugs
// of the old design (the project file as the bus between editor and workers) as tests, through the
// editor's own calls and the real worker processes: out-of-date output shown as done, a lost update
// when saving during a render, the wrong seed in the history, cancel shown as failure, and undo that
// could not bring output back. Also issue 13 item 2: starting a job does not save the project.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { resultFrameFile } from '../../main/engine/project/output-keys';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile } from '../../main/engine/project/project-file';
import type { JobState, ProjectState } from '../../preload/api';
import { finished } from '../helpers/editor-jobs';
import { makeVideo, tempDir } from '../helpers/media';
import { FIXTURES, graphCache, testParams } from './keyframe-render-scene';


function newEditor(dir: string): Editor {
  return createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
}

/** Creates a project from a generated video through the editor and waits until it is open. */
async function createProject(editor: Editor, dir: string, spec: { width: number; height: number; frames: number; shortSide: number }): Promise<ProjectState> {
  const video = makeVideo(dir, 'clip', { width: spec.width, height: spec.height, frames: spec.frames, fps: 10 });
  const opened = new Promise<ProjectState>((resolve) => { const off = editor.on('project.changed', (s) => { if (s) { off(); resolve(s); } }); });
  const { jobId } = await editor.handlers['project.create']({ projectFile: path.join(dir, 'clip.rerender'), video, shortSide: spec.shortSide });
  const job = await finished(editor, jobId);
  assert.equal(job.status, 'done', JSON.stringify(job.error));
  return opened;
}

const statusOf = (s: ProjectState) => Object.fromEntries(s.segments.map((x) => [x.id, x.status]));
const state = (editor: Editor) => editor.session.state()!;

async function run(editor: Editor, start: () => Promise<{ jobId: string }> | { jobId: string }, cancel = false): Promise<JobState> {
  const { jobId } = await start();
  if (cancel) await editor.handlers['jobs.cancel']({ id: jobId });
  return finished(editor, jobId);
}

/** What the preview and the export show for frames `from..to`: the bytes of each result frame (or null). */
function results(editor: Editor, from: number, to: number): Array<string | null> {
  const file = editor.session.file!;
  const p = state(editor).project;
  const out: Array<string | null> = [];
  for (let f = from; f <= to; f++) {
    const r = resultFrameFile(file, p, f);
    out.push(r ? fs.readFileSync(r).toString('base64') : null);
  }
  return out;
}

describe('one owner per document: propagated output', () => {
  let dir: string;
  let editor: Editor;
  before(async () => {
    dir = tempDir('rerender-document-owner-');
    editor = newEditor(dir);
    await createProject(editor, dir, { width: 128, height: 64, frames: 31, shortSide: 64 });
    // Keyframes every 10 frames (0, 10, 20, 30), each given a painted-over image of its own frame.
    const file = editor.session.file!;
    for (const k of state(editor).project.keyframes) {
      const image = path.join(dir, `style-${k.frame}.png`);
      await sharp(path.join(projectPaths(file).framesDir, frameFileName(k.frame))).negate({ alpha: false }).png().toFile(image);
      await editor.handlers['project.edit']({ action: 'importKeyframeImage', frame: k.frame, image });
    }
    await editor.handlers['project.save']({});
  });
  after(() => editor.dispose());

  test('given unsaved edits, when a propagation runs, then the project file is left as saved and the edits stay unsaved (issue 13: no silent save)', async () => {
    const file = editor.session.file!;
    const saved = fs.readFileSync(file, 'utf8');
    const settings = state(editor).project.propagation;
    await editor.handlers['project.edit']({ action: 'setExportSettings', export: { ...state(editor).project.export, sideBySide: true } });
    assert.equal(state(editor).dirty, true);
    const job = await run(editor, () => editor.handlers['propagate.start']({}));
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.equal(fs.readFileSync(file, 'utf8'), saved, 'the job did not save the project');
    assert.equal(state(editor).dirty, true, '"Don\'t save" can still discard the edit');
    assert.deepEqual(state(editor).project.propagation, settings);
    assert.ok(state(editor).segments.every((s) => s.status === 'done'), JSON.stringify(statusOf(state(editor))));
    await editor.handlers['project.undo']({});
  });

  test('given a propagated project, when a keyframe is added, deleted, or a propagation setting changed, then no segment that is out of date shows done and a strict export of it fails; undo makes them done again', async () => {
    assert.ok(state(editor).segments.every((s) => s.status === 'done'));
    // An empty keyframe added in the middle of 0-10: neither half was propagated from it.
    await editor.handlers['project.edit']({ action: 'addKeyframe', frame: 5 });
    let s = statusOf(state(editor));
    assert.notEqual(s['0-5'], 'done');
    assert.notEqual(s['5-10'], 'done');
    assert.equal(s['10-20'], 'done');
    await editor.handlers['project.undo']({});
    assert.equal(statusOf(state(editor))['0-10'], 'done');

    // Delete keyframe 10: the merged segment 0-20 was never propagated from 0 and 20.
    const k10 = state(editor).project.keyframes.find((k) => k.frame === 10)!;
    await editor.handlers['project.edit']({ action: 'removeKeyframes', ids: [k10.id] });
    s = statusOf(state(editor));
    assert.notEqual(s['0-20'], 'done', JSON.stringify(s));
    assert.equal(state(editor).segments.find((x) => x.id === '0-20')!.framesDone, 0, 'no frame of 0-20 comes from its keyframes');
    const strict = await run(editor, () => editor.handlers['export.start']({ out: path.join(dir, 'strict.mp4'), format: 'mp4', sideBySide: false, allowIncomplete: false, range: { start: 1, end: 19 } }));
    assert.equal(strict.status, 'failed', 'frames propagated from a deleted keyframe are not exported as done');
    assert.match(strict.error!.message, /not rendered yet/);
    await editor.handlers['project.undo']({});
    assert.ok(state(editor).segments.every((x) => x.status === 'done'));

    // A changed guide weight or patch size changes every propagated pixel.
    const p = state(editor).project.propagation;
    await editor.handlers['project.edit']({ action: 'setPropagation', propagation: { ...p, patchSize: p.patchSize === 5 ? 7 : 5 } });
    assert.ok(state(editor).segments.every((x) => x.status === 'stale' && x.reason), JSON.stringify(state(editor).segments));
    await editor.handlers['project.undo']({});
    assert.ok(state(editor).segments.every((x) => x.status === 'done'), 'switching a setting back is free');
  });

  test('given a propagated project, when its keyframe imports are undone back to empty keyframes, then no segment shows done', async () => {
    const imports = state(editor).project.keyframes.length;
    for (let i = 0; i < imports; i++) await editor.handlers['project.undo']({});
    assert.ok(state(editor).project.keyframes.every((k) => k.status === 'empty' && !k.image));
    assert.ok(state(editor).segments.every((x) => x.status !== 'done'), JSON.stringify(statusOf(state(editor))));
    for (let i = 0; i < imports; i++) await editor.handlers['project.redo']({});
    assert.ok(state(editor).segments.every((x) => x.status === 'done'), JSON.stringify(statusOf(state(editor))));
  });

  test('given a propagation, when it is cancelled, then unfinished segments are not shown as failed', async () => {
    const p = state(editor).project.propagation;
    await editor.handlers['project.edit']({ action: 'setPropagation', propagation: { ...p, guideWeights: { ...p.guideWeights, edge: p.guideWeights.edge + 0.5 } } });
    const job = await run(editor, () => editor.handlers['propagate.start']({}), true);
    assert.equal(job.status, 'cancelled');
    const segments = state(editor).segments;
    assert.ok(segments.every((x) => x.status !== 'failed' && x.status !== 'rendering'), JSON.stringify(segments));
    assert.ok(segments.some((x) => x.status !== 'done'), 'a cancelled run leaves work to do');
    await editor.handlers['project.undo']({});
    assert.ok(state(editor).segments.every((x) => x.status === 'done'));
  });

  test('given a propagated project and its cache over the limit, when a keyframe is deleted, the merged segment propagated (whole, or cancelled; the editor collects after each) and the delete undone, then the earlier output is back, unchanged', async () => {
    const before = results(editor, 0, 30);
    assert.ok(before.every((r) => r !== null));
    const k10 = state(editor).project.keyframes.find((k) => k.frame === 10)!;
    // The cache over its limit: the editor collects after each propagation job, least recently used
    // first. An old entry nothing refers to, used last of all (so everything else not kept would go
    // before it): 1.5 GB by its size (a sparse file), against a limit of 1 GB.
    await editor.settings.update({ cacheLimitGb: 1 });
    const file = editor.session.file!;
    const unused = path.join(projectPaths(file).outputDir, '0-20-0123456789abcdef');
    fs.mkdirSync(unused, { recursive: true });
    fs.writeFileSync(path.join(unused, 'inputs.json'), JSON.stringify({ start: 0, end: 20, settings: 'other', source: 'other' }));
    fs.writeFileSync(path.join(unused, frameFileName(1)), '');
    fs.truncateSync(path.join(unused, frameFileName(1)), 1.5 * 1024 ** 3);
    const later = new Date(Date.now() + 24 * 3600 * 1000);
    for (const f of [path.join(unused, frameFileName(1)), path.join(unused, 'inputs.json'), unused]) fs.utimesSync(f, later, later);
    // Cancelled first (the run after it continues its work: same inputs, same output key), then whole.
    for (const cancel of [true, false]) {
      await editor.handlers['project.edit']({ action: 'removeKeyframes', ids: [k10.id] });
      const job = await run(editor, () => editor.handlers['propagate.start']({ segmentId: '0-20' }), cancel);
      assert.equal(job.status, cancel ? 'cancelled' : 'done', JSON.stringify(job.error));
      if (cancel) {
        assert.ok(!fs.existsSync(unused), 'collected once the (cancelled) propagation was over');
        assert.match(job.note ?? '', /Cache over its limit of 1\.00 GB: removed 1 old entry \(1\.50 GB\)/);
      }
      if (!cancel) assert.equal(statusOf(state(editor))['0-20'], 'done');
      await editor.handlers['project.undo']({});
      assert.deepEqual(statusOf(state(editor)), { '0-10': 'done', '10-20': 'done', '20-30': 'done' });
      assert.deepEqual(results(editor, 0, 30), before, 'the frames of 0-10 and 10-20 are the ones propagated from keyframe 10');
    }
    // Redo brings the merged segment's finished output back as well.
    await editor.handlers['project.redo']({});
    assert.equal(statusOf(state(editor))['0-20'], 'done');
    await editor.handlers['project.undo']({});
    await editor.settings.update({ cacheLimitGb: 20 });
  });
});

describe('one owner per document: rendered keyframes', () => {
  let dir: string;
  let editor: Editor;
  before(async () => {
    dir = tempDir('rerender-document-owner-render-');
    editor = newEditor(dir);
    // Compiled tiny graphs are kept between runs in the models folder's cache.
    await editor.settings.update({ modelsFolder: graphCache('document-owner') });
    await createProject(editor, dir, { width: 128, height: 128, frames: 10, shortSide: 128 });
    await editor.handlers['project.edit']({ action: 'setKeyframes', frames: [0] });
    await editor.handlers['project.edit']({ action: 'setModels', models: { ...state(editor).project.models, checkpoint: FIXTURES, controlnet: FIXTURES } });
    await editor.handlers['project.edit']({ action: 'setRenderDefaults', render: testParams({ steps: 4, seed: 0 }) });
    await editor.handlers['project.save']({});
  });
  after(() => editor.dispose());

  test('given a keyframe rendered with seed 0 and regenerated twice, when the seed-0 image is picked from the history and Render all runs, then the history lists each image with its own seed', async () => {
    const id = state(editor).project.keyframes[0].id;
    for (const newSeed of [false, true, true]) {
      const job = await run(editor, () => editor.handlers['keyframe.render']({ id, newSeed }));
      assert.equal(job.status, 'done', JSON.stringify(job.error));
    }
    let k = state(editor).project.keyframes[0];
    assert.equal(k.history.length, 2);
    assert.equal(k.history[0].seed, 0, 'the first render used the project seed');
    const seedZeroImage = k.history[0].image;
    await editor.handlers['project.edit']({ action: 'pickKeyframeHistory', id, index: 0 });
    assert.equal(state(editor).project.keyframes[0].image, seedZeroImage);
    const all = await run(editor, () => editor.handlers['keyframes.renderAll']({ only: 'all' }));
    assert.equal(all.status, 'done', JSON.stringify(all.error));
    k = state(editor).project.keyframes[0];
    const entry = k.history.find((h) => h.image === seedZeroImage);
    assert.ok(entry, 'the picked image went back to the history');
    assert.equal(entry.seed, 0, 'listed with the seed that made it, not the seed of the image it replaced');
  });

  test('given Render all running, when the user saves again and again meanwhile, then no rendered keyframe is lost: each one arrives in the document with its new revision, and only the user\'s saves write the file', async () => {
    await editor.handlers['project.edit']({ action: 'setKeyframes', frames: [0, 9] });
    await editor.handlers['project.save']({});
    const file = editor.session.file!;
    const before = new Map(state(editor).project.keyframes.map((k) => [k.id, k.revision]));
    const { jobId } = await editor.handlers['keyframes.renderAll']({ only: 'all' });
    const saves: Array<Promise<unknown>> = [];
    let lastSaved = fs.readFileSync(file, 'utf8');
    const off = editor.on('job.updated', (j) => {
      if (j.id === jobId && j.status === 'running' && j.fraction > 0) {
        // Ctrl+S while keyframes commit; what it writes is the document as the editor holds it.
        saves.push(editor.session.save().then(() => { lastSaved = fs.readFileSync(file, 'utf8'); }));
      }
    });
    const job = await finished(editor, jobId);
    off();
    await Promise.all(saves);
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.ok(saves.length >= 2, `saved ${saves.length} times during the render`);
    assert.equal(fs.readFileSync(file, 'utf8'), lastSaved, 'the worker never wrote the project file');
    const after = state(editor);
    assert.equal(after.dirty, true, 'the render\'s result is an unsaved, undoable change');
    for (const k of after.project.keyframes) {
      assert.equal(k.status, 'done', `keyframe ${k.frame}`);
      assert.equal(k.revision, before.get(k.id)! + 1, `keyframe ${k.frame} has its new revision`);
      assert.ok(k.image && fs.existsSync(path.join(path.dirname(file), k.image)));
    }
    await editor.handlers['project.save']({});
    const disk = await readProjectFile(file);
    assert.deepEqual(disk.keyframes.map((k) => [k.revision, k.image]), after.project.keyframes.map((k) => [k.revision, k.image]));
    await editor.handlers['project.undo']({});
    assert.deepEqual(state(editor).project.keyframes.map((k) => k.revision), [...before.values()], 'the render is one undo step');
  });
});
