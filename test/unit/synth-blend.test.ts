// Specification of blending the forward and backward syntheses: error-based mask, Lab conversion,
// histogram-preserving blend, and the DCT screened Poisson solver behind gradient-domain fusion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blendMask, blendWeights, blendDirections, gradientFusion, histogramBlend, labToRgb, rgbToLab, solveScreenedPoisson } from '../../native-models/src/blend';
import { synthesize } from '../../native-models/src/synthesis';
import type { FloatImage, Image } from '../../native-models/src/image';
import { texture, stylise, warp, rigidMotion, meanAbsDiff, random } from './synth-scene';

const plane = (width: number, height: number, data: Float32Array): FloatImage => ({ width, height, channels: 1, data });

test('Lab conversion round-trips every 8-bit colour of a dense sample and hits known values', async () => {
  const values: number[] = [];
  for (let r = 0; r < 256; r += 5) for (let g = 0; g < 256; g += 5) for (let b = 0; b < 256; b += 5) values.push(r, g, b);
  values.push(255, 255, 255, 0, 0, 0, 255, 0, 0);
  const n = values.length / 3;
  const rgb: Image = { width: n, height: 1, channels: 3, data: Uint8Array.from(values) };
  const lab = await rgbToLab(rgb);
  const back = await labToRgb(lab);
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(back.data[i] - values[i]));
  assert.ok(worst <= 1, `round trip off by ${worst}`);
  const at = (k: number) => Array.from(lab.data.slice((n - 3 + k) * 3, (n - 2 + k) * 3));
  const near = (got: number[], want: number[]) => got.every((v, i) => Math.abs(v - want[i]) < 0.05);
  assert.ok(near(at(0), [100, 0, 0]), `white is ${at(0)}`);
  assert.ok(near(at(1), [0, 0, 0]), `black is ${at(1)}`);
  assert.ok(near(at(2), [53.24, 80.09, 67.2]), `red is ${at(2)}`);
});

test('the mask takes the side with the lower error weighted by distance to each keyframe, and never switches back', async () => {
  const errorA = plane(4, 1, Float32Array.from([10, 10, 1, 5]));
  const errorB = plane(4, 1, Float32Array.from([1, 10, 10, 5]));
  assert.deepEqual(Array.from((await blendMask(errorA, errorB, 0.5)).data), [255, 255, 0, 255]);
  // Near keyframe A (weightB 0.1), B must be at least 9 times better to win.
  assert.deepEqual(Array.from((await blendMask(errorA, errorB, 0.1)).data), [255, 0, 0, 0]);
  // A warped previous mask is interpolated: 128 and up counts as B.
  const previous: Image = { width: 4, height: 1, channels: 1, data: Uint8Array.from([0, 127, 200, 0]) };
  assert.deepEqual(Array.from((await blendMask(errorA, errorB, 0.1, previous)).data), [255, 0, 255, 0]);
});

test('the soft weights give B its error-weighted share, take B at 128 and up exactly where the mask does, and never go back', async () => {
  const errorA = plane(5, 1, Float32Array.from([10, 10, 1, 5, 0]));
  const errorB = plane(5, 1, Float32Array.from([1, 10, 10, 5, 0]));
  // weightB 0.5: share = eA / (eA + eB); no error on either side gives the segment position.
  assert.deepEqual(Array.from(blendWeights(errorA, errorB, 0.5).data), [232, 128, 23, 128, 128]);
  // weightB 0.1: 0.1·10 / (0.1·10 + 0.9·1) = 0.526 → 134.
  assert.deepEqual(Array.from(blendWeights(errorA, errorB, 0.1).data), [134, 26, 3, 26, 26]);
  const previous: Image = { width: 5, height: 1, channels: 1, data: Uint8Array.from([0, 200, 0, 10, 0]) };
  assert.deepEqual(Array.from(blendWeights(errorA, errorB, 0.1, previous).data), [134, 200, 3, 26, 26]);
  const n = 4096, ea = new Float32Array(n), eb = new Float32Array(n);
  const rnd = random(5);
  for (let i = 0; i < n; i++) { ea[i] = rnd() * 1000; eb[i] = rnd() * 1000; }
  for (const w of [0.125, 0.5, 0.875]) {
    const hard = (await blendMask(plane(n, 1, ea), plane(n, 1, eb), w)).data, soft = blendWeights(plane(n, 1, ea), plane(n, 1, eb), w).data;
    for (let i = 0; i < n; i++) assert.equal(soft[i] >= 128, hard[i] >= 128, `pixel ${i} at weightB ${w}`);
  }
});

