// FRESCO batching: every keyframe is rendered once as new, later batches start with the first keyframe and
// the previous batch's last, and no batch is larger than the batch size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planBatches } from '../../main/engine/fresco/batches';
import { UserError } from '../../main/engine/errors';

test('given 20 keyframes and batches of 8, then the batches are 0–7, then 0, 7 and six new ones, and so on', () => {
  assert.deepEqual(planBatches(20, 8), [
    { keyframes: [0, 1, 2, 3, 4, 5, 6, 7], prefix: 0 },
    { keyframes: [0, 7, 8, 9, 10, 11, 12, 13], prefix: 2 },
    { keyframes: [0, 13, 14, 15, 16, 17, 18, 19], prefix: 2 },
  ]);
});

test('given any keyframe count and batch size, then each keyframe is new in exactly one batch and every later batch is prefixed by the first and the previous last', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 3, max: 16 }), (count, size) => {
    const plans = planBatches(count, size);
    const fresh = plans.flatMap((p) => p.keyframes.slice(p.prefix));
    assert.deepEqual(fresh, Array.from({ length: count }, (_, i) => i));
    plans.forEach((p, i) => {
      assert.ok(p.keyframes.length <= size);
      if (i === 0) return assert.equal(p.prefix, 0);
      const last = plans[i - 1].keyframes[plans[i - 1].keyframes.length - 1];
      assert.deepEqual(p.keyframes.slice(0, p.prefix), last === 0 ? [0] : [0, last]);
      assert.ok(p.keyframes.length > p.prefix, 'a later batch renders at least one new keyframe');
    });
  }));
});

test('given a batch size below 3, then planning fails with the reason', () => {
  assert.throws(() => planBatches(5, 2), (e: Error) => e instanceof UserError && /at least 3/.test(e.message));
});
