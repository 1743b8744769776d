// FRESCO mode on a project through the CLI: every keyframe is rendered once in batches (the prefix keyframes
// of later batches keep their first image), the project file records the images, the switches reach the
// renderer and are saved, background smoothing without a saliency model is reported unavailable with the
// reason, one keyframe regenerates alone (with the first and the previous keyframe as its batch), and
// render records make FRESCO keyframes stale when their batch or their settings change.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writePng } from '../../main/engine/media/image-files';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { findStaleKeyframes, readRecord } from '../../main/engine/render/render-records';
import { onnxModel } from '../helpers/onnx-writer';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../preload/project-schema';
import { FIXTURES, graphCache, scene, SIZE, testParams } from './keyframe-render-scene';

const ROOT = path.resolve(__dirname, '../..');
let work: string;
let projectFile: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-fresco-project-'));
  projectFile = path.join(work, 'pan.rrproj');
  const paths = projectPaths(projectFile);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  for (let i = 0; i < 8; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(2 * i));
  let p: Project = {
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: 'pan',
    source: { path: 'pan.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: 0.8, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: 8, fps: { num: 10, den: 1 } },
    mode: 'fresco',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1 },
    render: testParams({ steps: 4 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  };
  p = setKeyframeFrames(p, [0, 2, 4, 6, 7]);
  await writeProjectFile(projectFile, p);
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]) {
  return cliCommand('fresco', ...args);
}

