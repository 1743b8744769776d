// ETA checks shared by the estimator's and the jobs' tests: progress events fed on a stepped clock.
import assert from 'node:assert/strict';
import { createEtaEstimator } from '../../main/engine/jobs/eta';

export interface Reading { t: number; f: number; eta: number | undefined }

/** Feeds `events` ([seconds, fraction]) to a fresh estimator on a stepped clock; its readings in order. */
export function readings(events: Array<[number, number]>): Reading[] {
  let now = 0;
  const eta = createEtaEstimator(() => now);
  return events.map(([t, f]) => { now = t * 1000; return { t, f, eta: eta(f) }; });
}

/**
 * The promise the estimator keeps: "estimating…" first; once shown, an estimate every reading; and
 * between two readings dt apart the estimate moves (beyond counting down) by at most a factor 1 + dt/20 s.
 */
export function assertSteady(seen: Reading[], what: string): void {
  assert.equal(seen[0].eta, undefined, `${what}: estimating… at the first progress`);
  const first = seen.findIndex((r) => r.eta !== undefined);
  assert.ok(first > 0 && seen[first].t - seen[0].t >= 2, `${what}: estimating… for the first 2 s`);
  for (let i = first + 1; i < seen.length; i++) {
    const a = seen[i - 1], b = seen[i];
    if (b.f >= 1) continue;
    assert.notEqual(b.eta, undefined, `${what}: an estimate once shown stays (at ${b.t} s)`);
    const counted = Math.max(1, a.eta! - (b.t - a.t));
    const limit = (1 + (b.t - a.t) / 20) * 1.0001;
    assert.ok(b.eta! <= counted * limit && b.eta! >= counted / limit, `${what}: at ${b.t} s the estimate went from ${a.eta!.toFixed(0)} s to ${b.eta!.toFixed(0)} s in ${(b.t - a.t).toFixed(1)} s`);
  }
}
