// How far a running farm segment is, as the submitter counts it for its progress line and ETA: the
// worker's fraction of the segment's synthesis steps (both directions), not only the frames finished
// (which a two-sided segment finishes only at the end); a malformed progress object counts as nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobFramesDone } from '../../main/farm/submit';

test('given worker progress of a running segment, when the submitter counts it, then the step fraction counts before any frame is finished', () => {
  assert.equal(jobFramesDone({ worker: 'w', framesDone: 0, frames: 9, fraction: 0.5 }, 9), 4.5, 'half the steps done: half the segment');
  assert.equal(jobFramesDone({ worker: 'w', framesDone: 6, frames: 9, fraction: 0.5 }, 9), 6, 'finished frames count when they say more');
  assert.equal(jobFramesDone({ worker: 'w', framesDone: 20, frames: 9, fraction: 3 }, 9), 9, 'never more than the segment');
  for (const bad of [undefined, null, 7, 'x', {}, { framesDone: 'x', fraction: Number.NaN }, { framesDone: -3, fraction: -1 }]) {
    assert.equal(jobFramesDone(bad, 9), 0, JSON.stringify(bad));
  }
});
