// Specification of guided patch-based synthesis on scenes with known answers: a keyframe stylised by a
// deterministic filter, a target made by moving the keyframe with a known motion and an occluder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveMatches, synthesize, type Guide } from '../../native-models/src/synthesis';
import { CancelToken, UserError, isCancelled } from '../../native-models/src/errors';
import { texture, stylise, warp, rigidMotion, meanAbsDiff, type Motion, type Occluder } from './synth-scene';
import type { Image } from '../../native-models/src/image';

function scene(size: number, motion: Motion, occluder?: Occluder) {
  const frame = texture(size, size, 7);
  const style = stylise(frame);
  const target = warp(frame, motion, occluder);
  const ideal = warp(style, motion, occluder);
  const guides: Guide[] = [{ name: 'colour', source: frame, target: target.image, weight: 6 }];
  return { frame, style, target, ideal, guides };
}

test('given a rotated and shifted target with an occluder, the synthesis matches the ideally warped style on visible pixels', async () => {
  const size = 128;
  const s = scene(size, rigidMotion(size, size, 6, -5, 4), { x: 30, y: 70, size: 24 });
  const result = await synthesize({ styles: [{ image: s.style }], guides: s.guides, seed: 3 });
  const error = meanAbsDiff(result.image, s.ideal.image, s.target.valid, 3);
  const unmoved = meanAbsDiff(s.style, s.ideal.image, s.target.valid, 3);
  // Stated bound: mean absolute error <= 8 (of 255) per channel value on visible pixels 3 px away from
  // occlusions and borders; the rotation's bilinear resampling alone accounts for a few units.
  assert.ok(error <= 8, `mean error ${error.toFixed(2)} exceeds 8`);
  assert.ok(error < unmoved / 5, `mean error ${error.toFixed(2)} is not far below the unwarped keyframe's ${unmoved.toFixed(2)}`);
  assert.equal(result.image.width, size);
  assert.equal(result.image.channels, 3);
});

test('given a pure integer shift, nearly every visible pixel is matched to exactly its known source pixel', async () => {
  const size = 96, dx = 5, dy = 3;
  const s = scene(size, rigidMotion(size, size, dx, dy));
  const { matches, image } = await synthesize({ styles: [{ image: s.style }], guides: s.guides, seed: 1 });
  let exact = 0, counted = 0;
  for (let y = 2; y < size - 2; y++)
    for (let x = 2; x < size - 2; x++) {
      const sx = x - dx, sy = y - dy;
      if (sx < 2 || sy < 2 || sx >= size - 2 || sy >= size - 2) continue;
      counted++;
      const i = (y * size + x) * 2;
      if (matches.data[i] === sx && matches.data[i + 1] === sy) exact++;
    }
  assert.ok(exact / counted > 0.95, `only ${((100 * exact) / counted).toFixed(1)} % of pixels found their source`);
  assert.ok(meanAbsDiff(image, s.ideal.image, s.target.valid, 3) < 1.5);
});

test('the per-pixel error is higher where the target shows something the keyframe does not have', async () => {
  const size = 96;
  const occluder = { x: 30, y: 30, size: 30 };
  const s = scene(size, rigidMotion(size, size, 2, 2), occluder);
  const { error } = await synthesize({ styles: [{ image: s.style }], guides: s.guides, seed: 1 });
  let inside = 0, nIn = 0, outside = 0, nOut = 0;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inOcc = x >= occluder.x + 3 && x < occluder.x + occluder.size - 3 && y >= occluder.y + 3 && y < occluder.y + occluder.size - 3;
      if (inOcc) { inside += error.data[y * size + x]; nIn++; }
      else if (s.target.valid[y * size + x]) { outside += error.data[y * size + x]; nOut++; }
    }
  assert.ok(inside / nIn > 3 * (outside / nOut), `occluded error ${inside / nIn} vs visible ${outside / nOut}`);
});

