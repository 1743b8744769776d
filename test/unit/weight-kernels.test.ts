// Specification of the addon's weight kernels: bit-identical to the TypeScript conversions for every
// half value and for edge-case floats, and the low-rank update equals a float64 reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weightKernels } from '../../native-models/src/weights/native-kernels';
import { float32ToHalfBits, halfToFloat32 } from '../../native-models/src/weights/half';

const native = weightKernels();
const skip = native ? false : 'the built addon has no weight kernels (InitWeights not registered or addon not built)';

test('given every half value, then the native conversion equals the TypeScript one (NaN stays NaN)', { skip }, () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const out = new Float32Array(65536);
  native!.halfToFloatSync(all, out);
  for (let start = 0; start < 65536; start += 4096) {
    const expected = halfToFloat32(all.subarray(start, start + 4096)); // small arrays take the TypeScript path
    assert.deepEqual([...out.subarray(start, start + 4096)], [...expected]);
  }
});

test('given edge-case and random floats, then native float -> half rounding equals the TypeScript one', { skip }, () => {
  const edge = [0, -0, 1, -1, 65504, 65520, 65519.99, 1e-8, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 2 ** -14 - 2 ** -25, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e30, -1e-30];
  const values = Float32Array.from([...edge, ...Array.from({ length: 100_000 }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 12) - 8))]);
  const out = new Uint16Array(values.length);
  native!.floatToHalfSync(values, out);
  values.forEach((v, i) => assert.equal(out[i], float32ToHalfBits(v), `value ${v}`));
});

test('given up, down and a weight, then the native low-rank merge equals W + scale·up@down computed in float64', { skip }, () => {
  const rows = 37, cols = 53, rank = 5, scale = 0.8 * (3 / rank);
  const f = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 0.3);
  const weight = f(rows * cols, 1);
  const up = f(rows * rank, 2);
  const down = f(rank * cols, 3);
  const expected = new Float32Array(rows * cols);
  for (let o = 0; o < rows; o++) for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let k = 0; k < rank; k++) s += up[o * rank + k] * down[k * cols + j];
    expected[o * cols + j] = weight[o * cols + j] + scale * s;
  }
  native!.mergeLowRankSync(weight, up, down, rank, scale);
  let max = 0;
  for (let i = 0; i < weight.length; i++) max = Math.max(max, Math.abs(weight[i] - expected[i]));
  assert.ok(max <= 1e-7, `max abs diff ${max}`);
  assert.throws(() => native!.mergeLowRankSync(weight, up, down.subarray(1), rank, scale), /rank does not divide|does not match/);
});
