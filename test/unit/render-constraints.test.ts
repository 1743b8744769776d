// Keyframe constraints with known answers: shape-aware fusion copies the anchor's latent moved by the
// flow where the anchor sees the pixel, colour adjustment gives x̂₀ the anchor's statistics, and
// fidelity-oriented encoding removes a VAE's systematic round-trip loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { align, applyColourAdjustment, applyShapeFusion, fidelityEncode, pixelFusion, shapeFusion, type LatentCodec } from '../../main/engine/render/constraints';
import { channelStats, imageToSigned, type Planar } from '../../main/engine/render/latent';
import { gaussianNoise } from '../../main/engine/render/noise';
import type { Image } from '../../native-models/src/image';

const W = 128, H = 128;

/** A textured scene moved right by `dx` pixels (new content enters on the left). */
function scene(dx: number): Image {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = x - dx;
      const v = [128 + 100 * Math.sin(u / 5) * Math.cos(y / 7), 128 + 90 * Math.sin((u + 2 * y) / 9), 128 + 100 * Math.cos(u / 11 - y / 4)];
      for (let c = 0; c < 3; c++) data[(y * W + x) * 3 + c] = Math.round(v[c]);
    }
  }
  return { width: W, height: H, channels: 3, data };
}

test('given a frame moved 8 px (one latent cell) right of the anchor, when shape-aware fusion runs, then every fully visible cell holds the anchor latent one cell to its left and revealed cells keep their own', async () => {
  const fusion = shapeFusion(await align(scene(0), scene(8)));
  const h = H / 8, w = W / 8, C = 4;
  const anchorX0 = gaussianNoise(1, C * h * w), own = gaussianNoise(2, C * h * w);
  const out = await applyShapeFusion(own, anchorX0, fusion, C);
  let trusted = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const m = fusion.trust[y * w + x];
      for (let c = 0; c < C; c++) {
        const i = c * h * w + y * w + x;
        if (m === 1) assert.equal(out[i], anchorX0[c * h * w + y * w + x - 1], `cell (${x}, ${y})`);
        if (m === 0) assert.equal(out[i], own[i], `revealed cell (${x}, ${y})`);
      }
      if (m === 1) trusted++;
    }
  }
  for (let y = 0; y < h; y++) assert.equal(fusion.trust[y * w], 0, 'the revealed left column is not taken from the anchor');
  assert.ok(trusted > (h * w) / 2, `most cells are visible in the anchor (${trusted} of ${h * w})`);
});

test('given any x̂₀ and the anchor statistics of a step, when colour adjustment runs, then each channel has exactly the anchor mean and deviation', () => {
  const x0 = gaussianNoise(5, 4 * 16 * 16).map((v, i) => v * (1 + (i % 3)) + 0.3);
  const anchor = { mean: [0.1, -0.4, 0.7, 0], std: [0.9, 1.3, 0.2, 1] };
  const stats = channelStats(applyColourAdjustment(x0, anchor, 4), 4);
  for (let c = 0; c < 4; c++) {
    assert.ok(Math.abs(stats.mean[c] - anchor.mean[c]) < 1e-5, `mean of channel ${c}`);
    assert.ok(Math.abs(stats.std[c] - anchor.std[c]) < 1e-5, `deviation of channel ${c}`);
  }
});

/** A linear VAE stand-in whose decoder loses a fixed share of contrast: E = 8×8 block means, D = gain · upsample. */
function lossyCodec(gain: number): LatentCodec {
  return {
    latentChannels: 3,
    async encode(img: Planar) {
      const h = img.height / 8, w = img.width / 8, z = new Float32Array(3 * h * w);
      for (let c = 0; c < 3; c++) for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) z[c * h * w + (y >> 3) * w + (x >> 3)] += img.data[c * img.width * img.height + y * img.width + x] / 64;
      return z;
    },
    async decode(z: Float32Array, h: number, w: number) {
      const data = new Float32Array(3 * 64 * h * w);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 8 * h; y++) for (let x = 0; x < 8 * w; x++) data[c * 64 * h * w + y * 8 * w + x] = gain * z[c * h * w + (y >> 3) * w + (x >> 3)];
      return { channels: 3, height: 8 * h, width: 8 * w, data };
    },
  };
}

test('given a VAE that loses 20 % of contrast per round trip, when encoding with fidelity compensation, then the decode error shrinks to (1 − g)² of the signal instead of (1 − g)', async () => {
  // Block-constant colours in the VAE's comfortable range, so the only error is the systematic loss.
  const img: Image = { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) };
  for (let i = 0; i < 64 * 64; i++) {
    const bx = (i % 64) >> 3, by = Math.floor(i / 64) >> 3;
    for (let c = 0; c < 3; c++) img.data[i * 3 + c] = 90 + ((bx * 13 + by * 7 + c * 29) % 80);
  }
  const codec = lossyCodec(0.8);
  const enc = await fidelityEncode(codec, img);
  const target = imageToSigned(img);
  const error = async (z: Float32Array) => {
    const d = await codec.decode(z, 8, 8);
    return d.data.reduce((a, v, i) => a + Math.abs(v - target.data[i]), 0) / d.data.length;
  };
  const plain = await error(enc.plain), compensated = await error(enc.compensated);
  assert.equal(enc.fallback.reduce((a, b) => a + b, 0), 0, 'no cell falls back: the compensation creates no artefact here');
  assert.ok(Math.abs(compensated / plain - 0.2) < 1e-3, `error ratio ${compensated / plain} should be 0.2`);
});

test('given a lossy VAE, when the target latent is weighed against the keyframe\'s own decode, then cells where that decode is already closer to the composite are left alone and cells where it is further are fused', async () => {
  const img: Image = { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) };
  for (let i = 0; i < 64 * 64; i++) for (let c = 0; c < 3; c++) img.data[i * 3 + c] = 40 + ((i * 7 + c * 31) % 170); // detail the block-mean codec loses
  const codec = lossyCodec(0.8);
  const far: Image = { ...img, data: img.data.map((v) => 255 - v) };
  // The left half of the current decode is the composite itself, the right half is far from it.
  const current: Image = { ...img, data: img.data.map((v, k) => ((k / 3) % 64 < 32 ? v : far.data[k])) };
  const enc = await fidelityEncode(codec, img, current);
  const left: number[] = [], right: number[] = [];
  for (let i = 0; i < 64; i++) ((i % 8) < 4 ? left : right).push(enc.faithful[i]);
  assert.deepEqual(left, new Array(32).fill(0), 'the decode already is the composite: fusing would only add the VAE loss');
  assert.deepEqual(right, new Array(32).fill(1), 'the target latent is closer than the decode');
  const fusion = pixelFusion(enc, { width: 8, height: 8, channels: 1, data: new Float32Array(64).fill(1) }, 3, 0.5, 0.9, false);
  assert.equal(fusion.weight[0], 0);
  assert.equal(fusion.weight[7], 0.5);
  assert.deepEqual([...(await fidelityEncode(codec, img)).faithful], new Array(64).fill(1), 'without a current decode every cell is fused (§3.3 as written)');
});