test('the same seed gives the same result, whatever the number of threads', async () => {
  const size = 80;
  const s = scene(size, rigidMotion(size, size, 3, 4, 2));
  const opts = { styles: [{ image: s.style }], guides: s.guides, seed: 42, searchVoteIters: 3, patchMatchIters: 2 };
  const a = await synthesize({ ...opts, threads: 1 });
  const b = await synthesize({ ...opts, threads: 2 });
  const c = await synthesize({ ...opts, threads: 3 });
  assert.deepEqual(b.image.data, a.image.data);
  assert.deepEqual(c.matches.data, a.matches.data);
  assert.deepEqual(c.error.data, a.error.data);
});

test('threads take row blocks as they free up, yet the bytes are the same with 1 and 4 threads, from random or moved matches', async () => {
  // 200 rows: 13 blocks, so several workers share each parity and blocks go to whichever is free.
  const w = 96, h = 200;
  const frame = texture(w, h, 5), style = stylise(frame);
  const target = warp(frame, rigidMotion(w, h, 4, -3, 3), { x: 20, y: 90, size: 30 });
  const guides = [{ source: frame, target: target.image, weight: 6 }];
  const opts = { styles: [{ image: style }], guides, seed: 7, searchVoteIters: 3, patchMatchIters: 3 };
  const one = await synthesize({ ...opts, threads: 1 });
  const four = await synthesize({ ...opts, threads: 4 });
  assert.deepEqual(four.image.data, one.image.data);
  assert.deepEqual(four.matches.data, one.matches.data);
  assert.deepEqual(four.error.data, one.error.data);
  const flow = { width: w, height: h, channels: 2 as const, data: new Float32Array(w * h * 2).map((_, i) => (i % 2 === 0 ? -2 : 1)) };
  const movedOne = await synthesize({ ...opts, threads: 1, initialMatches: moveMatches(one.matches, flow) });
  const movedFour = await synthesize({ ...opts, threads: 4, initialMatches: moveMatches(one.matches, flow) });
  assert.deepEqual(movedFour.image.data, movedOne.image.data);
  assert.deepEqual(movedFour.error.data, movedOne.error.data);
});

test('starting from known matches, one cheap iteration at full resolution is as good as a full random start', async () => {
  const size = 96, dx = 4, dy = -3;
  const s = scene(size, rigidMotion(size, size, dx, dy));
  const known = new Int32Array(size * size * 2);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      known[(y * size + x) * 2] = Math.min(size - 3, Math.max(2, x - dx));
      known[(y * size + x) * 2 + 1] = Math.min(size - 3, Math.max(2, y - dy));
    }
  const cheap = { styles: [{ image: s.style }], guides: s.guides, pyramidLevels: 1, searchVoteIters: 1, patchMatchIters: 1, seed: 5 };
  const seeded = await synthesize({ ...cheap, initialMatches: { width: size, height: size, data: known } });
  const random = await synthesize(cheap);
  const full = await synthesize({ styles: [{ image: s.style }], guides: s.guides, seed: 5 });
  const err = (im: typeof seeded.image) => meanAbsDiff(im, s.ideal.image, s.target.valid, 3);
  assert.ok(err(seeded.image) <= err(full.image) + 0.5, `seeded ${err(seeded.image)} vs full ${err(full.image)}`);
  assert.ok(err(seeded.image) < err(random.image) / 2, `seeded ${err(seeded.image)} vs random ${err(random.image)}`);
});

