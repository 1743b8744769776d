// A render whose process is killed mid-way must not leave its keyframe "rendering" for ever: the next
// render (or open) gives it back its earlier status, or "failed" when it has no image, with a note.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writePng } from '../../main/engine/media/image-files';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { keyframeAt, setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../preload/project-schema';
import { recoverInterruptedRenders } from '../../main/engine/render/render-claims';
import { renderKeyframes } from '../../main/engine/render/render-project';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { FIXTURES, graphCache, scene, SIZE, testParams } from './keyframe-render-scene';

const ROOT = path.resolve(__dirname, '../..');
let work: string;
let projectFile: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-interrupted-'));
  projectFile = path.join(work, 'two.rerender');
  const paths = projectPaths(projectFile);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  for (let i = 0; i < 2; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(i));
  const p: Project = {
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: 'two',
    source: { path: 'two.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: 0.2, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: 2, fps: { num: 10, den: 1 } },
    mode: 'independent',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1 },
    render: testParams({ steps: 2 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  };
  await writeProjectFile(projectFile, setKeyframeFrames(p, [0, 1]));
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Starts `rerender render --frame N` with many steps and kills it as soon as the project says "rendering". */
async function killRenderMidway(frame: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), 'render', projectFile, '--frame', String(frame), '--steps', '400', '--strength', '1'], {
    cwd: ROOT, env: { ...process.env, RERENDER_MODELS: work }, stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    for (;;) {
      const p = await readProjectFile(projectFile).catch(() => undefined); // read while the child writes
      if (p && keyframeAt(p, frame)?.status === 'rendering') break;
      assert.equal(child.exitCode, null, 'the render process ended before it started rendering');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

test('given a render process killed mid-render, when the project is opened again, then a keyframe without an image is failed with a note and one with an image keeps it and its earlier status', async () => {
  const runtime = new ModelRuntime({ cacheDir: graphCache('keyframe-render-interrupted'), providers: ['cpu'] });
  try {
    await renderKeyframes({ projectFile, runtime, modelsDir: work, target: { frame: 0 } });
  } finally {
    await runtime.releaseAll();
  }
  const rendered = keyframeAt(await readProjectFile(projectFile), 0)!;
  assert.equal(rendered.status, 'done');

  await killRenderMidway(1);
  assert.equal(keyframeAt(await readProjectFile(projectFile), 1)!.status, 'rendering', 'the killed process could not say anything');
  assert.deepEqual(await recoverInterruptedRenders(projectFile), [1]);
  let k = keyframeAt(await readProjectFile(projectFile), 1)!;
  assert.equal(k.status, 'failed');
  assert.match(k.note ?? '', /interrupted/);

  await killRenderMidway(0);
  assert.deepEqual(await recoverInterruptedRenders(projectFile), [0]);
  k = keyframeAt(await readProjectFile(projectFile), 0)!;
  assert.equal(k.status, 'done');
  assert.equal(k.image, rendered.image);
  assert.equal(k.revision, rendered.revision);
  assert.match(k.note ?? '', /interrupted/);
  assert.deepEqual(await recoverInterruptedRenders(projectFile), [], 'nothing left to recover');
});
