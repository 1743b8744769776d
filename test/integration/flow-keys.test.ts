// A project's flows are keyed by what made them (issue 15): the source frames (the video, or the copy it
// was relinked to), the estimator and the storage. Relinked to another video, the flows are computed
// again, never reused; relinked back, the first ones are found without computing; the collector knows
// the sets, keeps the current one and removes old ones by size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { readProjectFile } from '../../main/engine/project/project-file';
import { relinkSource } from '../../main/engine/project/source-video';
import { openProjectFlows } from '../../main/engine/propagation/propagate-project';
import { projectFlowKey } from '../../main/engine/project/output-keys';
import { collectCache, keysOf, listCache } from '../../main/engine/project/cache-collector';

test('given a project\'s flows, when the source is relinked to another video, then they are not reused; relinked back, they are, and the old set is collected by size', { timeout: 300_000 }, async () => {
  const dir = tempDir('rerender-flow-keys-');
  const file = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 128, height: 72, frames: 6 });
  assert.equal(rerender(['new', file, '--video', video, '--short-side', '64']).code, 0);
  const p = await readProjectFile(file);
  const pairs = p.frames.count - 1;

  const first = await openProjectFlows(file, p);
  await first.ensureRange(0, p.frames.count - 1);
  assert.equal(first.computed, pairs);
  const reopened = await openProjectFlows(file, p);
  await reopened.ensureRange(0, p.frames.count - 1);
  assert.equal(reopened.computed, 0, 'the same source: served from the cache');

  // Another video with the same frame count, rate and size (another encoder): relinking is allowed, the flows are its own.
  const other = makeVideo(dir, 'other', { width: 128, height: 72, frames: 6, codec: 'mpeg4', ext: 'mp4' });
  const relinked = await relinkSource(file, p, other);
  assert.notEqual(projectFlowKey(relinked), projectFlowKey(p));
  const second = await openProjectFlows(file, relinked);
  assert.ok(!second.has(0), 'the first video\'s flows are not offered for the other video');
  await second.ensureRange(0, p.frames.count - 1);
  assert.equal(second.computed, pairs);

  const back = await relinkSource(file, relinked, video);
  assert.equal(projectFlowKey(back), projectFlowKey(p));
  const third = await openProjectFlows(file, back);
  await third.ensureRange(0, p.frames.count - 1);
  assert.equal(third.computed, 0, 'relinked back: the first flows are found again');

  const flows = async () => (await listCache(file, back)).filter((e) => e.kind === 'flow');
  assert.deepEqual((await flows()).map((e) => [e.key, e.current, e.complete]).sort(), [[projectFlowKey(p), true, true], [projectFlowKey(relinked), false, true]].sort());
  // Kept while undo can return to the relinked document; collected once nothing refers to it.
  const kept = await collectCache(file, back, { limitBytes: 1, keep: keysOf(relinked) });
  assert.deepEqual(kept.removed.filter((e) => e.kind === 'flow'), []);
  const collected = await collectCache(file, back, { limitBytes: 1 });
  assert.deepEqual(collected.removed.filter((e) => e.kind === 'flow').map((e) => e.key), [projectFlowKey(relinked)]);
  assert.deepEqual((await flows()).map((e) => e.key), [projectFlowKey(p)], 'the current set never goes');
  const last = await openProjectFlows(file, back);
  await last.ensureRange(0, p.frames.count - 1);
  assert.equal(last.computed, 0);
});