test('along a chain, the previous frame\'s matches moved by the flow make a cheap synthesis of the next frame accurate', async () => {
  const size = 96, step = 3;
  const frame = texture(size, size, 9), style = stylise(frame);
  const frame1 = warp(frame, rigidMotion(size, size, step, 1)), frame2 = warp(frame, rigidMotion(size, size, 2 * step, 2));
  const ideal2 = warp(style, rigidMotion(size, size, 2 * step, 2));
  const first = await synthesize({ styles: [{ image: style }], guides: [{ source: frame, target: frame1.image, weight: 6 }], seed: 1 });
  // Frame 2's pixel p showed at p - (step, 1) in frame 1.
  const flow = { width: size, height: size, channels: 2 as const, data: new Float32Array(size * size * 2).map((_, i) => (i % 2 === 0 ? -step : -1)) };
  const cheap = { styles: [{ image: style }], guides: [{ source: frame, target: frame2.image, weight: 6 }], pyramidLevels: 1, searchVoteIters: 2, patchMatchIters: 1, seed: 1 };
  const moved = await synthesize({ ...cheap, initialMatches: moveMatches(first.matches, flow) });
  const cold = await synthesize(cheap);
  const err = (im: typeof moved.image) => meanAbsDiff(im, ideal2.image, frame2.valid, 3);
  assert.ok(err(moved.image) < 2, `moved matches give ${err(moved.image).toFixed(2)}`);
  assert.ok(err(moved.image) < err(cold.image) / 2, `moved ${err(moved.image).toFixed(2)} vs cold ${err(cold.image).toFixed(2)}`);
});

/** `im` moved by (dx, dy), resampled with a normalised Lanczos kernel of radius 3, borders repeated. */
function lanczosShift(im: Image, dx: number, dy: number): Image {
  const lanczos = (d: number) => (Math.abs(d) < 1e-12 ? 1 : Math.abs(d) >= 3 ? 0 : (3 * Math.sin(Math.PI * d) * Math.sin((Math.PI * d) / 3)) / (Math.PI * Math.PI * d * d));
  const weights = (t: number) => { const v = [-2, -1, 0, 1, 2, 3].map((k) => lanczos(t + 2 - (k + 2))); const sum = v.reduce((a, b) => a + b, 0); return v.map((x) => x / sum); };
  const { width: w, height: h, channels: c } = im;
  const data = new Uint8Array(w * h * c);
  const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const fx = x - dx, fy = y - dy, bx = Math.floor(fx), by = Math.floor(fy), wx = weights(fx - bx), wy = weights(fy - by);
    for (let k = 0; k < c; k++) {
      let v = 0;
      for (let j = 0; j < 6; j++) for (let i = 0; i < 6; i++) v += wx[i] * wy[j] * im.data[(clamp(by - 2 + j, h) * w + clamp(bx - 2 + i, w)) * c + k];
      data[(y * w + x) * c + k] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return { width: w, height: h, channels: c, data };
}

test('matches carried by a flow of a fraction of a pixel copy their patches from between pixels, and the fractions add up along a chain', async () => {
  const size = 96, dx = 2.5, dy = -1.25;
  const s = scene(size, rigidMotion(size, size, dx, dy));
  const identity = new Int32Array(size * size * 2);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) { identity[(y * size + x) * 2] = x; identity[(y * size + x) * 2 + 1] = y; }
  // The target's pixel p showed at p - (dx, dy) in the keyframe.
  const flow = { width: size, height: size, channels: 2 as const, data: new Float32Array(size * size * 2).map((_, i) => (i % 2 === 0 ? -dx : -dy)) };
  const carried = moveMatches({ width: size, height: size, data: identity }, flow, { subpixel: true });
  const centre = (48 * size + 48) * 2;
  assert.deepEqual([carried.data[centre] + carried.offsets![centre], carried.data[centre + 1] + carried.offsets![centre + 1]], [48 - dx, 48 + 1.25]);
  const opts = { styles: [{ image: s.style }], guides: s.guides, seed: 4 };
  const sub = await synthesize({ ...opts, initialMatches: carried });
  const whole = await synthesize({ ...opts, initialMatches: { width: size, height: size, data: carried.data } });
  // The known answer of copies from between pixels: the style moved by (dx, dy), resampled as the
  // synthesis resamples (Lanczos).
  const ideal = lanczosShift(s.style, dx, dy);
  const err = (im: typeof sub.image) => meanAbsDiff(im, ideal, s.target.valid, 3);
  // Stated bound: whole-pixel copies are half a pixel off (measured 7.8 of 255), copies from between
  // pixels are not (measured 1.7; the synthesis still moves some matches).
  assert.ok(err(sub.image) <= 3, `sub-pixel copies are ${err(sub.image).toFixed(2)} off the known answer`);
  assert.ok(err(sub.image) < err(whole.image) / 3, `sub-pixel ${err(sub.image).toFixed(2)} vs whole-pixel ${err(whole.image).toFixed(2)}`);
  assert.ok(sub.matches.offsets, 'the offsets of the final matches come back');
  // A second step of the same flow lands on whole pixels again: 2.5 + 2.5 = 5.
  const again = moveMatches(sub.matches, flow, { subpixel: true });
  let whole5 = 0, counted = 0;
  for (let y = 10; y < size - 10; y++) for (let x = 10; x < size - 10; x++) {
    const i = (y * size + x) * 2;
    counted++;
    if (again.data[i] + again.offsets![i] === x - 2 * dx && again.data[i + 1] + again.offsets![i + 1] === y - 2 * dy) whole5++;
  }
  // Stated bound: most matches stay where the flow carries them (measured 85 %; the rest the search moved).
  assert.ok(whole5 / counted > 0.75, `only ${((100 * whole5) / counted).toFixed(1)} % of matches carried twice lie at the sum of the two steps`);
  await assert.rejects(synthesize({ ...opts, initialMatches: { ...carried, offsets: carried.offsets!.map(() => 1) } }), /between -1 and 1/);
});

