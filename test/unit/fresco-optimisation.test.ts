// FRESCO's feature optimisation and frame correspondence on generated data: the optimisation lowers both
// losses of the features it touches and keeps their statistics; flow links, revealed tokens and
// trajectories follow a known translation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchMotion, markPhotometricOcclusion, revealedTokens, tokenLinks, trajectories } from '../../main/engine/fresco/correspondence';
import { featureLosses, optimiseFeatures, type TokenLinks } from '../../main/engine/fresco/feature-optimisation';
import { defaultFrescoSettings } from '../../main/engine/fresco/settings';
import { scene } from '../integration/keyframe-render-scene';

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; });
}

const [F, C, GW, GH] = [3, 8, 6, 5];
const N = GW * GH;

/** Frame f shows frame f−1 moved one column right: token (x, y) came from (x − 1, y); column 0 is new. */
function shiftLinks(): TokenLinks {
  const source = new Int32Array(F * N).fill(-1), visible = new Float32Array(F * N);
  for (let f = 1; f < F; f++) {
    for (let y = 0; y < GH; y++) for (let x = 1; x < GW; x++) { source[f * N + y * GW + x] = y * GW + x - 1; visible[f * N + y * GW + x] = 1; }
  }
  return { source, visible };
}

/** Input frames' features: a smooth pattern per channel (structure), moving with the links. */
function guideFeatures(): Float32Array {
  const g = new Float32Array(F * C * N);
  for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) for (let y = 0; y < GH; y++) for (let x = 0; x < GW; x++) {
    g[(f * C + c) * N + y * GW + x] = Math.sin((x - f) * (c + 1) * 0.7 + y * 0.5 * c) + 0.3 * c;
  }
  return g;
}

function stats(x: Float32Array, plane: number): [number, number] {
  const v = x.subarray(plane * N, (plane + 1) * N);
  const m = v.reduce((a, b) => a + b, 0) / N;
  return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / N)];
}

test('given features that disagree along the flow and with the input structure, when optimised with the method\'s settings, then both losses drop and every channel keeps its mean and deviation', async () => {
  const s = defaultFrescoSettings();
  const guide = guideFeatures();
  // The input's structure with independent disturbances per frame (what the decoder sees mid-sampling).
  const noise = random(F * C * N, 1);
  const features = guide.map((v, i) => v + 0.5 * noise[i]);
  const r = await optimiseFeatures(features, F, C, guide, C, shiftLinks(), s);
  assert.ok(r.optimised.warp < r.before.warp, `warp ${r.before.warp} → ${r.optimised.warp}`);
  assert.ok(r.optimised.similarity < r.before.similarity, `similarity ${r.before.similarity} → ${r.optimised.similarity}`);
  assert.ok(r.final.warp < r.before.warp && r.final.similarity < r.before.similarity, `after renormalising: warp ${r.final.warp}, similarity ${r.final.similarity}`);
  for (let plane = 0; plane < F * C; plane++) {
    const [m0, s0] = stats(features, plane), [m1, s1] = stats(r.features, plane);
    assert.ok(Math.abs(m0 - m1) < 1e-4 && Math.abs(s0 - s1) < 1e-4, `plane ${plane}`);
  }
  const measured = await featureLosses(r.features, F, C, guide, C, shiftLinks());
  assert.ok(Math.abs(measured.warp - r.final.warp) < 1e-6 && Math.abs(measured.similarity - r.final.similarity) < 1e-6);
});

test('given features that already follow the flow and the input structure, then both losses are zero and zero iterations change nothing', async () => {
  const guide = guideFeatures();
  const losses = await featureLosses(guide, F, C, guide, C, shiftLinks());
  assert.ok(losses.warp < 1e-6 && losses.similarity < 1e-6, JSON.stringify(losses));
  const features = random(F * C * N, 2);
  const r = await optimiseFeatures(features, F, C, guide, C, shiftLinks(), { ...defaultFrescoSettings(), iterations: 0 });
  assert.deepEqual(r.features, features);
});

test('given a frame moved 8 px right of the one before, when linked on the 1/8 grid, then tokens come from one cell to the left and only the entering column is revealed', async () => {
  const motion = await batchMotion([scene(0), scene(8), scene(8)]);
  const [gw, gh] = [16, 16], n = gw * gh;
  const links = tokenLinks(motion, gw, gh);
  let right = 0, inner = 0;
  for (let y = 2; y < gh - 2; y++) for (let x = 3; x < gw - 2; x++) { inner++; if (links.source[n + y * gw + x] === y * gw + x - 1) right++; }
  assert.ok(right / inner > 0.9, `${right}/${inner} interior tokens link one cell left`);
  for (let p = 0; p < n; p++) assert.equal(links.source[2 * n + p], p, 'an unmoved frame links each token to itself');
  const keys = revealedTokens(links, 3, n);
  assert.ok(keys.length > n && keys.length < n + 3 * gh, `${keys.length} keys: frame 0 plus about one revealed column`);
  assert.ok(keys.length < 3 * n / 2, 'far fewer than full cross-frame attention (3 frames of tokens)');
  const still = revealedTokens(tokenLinks(await batchMotion([scene(0), scene(0)]), gw, gh), 2, n);
  assert.equal(still.length, n, 'nothing new: frame 0 only');
});

test('given identical frames, then every token\'s trajectory is the same cell in every frame', async () => {
  const motion = await batchMotion([scene(0), scene(0), scene(0)]);
  const n = 8 * 8;
  const t = trajectories(tokenLinks(motion, 8, 8), 3, n);
  for (let f = 0; f < 3; f++) for (let p = 0; p < n; p++) for (let g = 0; g < 3; g++) {
    assert.equal(Number(t.index[(f * n + p) * 3 + g]), g * n + p);
    assert.equal(t.bias[(f * n + p) * 3 + g], 0);
  }
});

test('given a warped previous frame that matches except in one block, then only that block is marked occluded by the colour check (above a quarter of the range)', () => {
  const [w, h] = [16, 12];
  const frame = { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3).fill(100) };
  const warped = { ...frame, data: frame.data.slice() };
  for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) warped.data.fill(200, (y * w + x) * 3, (y * w + x) * 3 + 3); // 100 apart: marked
  warped.data.fill(160, 0, 3); // pixel 0: 60 apart, under 0.25·255, left alone
  const occluded = { width: w, height: h, channels: 1, data: new Uint8Array(w * h) };
  occluded.data[w * h - 1] = 255; // already occluded stays so
  markPhotometricOcclusion(frame, warped, occluded);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const expected = (x >= 4 && x < 8 && y >= 4 && y < 8) || y * w + x === w * h - 1 ? 255 : 0;
    assert.equal(occluded.data[y * w + x], expected, `pixel ${x}, ${y}`);
  }
});
