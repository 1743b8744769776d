// ETAs from progress fractions: "estimating" until a rate is measured, then smooth (no jumps).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEtaEstimator } from '../../main/engine/jobs/eta';

test('given a slow start and then a steady rate, when estimated each second, then there is no estimate for the first 2 s and later ones never jump', () => {
  let now = 0;
  const eta = createEtaEstimator(() => now);
  const seen: Array<number | undefined> = [];
  // 10 s of set-up at 0%, then 1% per second with uneven steps (2% every other second).
  for (let t = 0; t <= 80; t++) {
    now = t * 1000;
    const f = t < 10 ? 0 : Math.min(0.99, Math.floor((t - 10) / 2) * 0.02 + 0.001);
    seen.push(eta(f));
  }
  assert.equal(seen.slice(0, 12).filter((x) => x !== undefined).length, 0, 'estimating… at the start');
  const later = seen.slice(20).filter((x): x is number => x !== undefined);
  assert.ok(later.length > 50);
  for (let i = 1; i < later.length; i++) {
    const step = later[i - 1] - later[i];
    assert.ok(step > -3 && step < 5, `estimate moved by ${step.toFixed(1)} s in one second (${later[i - 1].toFixed(1)} → ${later[i].toFixed(1)})`);
  }
  const at40 = seen[40]!; // 30% left at 1%/s ≈ 70 s
  assert.ok(at40 > 55 && at40 < 85, `at 40 s: ${at40.toFixed(0)} s left`);
});