test('source and target of different odd sizes, several style layers and float guides are all accepted', async () => {
  const source = texture(71, 53, 2), target = texture(61, 47, 3);
  const grey = { width: 71, height: 53, channels: 1, data: source.data.filter((_, i) => i % 3 === 0) };
  const ramp = (w: number, h: number) => ({ width: w, height: h, channels: 1, data: Float32Array.from({ length: w * h }, (_, i) => (i % w) / (w - 1)) });
  const result = await synthesize({
    styles: [{ image: stylise(source) }, { image: grey, weight: 0.5 }],
    guides: [{ source, target, weight: 6 }, { source: ramp(71, 53), target: ramp(61, 47), weight: 2 }],
    seed: 2, searchVoteIters: 2, patchMatchIters: 2,
  });
  assert.deepEqual([result.image.width, result.image.height, result.image.channels], [61, 47, 4]);
  assert.ok(result.error.data.every((v) => Number.isFinite(v) && v >= 0));
  for (let i = 0; i < result.matches.data.length; i += 2) {
    assert.ok(result.matches.data[i] >= 2 && result.matches.data[i] <= 71 - 3);
    assert.ok(result.matches.data[i + 1] >= 2 && result.matches.data[i + 1] <= 53 - 3);
  }
});

test('given mismatched guide sizes or channels, the error names the guide and the sizes', async () => {
  const s = scene(40, rigidMotion(40, 40, 1, 1));
  const small = texture(30, 30, 1);
  await assert.rejects(
    synthesize({ styles: [{ image: s.style }], guides: [{ name: 'colour', source: small, target: s.target.image }] }),
    (e: Error) => e instanceof UserError && /colour/.test(e.message) && /30x30/.test(e.message),
  );
  const grey = { width: 40, height: 40, channels: 1, data: new Uint8Array(1600) };
  await assert.rejects(
    synthesize({ styles: [{ image: s.style }], guides: [{ name: 'edges', source: grey, target: s.target.image }] }),
    (e: Error) => e instanceof UserError && /edges/.test(e.message) && /channels/.test(e.message),
  );
  await assert.rejects(synthesize({ styles: [{ image: s.style }], guides: s.guides, patchSize: 4 }), /odd/);
});

test('cancelling stops the synthesis with a CancelledError', async () => {
  const s = scene(128, rigidMotion(128, 128, 3, 3));
  const cancel = new CancelToken();
  const running = synthesize({ styles: [{ image: s.style }], guides: s.guides, searchVoteIters: 50, patchMatchIters: 10, cancel });
  cancel.cancel();
  await assert.rejects(running, (e: unknown) => isCancelled(e));
  await assert.rejects(synthesize({ styles: [{ image: s.style }], guides: s.guides, cancel }), (e: unknown) => isCancelled(e));
});
