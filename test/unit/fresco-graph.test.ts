// The UNet split for FRESCO and its decoder attention variants, on a small random-weight config: the parts
// compose to the whole UNet, and each attention switch does what ALGORITHM.md §6 says (off = plain, exactly).
import { test } from 'node:test';
import { smallUNetConfig, smallUNetWeights } from '../helpers/small-unet';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildGraph, crossFrameLayers, decoderSkips, type GraphSpec } from '../../native-models/src/graphs';
import { unetConfig } from '../../native-models/src/graphs/config';
import type { GraphOptions } from '../../native-models/src/onnx/graph';
import { encodeModel } from '../../native-models/src/onnx/model';
import { createSessionOn } from '../../native-models/src/runtime/providers';

const config = smallUNetConfig;
const weights = smallUNetWeights();
const cfg = unetConfig(config);
const layers = crossFrameLayers(cfg, weights);
const [H, W, T] = [10, 6, 7];
/** Tokens of the finest layers (2, 3: up block 2 at the full latent size). */
const N = H * W;

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; });
}

/** A FRESCO batch: frames' latents for both CFG branches, branch-major. */
function batchFeeds(frames: Float32Array[]): Record<string, ort.Tensor> {
  const n = 4 * H * W, B = 2 * frames.length;
  const sample = new Float32Array(B * n);
  frames.forEach((f, i) => { sample.set(f, i * n); sample.set(f, (frames.length + i) * n); });
  const ctx = random(2 * T * 12, 3), context = new Float32Array(B * T * 12);
  for (let b = 0; b < B; b++) context.set(ctx.subarray(b < frames.length ? 0 : T * 12, b < frames.length ? T * 12 : 2 * T * 12), b * T * 12);
  return {
    sample: new ort.Tensor('float32', sample, [B, 4, H, W]),
    timestep: new ort.Tensor('int64', BigInt64Array.of(601n), [1]),
    encoder_hidden_states: new ort.Tensor('float32', context, [B, T, 12]),
  };
}

async function run(spec: GraphSpec, feeds: Record<string, ort.Tensor>, options: GraphOptions = { precision: 'fp32' }) {
  const session = await createSessionOn(encodeModel(buildGraph(spec, weights, options)).toBytes(), 'cpu');
  try {
    const wanted = Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]]));
    return await session.run(wanted);
  } finally { await session.release(); }
}

/** Encoder then decoder blocks [1, end) with the given attention variant and extra inputs. */
async function decode(frames: Float32Array[], variant: Omit<Extract<GraphSpec, { part: 'unet_decoder' }>['variant'], 'first'>, extra: Record<string, ort.Tensor> = {}, options?: GraphOptions) {
  const feeds = batchFeeds(frames);
  const enc = await run({ part: 'unet_encoder' }, feeds, options);
  const first = await run({ part: 'unet_decoder', variant: { first: 0, end: 1 } }, { ...feeds, ...enc }, options);
  return run({ part: 'unet_decoder', variant: { first: 1, ...variant } }, { ...feeds, ...enc, ...first, ...extra }, options);
}

