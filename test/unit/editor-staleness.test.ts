// What the editor session derives for the UI after every edit, undo and redo: rendered keyframes an edit
// made out of date (status "stale" with the reason, from the render records), and whether FRESCO's
// background smoothing can run with the project's saliency model (and why not).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EditorSession } from '../../main/engine/editor/session';
import { writeProjectFile, readProjectFile } from '../../main/engine/project/project-file';
import { projectPaths } from '../../main/engine/project/paths';
import { settingsKey, writeRecord, type Dependency } from '../../main/engine/render/render-records';
import type { Keyframe, Project } from '../../preload/project-schema';
import { projectState, type ProjectState } from '../../preload/api';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';
import { identityOnnxModel } from '../helpers/onnx-writer';

const at = (p: Project, frame: number) => p.keyframes.find((k) => k.frame === frame)!;
const shown = (s: ProjectState, frame: number) => s.project.keyframes.find((k) => k.frame === frame)!;
const dep = (role: Dependency['role'], k: Keyframe): Dependency => ({ role, id: k.id, frame: k.frame, revision: k.revision });

/**
 * A project whose keyframe at frame 10 was rendered: its image, status "done" and a render record as the
 * renderer leaves them (in `mode`, constrained by the anchor at 0, or in a FRESCO batch with 0 and 20).
 */
async function renderedProject(mode: 'rerender' | 'fresco'): Promise<{ file: string; id: string }> {
  const file = path.join(tempDir('rerender-stale-'), 'clip.rerender');
  const base = { ...sampleProject(50, [0, 10, 20]), mode };
  const project: Project = {
    ...base,
    keyframes: base.keyframes.map((k) => (k.frame === 10 ? { ...k, status: 'done' as const, image: 'clip.cache/keyframes/k10-r1.png', revision: 1 } : k)),
  };
  await writeProjectFile(file, project);
  const k = at(project, 10);
  fs.mkdirSync(projectPaths(file).keyframesDir, { recursive: true });
  const dependsOn = mode === 'fresco' ? [dep('batch', at(project, 0)), dep('batch', at(project, 20))] : [dep('anchor', at(project, 0)), dep('previous', at(project, 0))];
  await writeRecord(file, k.image!, { revision: 1, mode, seed: 7, settingsKey: settingsKey(project, k, mode, false), dependsOn, createdAt: new Date().toISOString() });
  return { file, id: k.id };
}

describe('editor session: staleness after edits', () => {
  test('given a rendered keyframe, when its prompt is edited, then it shows as stale with the reason; undo makes it current again, redo stale', async () => {
    const { file, id } = await renderedProject('rerender');
    const session = new EditorSession(60_000);
    const opened = await session.openProject(file);
    assert.equal(shown(opened, 10).status, 'done');

    const edited = await session.edit({ action: 'setKeyframeOverrides', id, overrides: { prompt: 'oil painting' } });
    assert.equal(shown(edited, 10).status, 'stale');
    assert.match(shown(edited, 10).note ?? '', /render settings changed/);
    assert.equal(shown(edited, 20).status, 'empty', 'a keyframe never rendered is not stale');
    assert.equal(at(session.project(), 10).status, 'done', 'staleness is shown, not written into the project by the edit');
    projectState.parse(edited); // within the contract

    const undone = session.undo();
    assert.equal(shown(undone, 10).status, 'done');
    assert.equal(shown(undone, 10).note, undefined);
    assert.equal(shown(session.redo(), 10).status, 'stale');

    await session.save();
    assert.equal(at(await readProjectFile(file), 10).status, 'done', 'the saved file keeps the statuses the renderer wrote');
    session.dispose();
  });

  test('given a rendered keyframe, when the project prompt changes, then it is stale; when it changes back, then it is current', async () => {
    const { file } = await renderedProject('rerender');
    const session = new EditorSession(60_000);
    const opened = await session.openProject(file);
    const render = opened.project.render;
    const changed = await session.edit({ action: 'setRenderDefaults', render: { ...render, prompt: 'watercolour' } });
    assert.equal(shown(changed, 10).status, 'stale');
    const back = await session.edit({ action: 'setRenderDefaults', render });
    assert.equal(shown(back, 10).status, 'done');
    session.dispose();
  });

  test('given a keyframe rendered in a FRESCO batch, when a batch-mate is moved, then it is stale and says which one moved', async () => {
    const { file } = await renderedProject('fresco');
    const session = new EditorSession(60_000);
    const opened = await session.openProject(file);
    assert.equal(shown(opened, 10).status, 'done');
    const moved = await session.edit({ action: 'moveKeyframes', moves: [{ id: shown(opened, 20).id, frame: 25 }] });
    assert.equal(shown(moved, 10).status, 'stale');
    assert.match(shown(moved, 10).note ?? '', /FRESCO batch moved from frame 20 to 25/);
    assert.equal(shown(session.undo(), 10).status, 'done');
    session.dispose();
  });
});

describe('editor session: background smoothing availability', () => {
  test('given a FRESCO project, when the saliency model is none, a missing file, not ONNX or an existing .onnx file, then the state says whether smoothing can run and why not', async () => {
    const { file } = await renderedProject('fresco');
    const modelsDir = tempDir('rerender-models-');
    fs.mkdirSync(path.join(modelsDir, 'onnx'));
    fs.writeFileSync(path.join(modelsDir, 'onnx', 'u2net.onnx'), identityOnnxModel());
    fs.writeFileSync(path.join(modelsDir, 'onnx', 'u2net.bin'), 'not an ONNX file');
    const session = new EditorSession(60_000, () => modelsDir);
    const setModel = (saliencyModel: string | null) => session.edit({ action: 'setMode', mode: 'fresco', fresco: { saliencyModel } });

    const none = (await session.openProject(file)).backgroundSmoothing;
    assert.equal(none?.available, false);
    assert.match(none?.reason ?? '', /needs a salient-object model/);

    const missing = await setModel('onnx/missing.onnx');
    assert.equal(missing.backgroundSmoothing?.available, false);
    assert.match(missing.backgroundSmoothing?.reason ?? '', /does not exist/);
    assert.ok(missing.backgroundSmoothing?.reason?.includes(path.join(modelsDir, 'onnx', 'missing.onnx')), 'a relative path is looked up in the models folder');

    const notOnnx = await setModel(path.join(modelsDir, 'onnx', 'u2net.bin'));
    assert.match(notOnnx.backgroundSmoothing?.reason ?? '', /not an \.onnx file/);

    const found = await setModel('onnx/u2net.onnx');
    assert.deepEqual(found.backgroundSmoothing, { available: true });
    projectState.parse(found);
    assert.equal(session.undo().backgroundSmoothing?.available, false, 'undo brings the earlier choice back, with its reason');
    session.redo();

    const cleared = await setModel(null);
    assert.equal(cleared.project.fresco?.saliencyModel, null);
    assert.match(cleared.backgroundSmoothing?.reason ?? '', /needs a salient-object model/, 'a cleared choice is none again');

    const rerender = await session.edit({ action: 'setMode', mode: 'rerender' });
    assert.equal(rerender.backgroundSmoothing, undefined, 'only FRESCO projects are told about it');
    session.dispose();
  });
});
