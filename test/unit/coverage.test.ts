// Coverage figures of a propagated frame and the frames "Suggest a keyframe here" picks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, frameCoverage, kthSmallest, worstFrames } from '../../main/engine/propagation/coverage';

const float = (w: number, h: number, f: (i: number) => number) => ({ width: w, height: h, channels: 1, data: Float32Array.from({ length: w * h }, (_, i) => f(i)) });
const bytes = (w: number, h: number, f: (i: number) => number) => ({ width: w, height: h, channels: 1, data: Uint8Array.from({ length: w * h }, (_, i) => f(i)) });

test('given two directions blended by a mask, then the error is the chosen side\'s and a pixel is uncovered only when neither keyframe shows it', () => {
  const w = 4, h = 2;
  const a = { error: float(w, h, () => 10), uncovered: bytes(w, h, (i) => (i < 4 ? 255 : 0)) };
  const b = { error: float(w, h, () => 30), uncovered: bytes(w, h, (i) => (i % 2 ? 255 : 0)) };
  const mask = bytes(w, h, (i) => (i < 2 ? 255 : 0)); // the first two pixels come from b
  const { figure, map } = frameCoverage(a, b, mask);
  assert.equal(figure.error, (2 * 30 + 6 * 10) / 8);
  assert.equal(figure.worst, 30);
  assert.equal(figure.uncovered, 2 / 8, 'pixels 1 and 3: hidden from both');
  assert.deepEqual([map.width, map.height, map.channels], [4, 2, 3], 'small frames keep their size');
  assert.equal(map.data[0], errorCode(30));
  assert.equal(map.data[1 * 3 + 1], 255, 'pixel 1 is uncovered');
  assert.equal(map.data[2 * 3 + 1], 0);
  const one = frameCoverage(a);
  assert.equal(one.figure.uncovered, 4 / 8, 'one direction: its own uncovered pixels');
});

test('given a large frame, then its map is at most 128 px on the long side', () => {
  const w = 512, h = 256;
  const { map } = frameCoverage({ error: float(w, h, () => 1), uncovered: bytes(w, h, () => 0) });
  assert.deepEqual([map.width, map.height], [128, 64]);
});

test('given per-frame figures, then the worst frames come first, away from keyframes and from each other, and frames without figures are never picked', () => {
  const error = Array.from({ length: 100 }, (_, f) => (f === 0 || f === 99 ? null : 10 + (f === 50 ? 90 : 0) + (f === 52 ? 80 : 0) + (f === 20 ? 60 : 0) + (f === 97 ? 100 : 0)));
  const uncovered = error.map((e, f) => (e === null ? null : f === 70 ? 0.5 : 0));
  const picks = worstFrames(error, uncovered, [0, 99], 3, 5);
  assert.equal(picks[0], 70, 'half the picture unseen outranks any error');
  assert.equal(picks[1], 97, 'two frames from the keyframe at 99 is allowed');
  assert.equal(picks[2], 50, '52 is too close to 50');
  assert.deepEqual(worstFrames(error, uncovered, [96, 98], 1, 5).includes(97), false, 'never next to a keyframe');
  const dense = Array.from({ length: 1000 }, (_, f) => (f % 10 ? 1 + (f % 10 === 5 ? 1 : 0) : null));
  assert.equal(worstFrames(dense, dense.map(() => 0), Array.from({ length: 100 }, (_, i) => i * 10)).length, 5, 'keyframes every 10 frames still leave room for suggestions');
  assert.deepEqual(worstFrames(error.map(() => null), uncovered, []), []);
});

test('given any values, the selected k-th smallest is the value a sort puts at k (ties, runs, NaN included)', () => {
  let seed = 7;
  const random = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
  for (let t = 0; t < 200; t++) {
    const n = 1 + Math.floor(random() * (t < 80 ? 20 : 2000));
    const kind = t % 4;
    const values = Float32Array.from({ length: n }, (_, i) => (kind === 0 ? random() * 100 : kind === 1 ? Math.floor(random() * 3) : kind === 2 ? i : n - i));
    if (t % 50 === 7) values[0] = NaN;
    for (const k of [0, Math.floor(n / 2), Math.min(n - 1, Math.floor(n * 0.95)), n - 1]) {
      assert.ok(Object.is(kthSmallest(values, k), Float32Array.from(values).sort()[k]), `case ${t}: n ${n}, k ${k}`);
    }
  }
});
