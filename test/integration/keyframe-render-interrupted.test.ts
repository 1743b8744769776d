// A render whose process is killed mid-way leaves the project as it was: a job never writes the project
// file (issue 15: "rendering" is job state, not a status in the document; claim files are gone). This
// test used to check the claim-file recovery of the old design; it now checks that there is nothing to
// recover. A project saved by an older version with a keyframe left "rendering" opens with a truthful status.
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
import { settleInterruptedRenders } from '../../main/engine/project/keyframes';
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

/** Starts `rerender render --frame N` with many steps and kills it once it reports sampler steps. */
async function killRenderMidway(frame: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), 'render', projectFile, '--frame', String(frame), '--steps', '400', '--strength', '1'], {
    cwd: ROOT, env: { ...process.env, RERENDER_MODELS: work }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let err = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (/keyframe at frame/.test(err)) resolve(); });
      child.once('exit', () => reject(new Error(`the render process ended before it started rendering: ${err.slice(-500)}`)));
    });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

test('given a render process killed mid-render, then the project file is as it was before: no keyframe is left "rendering" and there is nothing to recover', async () => {
  const runtime = new ModelRuntime({ cacheDir: graphCache('keyframe-render-interrupted'), providers: ['cpu'] });
  try {
    await renderKeyframes({ projectFile, runtime, modelsDir: work, target: { frame: 0 } });
  } finally {
    await runtime.releaseAll();
  }
  const rendered = keyframeAt(await readProjectFile(projectFile), 0)!;
  assert.equal(rendered.status, 'done');

  // The command line saves the settings it was given (--steps, --strength) before it renders; nothing
  // else is written until a render finishes.
  const state = async () => (await readProjectFile(projectFile)).keyframes.map(({ overrides: _o, ...k }) => k);
  for (const frame of [1, 0]) {
    const before = await state();
    await killRenderMidway(frame);
    assert.deepEqual(await state(), before, `the killed render of frame ${frame} left every keyframe as it was`);
  }
  const p = await readProjectFile(projectFile);
  assert.equal(keyframeAt(p, 0)!.image, rendered.image);
  assert.equal(keyframeAt(p, 1)!.status, 'empty');
  assert.ok(!fs.readdirSync(projectPaths(projectFile).keyframesDir).some((n) => n.endsWith('.rendering.json')), 'no claim files');
});

test('given a project saved by an older version with keyframes left "rendering", when settled on open, then one with an image keeps it and one without is failed, each with a note', async () => {
  const p = await readProjectFile(projectFile);
  const old = { ...p, keyframes: p.keyframes.map((k) => ({ ...k, status: 'rendering' as const })) };
  const settled = settleInterruptedRenders(old);
  const [k0, k1] = [keyframeAt(settled, 0)!, keyframeAt(settled, 1)!];
  assert.equal(k0.status, 'stale');
  assert.equal(k0.image, keyframeAt(p, 0)!.image);
  assert.match(k0.note ?? '', /interrupted/);
  assert.equal(k1.status, 'failed');
  assert.match(k1.note ?? '', /interrupted/);
  assert.equal(settleInterruptedRenders(p), p, 'nothing to settle');
});
