// UNet graph builder on a config no fixture has (3 blocks, 1 layer per block, 2 heads, non-square and
// odd latent sizes), with random weights: the variants relate to each other as the method requires.
import { test } from 'node:test';
import { smallUNetConfig, smallUNetWeights } from '../helpers/small-unet';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { buildGraph, crossFrameLayers, looseLayers, strictLayers, type UNetVariant } from '../../native-models/src/graphs';
import { unetConfig } from '../../native-models/src/graphs/config';
import type { GraphOptions } from '../../native-models/src/onnx/graph';
import { encodeModel, writeModel } from '../../native-models/src/onnx/model';
import { createSessionOn } from '../../native-models/src/runtime/providers';
import { UserError } from '../../native-models/src/errors';

const config = smallUNetConfig;
const weights = smallUNetWeights();
const [B, H, W, T] = [2, 10, 6, 7];

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; });
}

const sample = (seed: number) => new ort.Tensor('float32', random(B * 4 * H * W, seed), [B, 4, H, W]);
const baseFeeds = {
  timestep: new ort.Tensor('int64', BigInt64Array.of(601n), [1]),
  encoder_hidden_states: new ort.Tensor('float32', random(B * T * 12, 3), [B, T, 12]),
};

async function run(variant: UNetVariant, feeds: Record<string, ort.Tensor>, options: GraphOptions = { precision: 'fp32' }) {
  const session = await createSessionOn(encodeModel(buildGraph({ part: 'unet', variant }, weights, options)).toBytes(), 'cpu');
  try { return await session.run({ ...baseFeeds, ...feeds }); } finally { await session.release(); }
}

function maxDiff(a: ort.Tensor, b: ort.Tensor): number {
  assert.deepEqual(a.dims, b.dims);
  const x = a.data as Float32Array; const y = b.data as Float32Array;
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
}

function doubled(t: ort.Tensor): ort.Tensor {
  const [b, n, c] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(b * 2 * n * c);
  for (let i = 0; i < b; i++) for (const half of [0, 1]) out.set(src.subarray(i * n * c, (i + 1) * n * c), (2 * i + half) * n * c);
  return new ort.Tensor('float32', out, [b, 2 * n, c]);
}

const layers = crossFrameLayers(unetConfig(config), weights);

test('given a 3-block config, its decoder self-attention layers are the attn1 of the attention up blocks; loose drops the lowest-resolution block', () => {
  assert.deepEqual(layers.map((l) => l.module), [
    'up_blocks.1.attentions.0.transformer_blocks.0.attn1', 'up_blocks.1.attentions.1.transformer_blocks.0.attn1',
    'up_blocks.2.attentions.0.transformer_blocks.0.attn1', 'up_blocks.2.attentions.1.transformer_blocks.0.attn1',
  ]);
  assert.deepEqual(strictLayers(layers), [0, 1, 2, 3]);
  assert.deepEqual(looseLayers(layers), [2, 3]);
});

test('given a non-square latent with odd sizes, when recording, then noise_pred is unchanged and tokens are [B, h*w, C] per layer', async () => {
  const plain = await run({}, { sample: sample(1) });
  const recorded = await run({ record: true }, { sample: sample(1) });
  assert.deepEqual(plain.noise_pred.dims, [B, 4, H, W]);
  assert.ok(maxDiff(plain.noise_pred, recorded.noise_pred) < 1e-6);
  // Layers 0-1 run at the 5x3 level, 2-3 at 10x6, with 16 and 8 channels.
  assert.deepEqual([0, 1, 2, 3].map((i) => recorded[`recorded_tokens.${i}`].dims), [[B, 15, 16], [B, 15, 16], [B, 60, 8], [B, 60, 8]]);
});

