// Given tiny ONNX flow models written in the test (their output is a known function of the
// frames), a user-chosen learned flow model loads, runs on ONNX Runtime's CPU provider, feeds the
// flow cache, and bad models are refused with messages that say what a flow model must look like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LearnedFlowModel, learnedFlowJob } from '../../main/engine/flow/learned-flow';
import { JOBS, parseJobParams } from '../../main/engine/jobs/job-registry';
import { CancelToken } from '../../native-models/src/errors';
import { FlowCache, flowSetKey } from '../../main/engine/flow/flow-cache';
import { writePng } from '../../main/engine/media/image-files';
import { frameFileName } from '../../main/engine/project/paths';
import type { Image } from '../../native-models/src/image';
import { onnxModel, type Dim } from '../helpers/onnx-writer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'learned-flow-'));

/** flow = 0.5 · (b − a) on the R and G channels: Sub, Slice(channels 0..2), Mul. */
function halfDifferenceModel(file: string, hw: [Dim, Dim] = ['H', 'W']): string {
  fs.writeFileSync(file, onnxModel({
    inputs: [['frame_a', [1, 3, ...hw]], ['frame_b', [1, 3, ...hw]]],
    outputs: [['flow', [1, 2, ...hw]]],
    initializers: [
      { name: 'starts', dims: [1], int64: [0] },
      { name: 'ends', dims: [1], int64: [2] },
      { name: 'axes', dims: [1], int64: [1] },
      { name: 'half', dims: [], float: [0.5] },
    ],
    nodes: [
      { op: 'Sub', inputs: ['frame_b', 'frame_a'], outputs: ['diff'] },
      { op: 'Slice', inputs: ['diff', 'starts', 'ends', 'axes'], outputs: ['rg'] },
      { op: 'Mul', inputs: ['rg', 'half'], outputs: ['flow'] },
    ],
  }));
  return file;
}

function frame(w: number, h: number, f: (x: number, y: number, c: number) => number): Image {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = f(x, y, c);
  return { width: w, height: h, channels: 3, data };
}

test('given a flow model, when two frames are run, then the flow is its known function of them, interleaved (dx, dy)', async () => {
  const model = await LearnedFlowModel.load(halfDifferenceModel(path.join(dir, 'half.onnx')));
  const a = frame(7, 5, (x, y, c) => 10 * x + y + c), b = frame(7, 5, (x, y, c) => 20 * x + 3 * y + 2 * c);
  const flow = await model.computeForward(a, b);
  assert.equal(flow.width, 7);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) {
    const i = y * 7 + x;
    assert.equal(flow.data[2 * i], 0.5 * ((20 * x + 3 * y) - (10 * x + y)));
    assert.equal(flow.data[2 * i + 1], 0.5 * ((20 * x + 3 * y + 2) - (10 * x + y + 1)));
  }
  const pair = await model.computePair(a, b);
  const i = (2 * 7 + 3) * 2;
  assert.equal(pair.backward.data[i], -pair.forward.data[i]);
  await model.dispose();
});

test('given a learned model as the estimator, when the flow cache fills, then it stores the model\'s flows under its own key', async () => {
  const model = await LearnedFlowModel.load(path.join(dir, 'half.onnx'));
  const frames = path.join(dir, 'frames');
  fs.mkdirSync(frames);
  await writePng(path.join(frames, frameFileName(0)), frame(8, 6, () => 10));
  await writePng(path.join(frames, frameFileName(1)), frame(8, 6, () => 16));
  const cache = await FlowCache.open({ dir: path.join(dir, 'flow'), framesDir: frames, sourceKey: 'k', estimator: model });
  const pair = await cache.pair(0);
  assert.ok(pair.forward.data.every((v) => v === 3));
  assert.ok(pair.backward.data.every((v) => v === -3));
  assert.match(model.id, /^onnx\//);
  await model.dispose();
});

test('given models that break the contract, when loaded or run, then each is refused with a message naming the file and the rule', async () => {
  const oneInput = path.join(dir, 'one-input.onnx');
  fs.writeFileSync(oneInput, onnxModel({ inputs: [['x', [1, 3, 'H', 'W']]], outputs: [['y', [1, 3, 'H', 'W']]], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] }));
  await assert.rejects(LearnedFlowModel.load(oneInput), /one-input\.onnx: the model has 1 inputs and 1 outputs; a flow model takes two float32 inputs/);

  const fixed = await LearnedFlowModel.load(halfDifferenceModel(path.join(dir, 'fixed.onnx'), [8, 8]));
  await assert.rejects(fixed.computeForward(frame(16, 8, () => 0), frame(16, 8, () => 0)), /fixed\.onnx: the model takes frames of 8×8 only, these are 16×8/);
  await fixed.dispose();

  const notOnnx = path.join(dir, 'text.onnx');
  fs.writeFileSync(notOnnx, 'not a model');
  await assert.rejects(LearnedFlowModel.load(notOnnx), /text\.onnx: cannot load the ONNX flow model/);
  await assert.rejects(LearnedFlowModel.load(path.join(dir, 'missing.onnx')), /does not exist/);
});

test('given the inference-worker job, when run over a frame range, then the cache holds the model\'s flows and progress reaches 1', async () => {
  const frames = path.join(dir, 'job-frames');
  fs.mkdirSync(frames);
  for (let i = 0; i < 3; i++) await writePng(path.join(frames, frameFileName(i)), frame(6, 4, () => 10 + 4 * i));
  const fractions: number[] = [];
  const result = await learnedFlowJob(
    { modelFile: path.join(dir, 'half.onnx'), framesDir: frames, flowDir: path.join(dir, 'job-flow'), sourceKey: 'k', first: 0, last: 2 },
    { progress: (f) => fractions.push(f), cancel: new CancelToken() },
  );
  assert.equal(result.pairs, 2);
  assert.deepEqual(fractions, [0.5, 1]);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'job-flow', flowSetKey('k', result.estimator))).filter((n) => n.endsWith('.qflo')).sort(), ['00000.bwd.qflo', '00000.fwd.qflo', '00001.bwd.qflo', '00001.fwd.qflo']);
  // The worker checks parameters against the job registry before the job runs.
  assert.throws(() => parseJobParams('computeLearnedFlows', JOBS.computeLearnedFlows.params, { modelFile: 'x.onnx' }), /bad parameters for computeLearnedFlows: framesDir/);
});