function cliCommand(command: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), command, projectFile, ...args, '--json'], {
    encoding: 'utf8', cwd: ROOT, timeout: 300_000, env: { ...process.env, RERENDER_MODELS: graphCache('fresco-project') },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('given five keyframes and batches of 3, when rendered with `rerender fresco`, then each keyframe gets one image and later batches carry the first and the previous last keyframe', async () => {
  const summary = cli('--batch-size', '3', '--background-smoothing');
  assert.deepEqual(summary.rendered.map((r: { frame: number }) => r.frame), [0, 2, 4, 6, 7]);
  assert.equal(summary.fresco.batches.length, 3, '[0, 2, 4], [0, 4, 6], [0, 6, 7]');
  assert.match(summary.warnings.join('\n'), /background smoothing is unavailable: .*salient-object model/);
  const p = await readProjectFile(projectFile);
  assert.equal(p.fresco?.batchSize, 3, 'the switches are saved in the project');
  const byId = new Map(p.keyframes.map((k) => [k.id, k.frame]));
  const batchOf: Record<number, number[]> = { 0: [2, 4], 2: [0, 4], 4: [0, 2], 6: [0, 4], 7: [0, 6] };
  for (const k of p.keyframes) {
    assert.equal(k.revision, 1, `keyframe at ${k.frame} rendered once (prefix renders are discarded)`);
    assert.equal(k.status, 'done');
    assert.ok(fs.existsSync(path.join(path.dirname(projectFile), k.image!)));
    const record = readRecord(projectFile, k)!;
    assert.equal(record.mode, 'fresco');
    assert.deepEqual(record.dependsOn.map((d) => byId.get(d.id)).sort((a, b) => a! - b!), batchOf[k.frame], `keyframe at ${k.frame} records its batch`);
  }
  // Efficient cross-frame attention ran in every batch, with fewer keys than full attention.
  for (const b of summary.fresco.batches) assert.ok(b.crossFrameKeys.every((k: { keys: number; full: number }) => k.keys < k.full));
});

test('given the switches off on the command line, then no FRESCO component runs, and the earlier images go to the history', async () => {
  const summary = cli('--batch-size', '8', '--no-background-smoothing', '--no-spatial', '--no-temporal', '--no-cross-frame', '--no-optimise');
  assert.equal(summary.fresco.batches.length, 1);
  assert.deepEqual(summary.fresco.batches[0], { crossFrameKeys: [], optimisation: [] });
  assert.deepEqual(summary.warnings, []);
  for (const k of (await readProjectFile(projectFile)).keyframes) {
    assert.equal(k.revision, 2);
    assert.equal(k.history.length, 1, `keyframe at ${k.frame} keeps its first render in the history`);
  }
});

test('given a project in FRESCO mode, when `rerender render` runs (with or without --mode fresco), then it renders FRESCO batches with the saved switches', () => {
  for (const mode of [[], ['--mode', 'fresco']]) {
    const summary = cliCommand('render', ...mode);
    assert.equal(summary.fresco.batches.length, 1);
    assert.deepEqual(summary.fresco.batches[0], { crossFrameKeys: [], optimisation: [] });
  }
});

test('given a rendered FRESCO project, when one keyframe is regenerated with a new seed, then only it changes, rendered with the first keyframe and the one before it', async () => {
  const before = await readProjectFile(projectFile);
  const summary = cliCommand('render', '--frame', '4', '--seed', '7');
  assert.deepEqual(summary.rendered.map((r: { frame: number }) => r.frame), [4]);
  const after = await readProjectFile(projectFile);
  for (const k of after.keyframes) {
    const old = before.keyframes.find((x) => x.id === k.id)!;
    if (k.frame === 4) {
      assert.equal(k.revision, old.revision + 1);
      assert.equal(k.overrides.seed, 7);
      assert.equal(k.history.at(-1)!.image, old.image, 'the earlier image is in the history');
      const record = readRecord(projectFile, k)!;
      assert.deepEqual(record.dependsOn.map((d) => d.frame).sort((a, b) => a - b), [0, 2]);
      assert.equal(record.seed, 7);
    } else {
      assert.deepEqual(k, old, `keyframe at ${k.frame} is untouched`);
    }
  }
});

test('given a rendered FRESCO project, when a keyframe of a batch moves or a FRESCO switch changes, then the keyframes rendered with it are stale, saying why', async () => {
  const p = await readProjectFile(projectFile);
  const moved = { ...p, keyframes: p.keyframes.map((k) => (k.frame === 2 ? { ...k, frame: 3 } : k)) };
  // Every keyframe was last rendered in a batch with the one at 2 (the whole project in one batch; 4 regenerated with 0 and 2).
  const stale = findStaleKeyframes(projectFile, moved);
  assert.deepEqual(stale.map((s) => s.frame), [0, 3, 4, 6, 7]);
  for (const s of stale) assert.match(s.reason, s.frame === 3 ? /its render settings changed/ : /FRESCO batch moved from frame 2 to 3/);
  const switched = findStaleKeyframes(projectFile, { ...p, fresco: { ...p.fresco!, spatialAttention: true } });
  assert.deepEqual(switched.map((s) => s.frame), [0, 2, 4, 6, 7]);
  assert.ok(switched.every((s) => /settings changed/.test(s.reason)));
  assert.deepEqual(findStaleKeyframes(projectFile, p), [], 'nothing is stale as rendered');
});

test('given a saliency model chosen in the project, when background smoothing is on, then it runs (no unavailable warning) and every keyframe renders', async () => {
  const model = path.join(work, 'saliency.onnx');
  // A stand-in salient-object model: brightness as a 1×1 convolution.
  fs.writeFileSync(model, onnxModel({
    inputs: [['image', [1, 3, 'h', 'w']]], outputs: [['saliency', [1, 1, 'h', 'w']]],
    nodes: [{ op: 'Conv', inputs: ['image', 'weight'], outputs: ['saliency'] }],
    initializers: [{ name: 'weight', dims: [1, 3, 1, 1], float: [0.08, 0.08, 0.08] }],
  }));
  const p = await readProjectFile(projectFile);
  await writeProjectFile(projectFile, { ...p, fresco: { ...p.fresco!, saliencyModel: model } });
  const summary = cliCommand('render', '--background-smoothing');
  assert.deepEqual(summary.warnings, []);
  assert.equal(summary.rendered.length, 5);
});

test('given keyframes rendered in FRESCO mode, when the project switches to the Rerender method, then every one is stale, naming both methods', async () => {
  const p = await readProjectFile(projectFile);
  const stale = findStaleKeyframes(projectFile, { ...p, mode: 'rerender' });
  assert.deepEqual(stale.map((s) => s.frame), [0, 2, 4, 6, 7]);
  for (const s of stale) assert.match(s.reason, /rendered with the FRESCO method; the project now uses Rerender/);
});