test('fusion with soft weights mixes the two sides\' gradients: a half share lands between taking A and taking B', async () => {
  const w = 16, h = 12;
  const a: Image = { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3) };
  const b: Image = { width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3) };
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    a.data[(y * w + x) * 3 + c] = 60 + 8 * x; b.data[(y * w + x) * 3 + c] = 60 + 8 * y;
  }
  const filled = (v: number): Image => ({ width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(v) });
  const base = await histogramBlend({ a, b, mask: filled(128), weightB: 0.5 });
  const fuse = (v: number) => gradientFusion({ a, b, mask: filled(v), base });
  const [onA, half, onB] = await Promise.all([fuse(0), fuse(128), fuse(255)]);
  const at = (im: Image, x: number, y: number) => im.data[(y * w + x) * 3];
  const horizontal = (im: Image) => at(im, 12, 6) - at(im, 4, 6), vertical = (im: Image) => at(im, 8, 10) - at(im, 8, 2);
  // A ramps along x, B along y: half of each gradient field gives a ramp in both directions, each
  // clearly between what taking one side alone gives.
  assert.ok(horizontal(onB) + 2 < horizontal(half) && horizontal(half) + 2 < horizontal(onA), `horizontal steps ${horizontal(onB)} < ${horizontal(half)} < ${horizontal(onA)}`);
  assert.ok(vertical(onA) + 2 < vertical(half) && vertical(half) + 2 < vertical(onB), `vertical steps ${vertical(onA)} < ${vertical(half)} < ${vertical(onB)}`);
});

test('given content visible only to one keyframe in each half, blending picks the lower-error side and beats both', async () => {
  const size = 96;
  const clean = texture(size, size, 11);
  const styled = stylise(clean);
  // Keyframe A hides the right part of the scene, keyframe B the left part; the frame between shows all.
  const hideRight = warp(clean, (x, y) => [x, y], { x: 56, y: 20, size: 36 });
  const hideLeft = warp(clean, (x, y) => [x, y], { x: 4, y: 40, size: 36 });
  const hideRightStyled = warp(styled, (x, y) => [x, y], { x: 56, y: 20, size: 36 });
  const hideLeftStyled = warp(styled, (x, y) => [x, y], { x: 4, y: 40, size: 36 });
  const motion = rigidMotion(size, size, 2, 1);
  const frame = warp(clean, motion), ideal = warp(styled, motion);
  const a = await synthesize({ styles: [{ image: hideRightStyled.image }], guides: [{ source: hideRight.image, target: frame.image, weight: 6 }], seed: 1 });
  const b = await synthesize({ styles: [{ image: hideLeftStyled.image }], guides: [{ source: hideLeft.image, target: frame.image, weight: 6 }], seed: 1 });
  const mask = await blendMask(a.error, b.error, 0.5);
  const inside = (x: number, y: number, o: { x: number; y: number; size: number }) => x >= o.x + 6 && x < o.x + o.size - 2 && y >= o.y + 6 && y < o.y + o.size - 2;
  let bInRight = 0, nRight = 0, aInLeft = 0, nLeft = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      if (inside(x, y, { x: 56, y: 20, size: 36 })) { nRight++; bInRight += mask.data[y * size + x] / 255; }
      if (inside(x, y, { x: 4, y: 40, size: 36 })) { nLeft++; aInLeft += 1 - mask.data[y * size + x] / 255; }
    }
  assert.ok(bInRight / nRight > 0.9, `B chosen on ${((100 * bInRight) / nRight).toFixed(0)} % of what only B saw`);
  assert.ok(aInLeft / nLeft > 0.9, `A chosen on ${((100 * aInLeft) / nLeft).toFixed(0)} % of what only A saw`);
  const blended = await blendDirections({ a: a.image, b: b.image, mask, weightB: 0.5 });
  const errBlend = meanAbsDiff(blended, ideal.image, frame.valid, 2);
  const errA = meanAbsDiff(a.image, ideal.image, frame.valid, 2), errB = meanAbsDiff(b.image, ideal.image, frame.valid, 2);
  assert.ok(errBlend < Math.min(errA, errB), `blend ${errBlend.toFixed(2)} vs A ${errA.toFixed(2)}, B ${errB.toFixed(2)}`);
});

test('blending two identical images, or fusing an image onto itself, gives the image back', async () => {
  const im = stylise(texture(40, 30, 2));
  const rnd = random(4);
  const mask: Image = { width: 40, height: 30, channels: 1, data: Uint8Array.from({ length: 1200 }, () => (rnd() < 0.5 ? 255 : 0)) };
  const blended = await histogramBlend({ a: im, b: im, mask, weightB: 0.3 });
  assert.ok(meanAbsDiff(blended, im) < 0.6, `histogram blend moved the image by ${meanAbsDiff(blended, im)}`);
  const fused = await gradientFusion({ a: im, b: im, mask, base: im });
  assert.ok(meanAbsDiff(fused, im) < 0.6, `fusion moved the image by ${meanAbsDiff(fused, im)}`);
});

