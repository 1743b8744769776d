// Given flows with known answers, backward warping moves pixels where the flow says, the
// occlusion check follows docs/METHOD.md §5, and the soft mask follows §3.0 step 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { occlusionMask, softMask, warpFloat, warpImage } from '../../native-models/src/flow';
import type { FlowField, FloatImage, Image } from '../../native-models/src/image';
import { renderScene, makeTexture, translation } from '../helpers/flow-scenes';

function constantFlow(width: number, height: number, dx: number, dy: number): FlowField {
  const data = new Float32Array(width * height * 2);
  for (let i = 0; i < width * height; i++) { data[2 * i] = dx; data[2 * i + 1] = dy; }
  return { width, height, channels: 2, data };
}

function noiseImage(width: number, height: number, channels: number): Image {
  const data = new Uint8Array(width * height * channels);
  let s = 12345;
  for (let i = 0; i < data.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; data[i] = s >>> 24; }
  return { width, height, channels, data };
}

test('given an integer translation flow, when an image is warped (nearest or bilinear), then each pixel is copied from p + flow', async () => {
  const src = noiseImage(40, 30, 3);
  for (const sampling of ['nearest', 'bilinear'] as const) {
    const out = await warpImage(src, constantFlow(40, 30, 3, -2), sampling);
    for (let y = 2; y < 30; y++) for (let x = 0; x < 37; x++) {
      for (let c = 0; c < 3; c++) assert.equal(out.data[(y * 40 + x) * 3 + c], src.data[((y - 2) * 40 + x + 3) * 3 + c]);
    }
  }
});

test('given a fractional flow over a linear ramp, when warped bilinearly, then values are the ramp at the shifted point', async () => {
  const w = 50, h = 20;
  const ramp: FloatImage = { width: w, height: h, channels: 2, data: new Float32Array(w * h * 2) };
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) { ramp.data[(y * w + x) * 2] = 2 * x + y; ramp.data[(y * w + x) * 2 + 1] = -x; }
  const out = await warpFloat(ramp, constantFlow(w, h, 0.25, 0.6), 'bilinear');
  for (let y = 0; y < h - 1; y++) for (let x = 0; x < w - 1; x++) {
    assert.ok(Math.abs(out.data[(y * w + x) * 2] - (2 * (x + 0.25) + y + 0.6)) < 1e-4);
    assert.ok(Math.abs(out.data[(y * w + x) * 2 + 1] + (x + 0.25)) < 1e-4);
  }
  const nearest = await warpFloat(ramp, constantFlow(w, h, 0.25, 0.6), 'nearest');
  assert.equal(nearest.data[(5 * w + 5) * 2], 2 * 5 + 6);
});

test('given a textured pair with its true backward flow, when the first frame is warped, then it reproduces the second on visible pixels', async () => {
  const s = renderScene(96, 80, [{ texture: makeTexture(9), motion: translation(2.4, -1.7) }]);
  const warped = await warpImage(s.a, s.backward, 'bilinear');
  let sum = 0, n = 0;
  for (let i = 0; i < 96 * 80; i++) {
    if (s.occluded[i]) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(warped.data[i * 3 + c] - s.b.data[i * 3 + c]);
    n += 3;
  }
  assert.ok(sum / n < 4, `mean abs difference ${sum / n} (bilinear resampling of a sharp texture)`);
  // Round trip: warping the frame-a coordinates by the backward flow gives each b pixel its source point.
  const coords: FloatImage = { width: 96, height: 80, channels: 2, data: new Float32Array(96 * 80 * 2) };
  for (let y = 0; y < 80; y++) for (let x = 0; x < 96; x++) coords.data.set([x, y], (y * 96 + x) * 2);
  const back = await warpFloat(coords, s.backward);
  for (let y = 5; y < 75; y++) for (let x = 5; x < 90; x++) {
    const i = (y * 96 + x) * 2;
    assert.ok(Math.abs(back.data[i] - (x - 2.4)) < 1e-3 && Math.abs(back.data[i + 1] - (y + 1.7)) < 1e-3);
  }
});

test('given consistent flows, when the occlusion mask is computed, then only points leaving the frame are occluded', async () => {
  const mask = await occlusionMask({ forward: constantFlow(20, 10, 3, 0), backward: constantFlow(20, 10, -3, 0) });
  for (let y = 0; y < 10; y++) for (let x = 0; x < 20; x++) assert.equal(mask.data[y * 20 + x], x < 3 ? 255 : 0, `(${x}, ${y})`);
});

test('given one inconsistent backward vector, when the occlusion mask is computed, then the threshold 0.01(|f|+|b|) + 0.5 decides', async () => {
  const forward = constantFlow(20, 10, 3, 0), backward = constantFlow(20, 10, -3, 0);
  const at = (x: number, y: number) => (y * 20 + x) * 2;
  backward.data[at(10, 5) + 1] = 0.55;   // mismatch 0.55 < 0.01 · (3 + 3.05) + 0.5 = 0.5605: visible
  backward.data[at(12, 5) + 1] = 0.6;    // mismatch 0.6 > 0.5606: occluded
  const mask = await occlusionMask({ forward, backward });
  assert.equal(mask.data[5 * 20 + 10], 0);
  assert.equal(mask.data[5 * 20 + 12], 255);
});

test('given one occluded pixel, when the soft mask is made, then it is 1 there, fades with distance and is 0 beyond 8 px', async () => {
  const w = 41, h = 41;
  const mask: Image = { width: w, height: h, channels: 1, data: new Uint8Array(w * h) };
  mask.data[20 * w + 20] = 255;
  const soft = await softMask(mask);
  const at = (x: number, y: number) => soft.data[y * w + x];
  assert.equal(at(20, 20), 1);
  assert.ok(soft.data.every((v) => v >= 0 && v <= 1));
  // Max pool 9×9 reaches 4 px; the 9-tap blur spreads 4 px more; σ = 18 makes it nearly a box.
  assert.ok(at(24, 20) > 0.5 && at(28, 20) > 0 && at(29, 20) === 0 && at(20, 29) === 0);
  assert.ok(Math.abs(at(24, 20) - at(16, 20)) < 1e-6 && Math.abs(at(20, 24) - at(24, 20)) < 1e-6);
  assert.ok(at(22, 20) >= at(25, 20) && at(25, 20) >= at(27, 20));
  const blank = await softMask({ width: w, height: h, channels: 1, data: new Uint8Array(w * h) });
  assert.ok(blank.data.every((v) => v === 0));
});

test('given a flow of another size, when warping, then it is refused', async () => {
  await assert.rejects(warpImage(noiseImage(10, 10, 3), constantFlow(10, 9, 0, 0)), /sizes differ/);
});
