import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inWindow, strictlyInWindow, type StepWindow } from '../../main/engine/render/step-windows';

const covered = (run: { startStep: number; steps: number }, w: StepWindow, strict = false) => {
  const out: number[] = [];
  for (let s = 0; s < run.steps; s++) if ((strict ? strictlyInWindow : inWindow)(s, run, w)) out.push(s);
  return out;
};

test('given the default windows, when a run starts from noise, then they cover the spec\'s absolute steps; when SDEdit starts at step 5 of 20, then they cover the same fractions of the 15 executed steps', () => {
  const fromNoise = { startStep: 0, steps: 20 }, sdedit = { startStep: 5, steps: 20 };
  assert.deepEqual(covered(fromNoise, { start: 0, end: 0.1 }), [0, 1, 2]);
  assert.deepEqual(covered(fromNoise, { start: 0.5, end: 0.8 }, true), [11, 12, 13, 14, 15]);
  assert.deepEqual(covered(fromNoise, { start: 0.8, end: 1 }), [16, 17, 18, 19]);
  assert.deepEqual(covered(sdedit, { start: 0, end: 0.1 }), [5, 6], 'shape-aware fusion acts on the first executed steps');
  assert.deepEqual(covered(sdedit, { start: 0.5, end: 0.8 }, true), [13, 14, 15, 16]);
  assert.deepEqual(covered(sdedit, { start: 0.8, end: 1 }), [17, 18, 19]);
  assert.deepEqual(covered(sdedit, { start: 0, end: 1 }), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 'never a step the run skips');
  assert.deepEqual(covered(sdedit, { start: 0.6, end: 0.2 }), [], 'start after end: off');
});
