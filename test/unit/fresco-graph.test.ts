// The UNet split for FRESCO and its decoder attention variants, on a small random-weight config: the parts
// compose to the whole UNet, one layer's attention matches the published formulas computed directly in
// JavaScript, and each attention switch does what docs/METHOD.md §6 says (off = plain, exactly).
import { test } from 'node:test';
import { smallUNetConfig, smallUNetWeights } from '../helpers/small-unet';
import assert from 'node:assert/strict';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { buildGraph, crossFrameLayers, decoderSkips, type GraphSpec } from '../../native-models/src/graphs';
import { unetConfig } from '../../native-models/src/graphs/config';
import { frescoSelfAttention, TEMPORAL_SCALE } from '../../native-models/src/graphs/fresco-attention';
import { GraphBuilder, type GraphOptions } from '../../native-models/src/onnx/graph';
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

// One attention layer on its own, against the published formulas written out in plain JavaScript.
const layer = layers[2];
/** Channels, heads, frames per branch, tokens per frame. */
const [C, heads, F, n] = [weights.get(`${layer.module}.to_q.weight`).shape[0], 2, 2, 5];
const d = C / heads;

/** x·Wᵀ + b per row, as torch's Linear. */
function linearJs(x: Float32Array, name: string): Float32Array {
  const weight = weights.get(`${layer.module}.${name}.weight`), [outs, ins] = weight.shape;
  const bias = weights.has(`${layer.module}.${name}.bias`) ? weights.get(`${layer.module}.${name}.bias`).data : undefined;
  const rows = x.length / ins, y = new Float32Array(rows * outs);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outs; o++) {
    let sum = bias ? bias[o] : 0;
    for (let i = 0; i < ins; i++) sum += x[r * ins + i] * weight.data[o * ins + i];
    y[r * outs + o] = sum;
  }
  return y;
}

/** Head h of row r: Σ_j softmax_j(scale·q_r·k_j/√d + bias_j) · v_j over the listed rows j. */
function mixRow(q: Float32Array, k: Float32Array, v: Float32Array, r: number, members: number[], scale: number, bias: number[], out: Float32Array) {
  for (let h = 0; h < heads; h++) {
    const logits = members.map((j, m) => {
      let dot = 0;
      for (let e = h * d; e < (h + 1) * d; e++) dot += q[r * C + e] * k[j * C + e];
      return (scale * dot) / Math.sqrt(d) + bias[m];
    });
    const top = Math.max(...logits), p = logits.map((l) => Math.exp(l - top)), total = p.reduce((a, b) => a + b, 0);
    for (let e = h * d; e < (h + 1) * d; e++) out[r * C + e] = members.reduce((sum, j, m) => sum + (p[m] / total) * v[j * C + e], 0);
  }
}

interface LayerCase { guide?: Float32Array; lambda?: number; trajectory?: { index: number[]; bias: number[]; length: number }; crossFrame?: number[] }

/**
 * FRESCO's attn1 as published, for 2F rows (branch-major) of n tokens: Q' = softmax(λ·Q_r K_rᵀ/√d)·Q; the
 * main attention of Q' to the frame's (or the cross-frame set's) K, V; then along each trajectory
 * out'_t = Σ_s softmax_s(0.2·q_t·k_s/√d + bias_ts)·out_s with the raw q, k; then to_out.
 */
