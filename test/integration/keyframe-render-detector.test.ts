// Soft-edge and depth ControlNets with a detector the user supplies as ONNX: tiny detectors are built in
// the test with the project's own ONNX writer, and their output is what conditions the ControlNet; a
// project's own detector (models.detector) is used when a render names none.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cannyEdges } from '../../native-models/src/canny';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { newProjectDocument } from '../../main/engine/project/defaults';
import { keyframeAt, setKeyframeFrames } from '../../main/engine/project/keyframes';
import { resolveInProject } from '../../main/engine/project/confinement';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import type { Image } from '../../native-models/src/image';
import type { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { GraphBuilder } from '../../native-models/src/onnx/graph';
import { writeModel } from '../../native-models/src/onnx/model';
import type { RenderParams } from '../../preload/project-schema';
import { controlImage } from '../../main/engine/render/control-map';
import type { DiffusionModels } from '../../main/engine/render/diffusion-models';
import { renderPlain } from '../../main/engine/render/keyframe-render';
import { renderKeyframes } from '../../main/engine/render/render-project';
import { FIXTURES, openTinyModels, scene, SIZE, testParams } from './keyframe-render-scene';

let runtime: ModelRuntime;
let models: DiffusionModels;
let work: string;

before(async () => {
  ({ runtime, models } = await openTinyModels('keyframe-render-detector'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-detectors-'));
});

after(async () => {
  await models.close();
  await runtime.releaseAll();
  fs.rmSync(work, { recursive: true, force: true });
});

type Dims = Array<number | string>;

/** Writes a one-input, one-output float graph to `<name>.onnx` and returns its path. */
async function detector(name: string, inputDims: Dims, outputDims: Dims, body: (g: GraphBuilder, image: string) => string): Promise<string> {
  const g = new GraphBuilder(name, { precision: 'fp32' });
  g.output(body(g, g.input('image', 'float32', inputDims)), 'map', outputDims);
  const file = path.join(work, `${name}.onnx`);
  await writeModel(g.toModel(), file);
  return file;
}

const ANY_SIZE: Dims = [1, 3, 'H', 'W'];

/** A 1×1 convolution of the RGB image to `weights.length` maps (one weight triple per map). */
function conv1x1(weights: number[][], bias: number[]) {
  return (g: GraphBuilder, image: string) => g.op('Conv', [
    image, g.floats(weights.flat(), [weights.length, 3, 1, 1]), g.floats(bias, [bias.length]),
  ]);
}

/** Per-pixel mean of R, G, B: a map already in [0, 1]. */
const channelMean = conv1x1([[1 / 3, 1 / 3, 1 / 3]], [0]);

function controlSettings(type: RenderParams['controlnet']['type']): RenderParams['controlnet'] {
  return { ...testParams().controlnet, type, strength: 1 };
}

/** The grey levels of a [3, H, W] conditioning image's first plane, in 0–255. */
function levels(planar: { data: Float32Array; width: number; height: number }): number[] {
  return Array.from(planar.data.subarray(0, planar.width * planar.height), (v) => Math.round(v * 255));
}

async function render(type: RenderParams['controlnet']['type'], file?: string): Promise<Image> {
  const params = testParams({ controlnet: controlSettings(type) });
  return (await renderPlain({ models }, { frame: scene(0), params, detector: file })).image;
}

test('given a soft-edge detector whose map lies in [0, 1], when the conditioning image is made, then it is that map as it is, in all three channels', async () => {
  const frame = scene(0);
  const map = (await controlImage(frame, controlSettings('softedge'), true, await detector('mean', ANY_SIZE, [1, 1, 'H', 'W'], channelMean)))!;
  const want = Array.from({ length: SIZE * SIZE }, (_, i) => Math.round((frame.data[3 * i] + frame.data[3 * i + 1] + frame.data[3 * i + 2]) / 3));
  assert.ok(levels(map).every((v, i) => Math.abs(v - want[i]) <= 1), 'the channel mean, to 8-bit rounding');
  const n = SIZE * SIZE;
  assert.deepEqual(map.data.subarray(n, 2 * n), map.data.subarray(0, n));
  assert.deepEqual(map.data.subarray(2 * n), map.data.subarray(0, n));
});

test('given a depth detector with no fixed scale, when the conditioning image is made, then its output is stretched to the full range', async () => {
  const file = await detector('disparity', ANY_SIZE, [1, 'H', 'W'], (g, image) => g.op('Squeeze', [conv1x1([[4, 2, 1]], [-3])(g, image), g.int64([1])]));
  const map = levels((await controlImage(scene(0), controlSettings('depth'), true, file))!);
  assert.equal(Math.min(...map), 0);
  assert.equal(Math.max(...map), 255);
});

test('given a detector exported for a fixed 64×64 input, when used on a 128×128 frame, then the frame is resized to it and its map back to the frame', async () => {
  const frame = scene(0);
  const fixed = await detector('mean-64', [1, 3, 64, 64], [1, 1, 64, 64], channelMean);
  const any = await detector('mean-any', ANY_SIZE, [1, 1, 'H', 'W'], channelMean);
  const small = levels((await controlImage(frame, controlSettings('softedge'), true, fixed))!);
  const full = levels((await controlImage(frame, controlSettings('softedge'), true, any))!);
  assert.equal(small.length, full.length);
  const mean = small.reduce((a, v, i) => a + Math.abs(v - full[i]), 0) / small.length;
  assert.ok(mean < 8, `mean difference ${mean.toFixed(2)} levels: the same map at half the resolution`);
});

test('given a soft-edge detector that outputs exactly the canny map, when a keyframe is rendered, then the render equals the canny ControlNet\'s; a different detector gives a different render', async () => {
  const frame = scene(0);
  const canny = await cannyEdges(frame, { low: testParams().controlnet.cannyLow, high: testParams().controlnet.cannyHigh });
  const edgeMap = Array.from(canny.data, (v) => v / 255);
  // The map is a constant of the graph; the image still flows through it, so the detector does run.
  const cannyDetector = await detector('canny-constant', [1, 3, SIZE, SIZE], [1, 1, SIZE, SIZE], (g, image) =>
    g.op('Add', [g.op('Mul', [channelMean(g, image), g.scalar(0)]), g.floats(edgeMap, [1, 1, SIZE, SIZE])]));

  const withCanny = await render('canny');
  assert.deepEqual(await render('softedge', cannyDetector), withCanny);
  // The fixture ControlNet's random weights make its residuals depend only weakly on the map (its biases
  // dominate), so another map changes the render by rounding of a few pixels; it must change it.
  const byMean = await render('softedge', await detector('mean-render', ANY_SIZE, [1, 1, 'H', 'W'], channelMean));
  assert.notDeepEqual(byMean.data, withCanny.data);
});

test('given a detector that takes a one-channel image, or outputs two maps, or a vector of scores, when a keyframe is rendered, then the error names the detector file and the shape expected', async () => {
  const grey = await detector('grey-input', [1, 1, 'H', 'W'], [1, 1, 'H', 'W'], (g, image) => g.op('Identity', [image]));
  await assert.rejects(render('depth', grey), (err: Error) => err.message.includes(grey) && /\[1, 1, H, W\]/.test(err.message) && /RGB image \[1, 3, H, W\]/.test(err.message));

  const twoMaps = await detector('two-maps', ANY_SIZE, [1, 2, 'H', 'W'], conv1x1([[1, 0, 0], [0, 1, 0]], [0, 0]));
  await assert.rejects(render('softedge', twoMaps), (err: Error) => err.message.includes(twoMaps) && /\[1, 2, 128, 128\]/.test(err.message) && /expected one map/.test(err.message));

  const scores = await detector('scores', ANY_SIZE, [1, 3], (g, image) => g.op('ReduceMean', [image], { axes: { ints: [2, 3] }, keepdims: { i: 0 } }));
  await assert.rejects(render('depth', scores), (err: Error) => err.message.includes(scores) && /\[1, 3\]/.test(err.message));

  await assert.rejects(render('depth', path.join(work, 'missing.onnx')), (err: Error) => err.message.includes('missing.onnx') && /does not exist/.test(err.message));
});

/**
 * A one-frame project (the scene, one keyframe) rendering independently with a soft-edge ControlNet and
 * `detector` as its detector, in its own folder `name`; the models folder is the test's folder.
 */
async function detectorProject(name: string, detector: string): Promise<string> {
  const projectFile = path.join(work, name, 'scene.rerender');
  fs.mkdirSync(projectPaths(projectFile).framesDir, { recursive: true });
  await writePng(path.join(projectPaths(projectFile).framesDir, frameFileName(0)), scene(0));
  const p = newProjectDocument({
    name: 'scene',
    source: { path: 'scene.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: 0.1, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: 1, fps: { num: 10, den: 1 } },
  });
  await writeProjectFile(projectFile, setKeyframeFrames({
    ...p, mode: 'independent',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1, detector },
    render: testParams({ controlnet: controlSettings('softedge') }),
  }, [0]));
  return projectFile;
}

test('given a project whose detector is a file in the models folder, named relative to it, when its keyframe is rendered with no detector in the request, then the render is the one that detector gives', async () => {
  const file = await detector('project-mean', ANY_SIZE, [1, 1, 'H', 'W'], channelMean);
  const projectFile = await detectorProject('chosen', path.relative(work, file));
  const summary = await renderKeyframes({ projectFile, target: { frame: 0 }, runtime, modelsDir: work });
  assert.deepEqual(summary.rendered.map((r) => r.frame), [0]);
  const k = keyframeAt(await readProjectFile(projectFile), 0)!;
  assert.equal(k.status, 'done');
  const rendered = await readRgb(resolveInProject(projectFile, k.image!));
  assert.deepEqual(rendered, await render('softedge', file));
});

test('given a project whose detector file is missing, when its keyframe is rendered, then the error names the file where it was looked for', async () => {
  const projectFile = await detectorProject('missing', 'detectors/missing.onnx');
  const missing = path.join(work, 'detectors', 'missing.onnx');
  await assert.rejects(renderKeyframes({ projectFile, target: { frame: 0 }, runtime, modelsDir: work }),
    (err: Error) => err.message.includes(missing) && /does not exist/.test(err.message));
  const k = keyframeAt(await readProjectFile(projectFile), 0)!;
  assert.ok(k.note?.includes(missing), 'the keyframe says why its render failed');
});