test('given references that are a frame\'s own tokens twice, when injecting every layer, then the result equals plain self-attention; other references change it', async () => {
  const own = await run({ record: true }, { sample: sample(1) });
  const other = await run({ record: true }, { sample: sample(2) });
  const refsFrom = (src: typeof own) => Object.fromEntries(strictLayers(layers).map((i) => [`reference_tokens.${i}`, doubled(src[`recorded_tokens.${i}`])]));
  const selfInjected = await run({ inject: strictLayers(layers), record: true }, { sample: sample(1), ...refsFrom(own) });
  assert.ok(maxDiff(selfInjected.noise_pred, own.noise_pred) < 1e-5, 'attention over duplicated keys is unchanged');
  assert.ok(maxDiff(selfInjected['recorded_tokens.3'], own['recorded_tokens.3']) < 1e-4);
  const crossInjected = await run({ inject: looseLayers(layers) }, { sample: sample(1), ...Object.fromEntries(looseLayers(layers).map((i) => [`reference_tokens.${i}`, doubled(other[`recorded_tokens.${i}`])])) });
  assert.ok(maxDiff(crossInjected.noise_pred, own.noise_pred) > 1e-3, 'keys from another frame matter');
});

test('given zero ControlNet residuals, the ControlNet variant equals the plain UNet', async () => {
  const plain = await run({ record: true }, { sample: sample(4) });
  // Skip shapes: conv_in + 1 per layer + downsamplers, at 10x6, 5x3, 3x2.
  const skipShapes = [[8, 10, 6], [8, 10, 6], [8, 5, 3], [16, 5, 3], [16, 3, 2], [16, 3, 2]];
  const zeros = Object.fromEntries(skipShapes.map((s, i) => [`controlnet_down.${i}`, new ort.Tensor('float32', new Float32Array(B * s[0] * s[1] * s[2]), [B, ...s])]));
  const controlled = await run({ controlNet: true }, { sample: sample(4), ...zeros, controlnet_mid: new ort.Tensor('float32', new Float32Array(B * 16 * 6), [B, 16, 3, 2]) });
  assert.ok(maxDiff(plain.noise_pred, controlled.noise_pred) < 1e-6);
});

test('given the fused-attention and fp16 flavours, they stay close to the plain fp32 graph', async () => {
  const plain = await run({}, { sample: sample(5) });
  const fused = await run({}, { sample: sample(5) }, { precision: 'fp32', fusedOps: true });
  const half = await run({}, { sample: sample(5) }, { precision: 'fp16' });
  const scale = (plain.noise_pred.data as Float32Array).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(maxDiff(plain.noise_pred, fused.noise_pred) < 1e-5 * Math.max(1, scale));
  assert.ok(maxDiff(plain.noise_pred, half.noise_pred) < 2e-2 * Math.max(1, scale), 'fp16 within 2% of the output range');
});

test('given a model written with external data, when loaded from its file, then it computes the same as the embedded one', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-external-'));
  try {
    const file = path.join(dir, 'unet.onnx');
    const files = await writeModel(buildGraph({ part: 'unet' }, weights, { precision: 'fp32' }), file, { forceExternalData: true });
    assert.deepEqual(files.map((f) => path.basename(f)), ['unet.onnx', 'unet.onnx.data']);
    assert.ok(fs.statSync(file + '.data').size > fs.statSync(file).size, 'the weights live in the data file');
    const session = await createSessionOn(file, 'cpu');
    const fromFile = await session.run({ ...baseFeeds, sample: sample(6) });
    await session.release();
    const embedded = await run({}, { sample: sample(6) });
    assert.ok(maxDiff(fromFile.noise_pred, embedded.noise_pred) === 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('given an SDXL-style config, building fails with a message that names the reason', () => {
  const sdxl = { ...config, addition_embed_type: 'text_time' };
  assert.throws(() => buildGraph({ part: 'unet' }, { ...weights, config: sdxl }, { precision: 'fp32' }), (err: Error) => err instanceof UserError && /addition_embed_type.*not a Stable Diffusion 1\.5-compatible model/.test(err.message));
});

test('given weights missing a tensor the config needs, building fails naming that tensor', () => {
  const partial = { config, has: (n: string) => n !== 'up_blocks.1.resnets.0.conv1.weight' && weights.has(n), get: weights.get };
  assert.throws(() => buildGraph({ part: 'unet' }, partial, { precision: 'fp32' }), /up_blocks\.1\.resnets\.0\.conv1\.weight/);
});
