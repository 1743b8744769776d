// FRESCO batching: every keyframe is rendered once as new, later batches start with the first keyframe and
// the previous batch's last, and no batch is larger than the batch size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { batchParams, planBatches, regenerateBatch } from '../../main/engine/fresco/batches';
import { updateKeyframe } from '../../main/engine/project/keyframes';
import type { Keyframe } from '../../preload/project-schema';
import { sampleProject } from '../helpers/project';
import { UserError } from '../../native-models/src/errors';

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

test('given a keyframe to regenerate, then its batch is it with the first keyframe and the one before it (the one after, for the first), and only it is kept', () => {
  assert.deepEqual(regenerateBatch(5, 3), { keyframes: [0, 2, 3], keep: [3] });
  assert.deepEqual(regenerateBatch(5, 1), { keyframes: [0, 1], keep: [1] });
  assert.deepEqual(regenerateBatch(5, 0), { keyframes: [0, 1], keep: [0] });
  assert.deepEqual(regenerateBatch(1, 0), { keyframes: [0], keep: [0] });
});

test('given keyframes with their own settings, then prompts and guidance stay per keyframe, context keyframes take the kept one\'s seed, and differing schedules fall back to the project\'s with a warning', () => {
  let p = sampleProject(50, [0, 10, 20, 30]);
  const own = (frame: number, overrides: Keyframe['overrides']) => { p = updateKeyframe(p, p.keyframes.find((k) => k.frame === frame)!.id, (k) => ({ ...k, overrides })); };
  own(10, { prompt: 'a harbour', cfg: 3 });
  own(20, { seed: 1234, steps: 30 });
  const keys = [...p.keyframes].sort((a, b) => a.frame - b.frame);
  const warnings: string[] = [];
  const regenerate = batchParams(p, keys, regenerateBatch(4, 2), warnings);
  assert.deepEqual(regenerate.map((q) => q.seed), [1234, 1234, 1234], 'context made with the regenerated keyframe\'s seed');
  assert.deepEqual(regenerate.map((q) => q.steps), [30, 30, 30], 'alone in its batch, its own schedule is the batch\'s');
  assert.equal(regenerate[1].prompt, 'a harbour');
  assert.equal(regenerate[1].cfg, 3);
  assert.deepEqual(warnings, []);
  const all = batchParams(p, keys, { keyframes: [0, 1, 2, 3], keep: [0, 1, 2, 3] }, warnings);
  assert.deepEqual(all.map((q) => q.seed), [p.render.seed, p.render.seed, 1234, p.render.seed]);
  assert.deepEqual(all.map((q) => q.steps), [p.render.steps, p.render.steps, p.render.steps, p.render.steps]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^the keyframe at frame 20: its own steps, sampler, strength or ControlNet type/);
});