function publishedAttention(tokens: Float32Array, c: LayerCase): Float32Array {
  const rows = 2 * F * n, all = (from: number, count: number) => range(from, from + count), zeros = (count: number) => new Array<number>(count).fill(0);
  const q = linearJs(tokens, 'to_q'), k = linearJs(tokens, 'to_k'), v = linearJs(tokens, 'to_v');
  let guided = q;
  if (c.guide) {
    const qr = linearJs(c.guide, 'to_q'), kr = linearJs(c.guide, 'to_k');
    guided = new Float32Array(q.length);
    for (let r = 0; r < rows; r++) mixRow(qr, kr, q, r, all(r - (r % n), n), c.lambda!, zeros(n), guided);
  }
  let out = new Float32Array(q.length);
  for (let r = 0; r < rows; r++) {
    const branch = Math.floor(r / (F * n)) * F * n;
    const keys = c.crossFrame ? c.crossFrame.map((m) => branch + m) : all(r - (r % n), n);
    mixRow(guided, k, v, r, keys, 1, zeros(keys.length), out);
  }
  if (c.trajectory) {
    const { index, bias, length } = c.trajectory, mixed = new Float32Array(out.length);
    for (let r = 0; r < rows; r++) {
      const branch = Math.floor(r / (F * n)) * F * n, t = r - branch, slots = range(t * length, (t + 1) * length);
      mixRow(q, k, out, r, slots.map((s) => branch + index[s]), TEMPORAL_SCALE, slots.map((s) => bias[s]), mixed);
    }
    out = mixed;
  }
  return linearJs(out, 'to_out.0');
}

/** The same layer as an ONNX graph holding only frescoSelfAttention. */
async function graphAttention(tokens: Float32Array, c: LayerCase, options: GraphOptions = { precision: 'fp32' }): Promise<Float32Array> {
  const g = new GraphBuilder('fresco_attention', options);
  const dims = [2 * F, n, C], T = c.trajectory?.length ?? 0;
  const out = frescoSelfAttention(g, weights, layer.module, g.input('tokens', 'float32', dims), heads, {
    spatialGuide: c.guide ? g.input('guide', 'float32', dims) : undefined,
    spatialScale: c.guide ? g.input('scale', 'float32', [1]) : undefined,
    trajectory: c.trajectory ? { index: g.input('trajectory_index', 'int64', [F * n, T]), bias: g.input('trajectory_bias', 'float32', [F * n, T]) } : undefined,
    crossFrameIndex: c.crossFrame ? g.input('cross_frame_index', 'int64', [c.crossFrame.length]) : undefined,
  });
  g.output(out, 'out', dims);
  const feeds: Record<string, ort.Tensor> = { tokens: new ort.Tensor('float32', tokens, dims) };
  if (c.guide) { feeds.guide = new ort.Tensor('float32', c.guide, dims); feeds.scale = new ort.Tensor('float32', Float32Array.of(c.lambda!), [1]); }
  if (c.trajectory) { feeds.trajectory_index = int64(c.trajectory.index, [F * n, T]); feeds.trajectory_bias = new ort.Tensor('float32', Float32Array.from(c.trajectory.bias), [F * n, T]); }
  if (c.crossFrame) feeds.cross_frame_index = int64(c.crossFrame);
  const session = await createSessionOn(encodeModel(g.toModel()).toBytes(), 'cpu');
  try { return (await session.run(feeds)).out.data as Float32Array; } finally { await session.release(); }
}

/** Tokens large enough that the logits are far from uniform, so a wrong temperature shows. */
const layerTokens = (seed: number) => random(2 * F * n * C, seed).map((x) => 4 * x);
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/** Each token's trajectory: itself first, then members anywhere in its branch, some slots empty (−10000). */
function randomTrajectory(length: number, seed: number) {
  const pick = random(F * n * length, seed), index: number[] = [], bias: number[] = [];
  for (let t = 0; t < F * n; t++) for (let m = 0; m < length; m++) {
    const slot = t * length + m;
    index.push(m === 0 ? t : Math.floor(((pick[slot] + 1) / 2) * F * n) % (F * n));
    bias.push(m > 0 && pick[slot] > 0.6 ? -10000 : 0);
  }
  return { index, bias, length };
}

test('given one layer with spatial guidance, then the queries are softmax(λ·Q_r K_rᵀ/√d)·Q before attention, as published (λ = 0 mixes uniformly, it is not "off")', async () => {
  const tokens = layerTokens(21), guide = layerTokens(22);
  const plain = await graphAttention(tokens, {});
  assert.ok(maxAbsDiff(plain, publishedAttention(tokens, {})) < 1e-5, 'with no inputs: plain self-attention');
  for (const lambda of [0, 0.2, 1]) {
    const expected = publishedAttention(tokens, { guide, lambda });
    assert.ok(maxAbsDiff(await graphAttention(tokens, { guide, lambda }), expected) < 1e-5, `λ = ${lambda}`);
    assert.ok(maxAbsDiff(plain, expected) > 1e-3, `λ = ${lambda} changes the output`);
  }
});

