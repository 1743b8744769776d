// ETAs from progress fractions: "estimating" until a rate is measured, then smooth (no jumps).
import { test } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { createEtaEstimator } from '../../main/engine/jobs/eta';
import { assertSteady, readings } from '../helpers/eta';

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

const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/eta/recorded-progress.json'), 'utf8')) as { recordings: Array<{ name: string; events: Array<[number, number]> }> };

for (const r of recorded.recordings) {
  test(`given the progress logged from a real run (${r.name.split(':')[0]}), when estimated, then it says estimating… first and never jumps`, () => {
    assertSteady(readings(r.events), r.name);
  });
}

test('given Render all\'s logged progress with a graph built before the first later keyframe, when estimated, then the pause does not double the estimate', () => {
  const events = recorded.recordings.find((r) => r.name.startsWith('Render all'))!.events;
  const seen = readings(events).filter((r) => r.eta !== undefined && r.f < 1);
  // The predicted end (time + estimate) stays within a band instead of swinging (before: 74–162 s for a 99 s job).
  const ends = seen.map((r) => r.t + r.eta!);
  assert.ok(Math.max(...ends) / Math.min(...ends) < 1.6, `predicted end ${Math.min(...ends).toFixed(0)}–${Math.max(...ends).toFixed(0)} s`);
});

test('given a steady job with a one-off pause and a burst of cheap steps, when estimated each second, then the estimate stays near the true time left', () => {
  // 1% per second, except a 12 s pause at 30% (a model loaded midway) and 10% done at once at 60% (work found done).
  const events: Array<[number, number]> = [];
  let f = 0, t = 0;
  while (f < 0.99) {
    t++;
    if (Math.abs(f - 0.3) < 1e-9 && t < 60) { t += 12; }
    f = Math.round((f + (Math.abs(f - 0.6) < 1e-9 ? 0.1 : 0.01)) * 100) / 100;
    events.push([t, f]);
  }
  const seen = readings(events);
  assertSteady(seen, 'synthetic');
  for (const r of seen.filter((x) => x.eta !== undefined && x.f > 0.1 && x.f < 0.9)) {
    const truth = (1 - r.f) * 100; // seconds left at 1% per second
    assert.ok(r.eta! > truth / 1.6 && r.eta! < truth * 1.6, `at ${(r.f * 100).toFixed(0)}%: ${r.eta!.toFixed(0)} s left, truly about ${truth.toFixed(0)} s`);
  }
});