test('the histogram blend keeps the per-channel Lab mean and spread of the min-error composite', async () => {
  // Moderate colours, so that the blend stays inside the sRGB gamut (clipping would change the statistics).
  const soften = (im: Image): Image => ({ ...im, data: im.data.map((v) => 64 + v / 2) });
  const a = soften(stylise(texture(48, 32, 5))), b = soften(texture(48, 32, 6));
  const mask: Image = { width: 48, height: 32, channels: 1, data: Uint8Array.from({ length: 48 * 32 }, (_, i) => (i % 48 < 20 ? 0 : 255)) };
  const out = await histogramBlend({ a, b, mask, weightB: 0.4 });
  const composite: Image = { ...a, data: a.data.map((v, i) => (mask.data[Math.floor(i / 3)] ? b.data[i] : v)) };
  const stats = (lab: FloatImage, c: number) => {
    let s = 0, q = 0;
    const n = lab.width * lab.height;
    for (let i = 0; i < n; i++) { s += lab.data[i * 3 + c]; q += lab.data[i * 3 + c] ** 2; }
    return [s / n, Math.sqrt(q / n - (s / n) ** 2)];
  };
  const [lo, lc] = [await rgbToLab(out), await rgbToLab(composite)];
  for (let c = 0; c < 3; c++) {
    const [mo, so] = stats(lo, c), [mc, sc] = stats(lc, c);
    assert.ok(Math.abs(mo - mc) < 1 && Math.abs(so - sc) < 1, `channel ${c}: mean ${mo} vs ${mc}, std ${so} vs ${sc}`);
  }
});

test('the DCT Poisson solver reproduces a known image from its gradients alone (odd, non-power-of-two size)', async () => {
  const w = 45, h = 33;
  const known = new Float32Array(w * h), gx = new Float32Array(w * h), gy = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) known[y * w + x] = 100 + 60 * Math.sin(x / 7) * Math.cos(y / 5) + (((x * 7 + y * 13) % 11) - 5);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (x + 1 < w) gx[y * w + x] = known[y * w + x + 1] - known[y * w + x];
      if (y + 1 < h) gy[y * w + x] = known[(y + 1) * w + x] - known[y * w + x];
    }
  const mean = known.reduce((s, v) => s + v, 0) / known.length;
  const solved = await solveScreenedPoisson(plane(w, h, new Float32Array(w * h).fill(mean)), plane(w, h, gx), plane(w, h, gy), 1000);
  let worst = 0;
  for (let i = 0; i < known.length; i++) worst = Math.max(worst, Math.abs(solved.data[i] - known[i]));
  assert.ok(worst < 0.05, `largest deviation ${worst}`);
});

test('the DCT solver agrees with a plain iterative solve of the same equations', async () => {
  const w = 9, h = 7, weight = 1.3, rnd = random(9);
  const base = Float32Array.from({ length: w * h }, () => rnd() * 50);
  const gx = Float32Array.from({ length: w * h }, () => rnd() * 10 - 5), gy = Float32Array.from({ length: w * h }, () => rnd() * 10 - 5);
  const solved = await solveScreenedPoisson(plane(w, h, base), plane(w, h, gx), plane(w, h, gy), weight);
  // Gauss–Seidel on (1 + w²·L) x = base + w²·Dᵀg, with edges only between neighbours inside the grid.
  const x = Float64Array.from(base), w2 = weight * weight;
  for (let sweep = 0; sweep < 4000; sweep++)
    for (let y = 0; y < h; y++)
      for (let c = 0; c < w; c++) {
        const i = y * w + c;
        let rhs = base[i], diag = 1;
        if (c > 0) { rhs += w2 * (x[i - 1] + gx[i - 1]); diag += w2; }
        if (c < w - 1) { rhs += w2 * (x[i + 1] - gx[i]); diag += w2; }
        if (y > 0) { rhs += w2 * (x[i - w] + gy[i - w]); diag += w2; }
        if (y < h - 1) { rhs += w2 * (x[i + w] - gy[i]); diag += w2; }
        x[i] = rhs / diag;
      }
  for (let i = 0; i < x.length; i++) assert.ok(Math.abs(solved.data[i] - x[i]) < 1e-3, `pixel ${i}: ${solved.data[i]} vs ${x[i]}`);
});