test('given one layer with temporal guidance, then the main attention output is re-mixed along trajectories by softmax(0.2·q·k/√d + bias) of the raw q, k, as published', async () => {
  const tokens = layerTokens(23), trajectory = randomTrajectory(3, 24);
  const expected = publishedAttention(tokens, { trajectory });
  assert.ok(maxAbsDiff(await graphAttention(tokens, { trajectory }), expected) < 1e-5);
  assert.ok(maxAbsDiff(publishedAttention(tokens, {}), expected) > 1e-3, 'the trajectories change the output');
  const alone = { index: range(0, F * n), bias: new Array<number>(F * n).fill(0), length: 1 };
  assert.ok(maxAbsDiff(await graphAttention(tokens, { trajectory: alone }), publishedAttention(tokens, {})) < 1e-5, 'a trajectory of the token alone keeps the main output');
});

test('given one layer with spatial, cross-frame and temporal attention together, then plain and fused graphs both match the published formulas', async () => {
  const tokens = layerTokens(25), c: LayerCase = { guide: layerTokens(26), lambda: 0.2, trajectory: randomTrajectory(3, 27), crossFrame: [...range(0, n), n + 1, n + 3] };
  const expected = publishedAttention(tokens, c);
  assert.ok(maxAbsDiff(await graphAttention(tokens, c), expected) < 1e-5);
  assert.ok(maxAbsDiff(await graphAttention(tokens, c, { precision: 'fp32', fusedOps: true }), expected) < 1e-5);
});

test('given spatial-guided attention in the decoder, then the guide tokens and scale reach the listed layers and change the output', async () => {
  const frames = [random(4 * N, 6)];
  const guideFrames = [random(4 * N, 7)];
  const guide = await decode(guideFrames, { record: true });
  const guides = Object.fromEntries([2, 3].map((i) => [`spatial_guide_tokens.${i}`, guide[`recorded_tokens.${i}`]]));
  const plain = await decode(frames, {});
  const scale = (s: number) => ({ spatial_guidance_scale: new ort.Tensor('float32', Float32Array.of(s), [1]), ...guides });
  const guided = await decode(frames, { spatial: [2, 3] }, scale(0.2));
  const sharper = await decode(frames, { spatial: [2, 3] }, scale(1));
  assert.ok(maxDiff(plain.noise_pred, guided.noise_pred) > 1e-4);
  assert.ok(maxDiff(guided.noise_pred, sharper.noise_pred) > 1e-4, 'the scale is fed through');
});

test('given temporal-guided attention, then on identical frames a trajectory through both frames keeps the plain output (it mixes equal values), and on different frames it changes it', async () => {
  const frame = random(4 * N, 8);
  const traj = (members: number) => {
    const index: number[] = [], bias: number[] = [];
    for (let t = 0; t < 2 * N; t++) for (let m = 0; m < members; m++) { index.push(m === 0 ? t : (t + N) % (2 * N)); bias.push(0); }
    return Object.fromEntries([2, 3].flatMap((i) => [[`trajectory_index.${i}`, int64(index, [2 * N, members])], [`trajectory_bias.${i}`, new ort.Tensor('float32', Float32Array.from(bias), [2 * N, members])]]));
  };
  const alone = await decode([frame, frame], { temporal: [2, 3] }, traj(1));
  const through = await decode([frame, frame], { temporal: [2, 3] }, traj(2));
  const plain = await decode([frame, frame], {});
  assert.ok(maxDiff(alone.noise_pred, through.noise_pred) < 1e-5);
  assert.ok(maxDiff(plain.noise_pred, through.noise_pred) < 1e-5);
  const other = [frame, random(4 * N, 13)];
  const otherThrough = await decode(other, { temporal: [2, 3] }, traj(2));
  const otherPlain = await decode(other, {});
  assert.ok(maxDiff(otherPlain.noise_pred, otherThrough.noise_pred) > 1e-4);
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