function maxDiff(a: ort.Tensor, b: ort.Tensor): number {
  assert.deepEqual(a.dims, b.dims);
  const x = a.data as Float32Array, y = b.data as Float32Array;
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

const int64 = (values: number[], dims = [values.length]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

test('given the UNet split at the up-block inputs, when encoder and decoder parts run in turn, then they compute the whole UNet', async () => {
  const frames = [random(4 * N, 1), random(4 * N, 2)];
  const whole = await run({ part: 'unet' }, batchFeeds(frames));
  const parts = await decode(frames, {});
  assert.ok(maxDiff(whole.noise_pred, parts.noise_pred) < 1e-5);
  assert.deepEqual(decoderSkips(cfg, weights, 0, 1), [5, 4, 3], 'block 0 reads two skips and sizes its upsampler by the third');
});

test('given two identical frames, when efficient cross-frame attention takes keys from frame 0 only, then it attends to half the tokens of full cross-frame attention and gives the same output', async () => {
  const frame = random(4 * N, 4);
  const finest = [2, 3];
  const index = (list: number[]) => Object.fromEntries(finest.map((i) => [`cross_frame_index.${i}`, int64(list)]));
  const full = await decode([frame, frame], { crossFrame: finest }, index(range(0, 2 * N)));
  const efficient = await decode([frame, frame], { crossFrame: finest }, index(range(0, N)));
  assert.ok(maxDiff(full.noise_pred, efficient.noise_pred) < 1e-5, 'duplicated keys do not change attention');
  const plain = await decode([frame, frame], {});
  assert.ok(maxDiff(plain.noise_pred, efficient.noise_pred) < 1e-5, 'and with nothing new it is the frame\'s own self-attention');
  const other = await decode([frame, random(4 * N, 5)], { crossFrame: finest }, index(range(0, N)));
  const otherPlain = await decode([frame, random(4 * N, 5)], {});
  assert.ok(maxDiff(other.noise_pred, otherPlain.noise_pred) > 1e-3, 'a different second frame now attends to frame 0');
});

test('given spatial-guided attention, then scale 0 equals the plain decoder and scale 0.2 changes it', async () => {
  const frames = [random(4 * N, 6)];
  const guideFrames = [random(4 * N, 7)];
  const guide = await decode(guideFrames, { record: true });
  const guides = Object.fromEntries([2, 3].map((i) => [`spatial_guide_tokens.${i}`, guide[`recorded_tokens.${i}`]]));
  const plain = await decode(frames, {});
  const scale = (s: number) => ({ spatial_guidance_scale: new ort.Tensor('float32', Float32Array.of(s), [1]), ...guides });
  const zero = await decode(frames, { spatial: [2, 3] }, scale(0));
  const guided = await decode(frames, { spatial: [2, 3] }, scale(0.2));
  assert.ok(maxDiff(plain.noise_pred, zero.noise_pred) < 1e-5);
  assert.ok(maxDiff(plain.noise_pred, guided.noise_pred) > 1e-4);
});

test('given temporal-guided attention on identical frames, then a trajectory through both frames equals one through the token alone, and it changes the plain output', async () => {
  const frame = random(4 * N, 8);
  const traj = (members: number) => {
    const index: number[] = [], bias: number[] = [];
    for (let t = 0; t < 2 * N; t++) for (let m = 0; m < members; m++) { index.push(m === 0 ? t : (t + N) % (2 * N)); bias.push(0); }
    return Object.fromEntries([2, 3].flatMap((i) => [[`trajectory_index.${i}`, int64(index, [2 * N, members])], [`trajectory_bias.${i}`, new ort.Tensor('float32', Float32Array.from(bias), [2 * N, members])]]));
  };
  const alone = await decode([frame, frame], { temporal: [2, 3] }, traj(1));
  const through = await decode([frame, frame], { temporal: [2, 3] }, traj(2));
  assert.ok(maxDiff(alone.noise_pred, through.noise_pred) < 1e-5);
  const plain = await decode([frame, frame], {});
  assert.ok(maxDiff(plain.noise_pred, through.noise_pred) > 1e-4);
  assert.equal(layers.length, 4);
});

test('given every FRESCO attention input at once, the fused-attention and fp16 flavours stay close to the plain fp32 graph', async () => {
  const frames = [random(4 * N, 9), random(4 * N, 10)];
  const guide = await decode([random(4 * N, 11), random(4 * N, 12)], { record: true });
  const index: number[] = [], bias: number[] = [];
  for (let t = 0; t < 2 * N; t++) for (let m = 0; m < 2; m++) { index.push(m === 0 ? t : (t + N) % (2 * N)); bias.push(m === 0 || t % 3 ? 0 : -10000); }
  const extra = Object.fromEntries([2, 3].flatMap((i) => [
    [`spatial_guide_tokens.${i}`, guide[`recorded_tokens.${i}`]],
    [`trajectory_index.${i}`, int64(index, [2 * N, 2])],
    [`trajectory_bias.${i}`, new ort.Tensor('float32', Float32Array.from(bias), [2 * N, 2])],
    [`cross_frame_index.${i}`, int64(range(0, N + 7))],
  ]));
  extra.spatial_guidance_scale = new ort.Tensor('float32', Float32Array.of(0.2), [1]);
  const variant = { spatial: [2, 3], temporal: [2, 3], crossFrame: [2, 3] };
  const plain = await decode(frames, variant, extra);
  const fused = await decode(frames, variant, extra, { precision: 'fp32', fusedOps: true });
  const half = await decode(frames, variant, extra, { precision: 'fp16' });
  const scale = (plain.noise_pred.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(maxDiff(plain.noise_pred, fused.noise_pred) < 1e-5 * Math.max(1, scale));
  assert.ok(maxDiff(plain.noise_pred, half.noise_pred) < 2e-2 * Math.max(1, scale), 'fp16 within 2% of the output range');
});
