// What the editor session tells the UI about the soft-edge/depth ControlNet detector after every edit,
// undo and redo: whether the project's detector can be used (chosen, and on disk) and if not why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EditorSession } from '../../main/engine/editor/session';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { projectState } from '../../preload/api';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';
import { identityOnnxModel } from '../helpers/onnx-writer';

test('given a project, when its detector is none, a missing file or a file in the models folder, then the state says whether soft-edge and depth ControlNets can render and why not; undo brings the earlier answer back', async () => {
  const file = path.join(tempDir('rerender-detector-'), 'clip.rerender');
  await writeProjectFile(file, sampleProject());
  const modelsDir = tempDir('rerender-models-');
  fs.mkdirSync(path.join(modelsDir, 'onnx'));
  fs.writeFileSync(path.join(modelsDir, 'onnx', 'hed.onnx'), identityOnnxModel());
  fs.writeFileSync(path.join(modelsDir, 'onnx', 'fake.onnx'), 'hello\n');
  const session = new EditorSession(60_000, () => modelsDir);
  const setDetector = (detector: string | null) => session.edit({ action: 'setModels', models: { ...session.project().models, detector } });

  const none = (await session.openProject(file)).controlnetDetector;
  assert.equal(none.available, false);
  assert.match(none.reason ?? '', /none is chosen/);
  assert.match(none.reason ?? '', /model manager/, 'the reason says where to choose one');

  const missing = await setDetector('onnx/missing.onnx');
  assert.equal(missing.controlnetDetector.available, false);
  assert.match(missing.controlnetDetector.reason ?? '', /does not exist/);
  assert.ok(missing.controlnetDetector.reason?.includes(path.join(modelsDir, 'onnx', 'missing.onnx')), 'a relative path is looked up in the models folder');

  const found = await setDetector('onnx/hed.onnx');
  assert.deepEqual(found.controlnetDetector, { available: true });
  assert.equal(found.undo, 'Change models', 'choosing a detector is an ordinary, undoable model change');
  projectState.parse(found); // within the contract

  const absolute = await setDetector(path.join(modelsDir, 'onnx', 'hed.onnx'));
  assert.deepEqual(absolute.controlnetDetector, { available: true }, 'an absolute path is used as it is');

  fs.rmSync(path.join(modelsDir, 'onnx', 'hed.onnx'));
  assert.equal(session.state()!.controlnetDetector.available, false, 'a file removed after it was chosen is noticed on the next state');
  fs.writeFileSync(path.join(modelsDir, 'onnx', 'hed.onnx'), identityOnnxModel());

  session.undo();
  const undone = session.undo();
  assert.equal(undone.project.models.detector, 'onnx/missing.onnx');
  assert.match(undone.controlnetDetector.reason ?? '', /does not exist/);
  assert.equal(session.redo().controlnetDetector.available, true);

  const cleared = await setDetector(null);
  assert.equal(cleared.project.models.detector, null);
  assert.match(cleared.controlnetDetector.reason ?? '', /none is chosen/);

  const fake = await setDetector('onnx/fake.onnx');
  assert.equal(fake.controlnetDetector.available, false, 'a text file named .onnx is no detector');
  assert.match(fake.controlnetDetector.reason ?? '', /fake\.onnx is not an ONNX model/);
  session.dispose();
});
