// Given a folder of frames, the flow cache computes each consecutive pair's flows once, serves them from
// disk afterwards, and keeps the flows of each source and estimator under their own key: another source
// or estimator setting computes its own, switching back reuses the old ones; the layout before keyed
// sets is moved into its set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FlowCache, flowFileNames, nativeFlowEstimator, type FlowEstimator } from '../../main/engine/flow/flow-cache';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { frameFileName } from '../../main/engine/project/paths';
import { computeFlow } from '../../native-models/src/flow';
import { roundFlow } from '../../main/engine/flow/compact-flow';
import { makeTexture, renderScene, translation } from '../helpers/flow-scenes';

async function framesFolder(): Promise<{ root: string; framesDir: string }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-cache-'));
  const framesDir = path.join(root, 'frames');
  fs.mkdirSync(framesDir);
  const texture = makeTexture(4);
  for (let i = 0; i < 3; i++) {
    const s = renderScene(64, 48, [{ texture, motion: translation(1.5 * i, -i) }]);
    await writePng(path.join(framesDir, frameFileName(i)), s.b);
  }
  return { root, framesDir };
}

/** The real native estimator, counting how often it runs. */
function counting(options: Parameters<typeof nativeFlowEstimator>[0] = {}): FlowEstimator & { calls: number } {
  const inner = nativeFlowEstimator(options);
  const e = { id: inner.id, calls: 0, computePair: (a: Parameters<FlowEstimator['computePair']>[0], b: Parameters<FlowEstimator['computePair']>[1]) => { e.calls++; return inner.computePair(a, b); } };
  return e;
}

test('given a frames folder, when a pair is asked for repeatedly (also concurrently and after reopening), then it is computed once', async () => {
  const { root, framesDir } = await framesFolder();
  const dir = path.join(root, 'flow');
  const estimator = counting();
  const cache = await FlowCache.open({ dir, framesDir, sourceKey: 'video-a@64x48', estimator });
  const [p1, p2] = await Promise.all([cache.pair(0), cache.pair(0)]);
  assert.equal(estimator.calls, 1);
  assert.deepEqual(p1.forward.data, p2.forward.data);
  assert.ok(fs.existsSync(path.join(cache.dir, flowFileNames(0).forward)) && fs.existsSync(path.join(cache.dir, flowFileNames(0).backward)));
  const reopened = await FlowCache.open({ dir, framesDir, sourceKey: 'video-a@64x48', estimator });
  const p3 = await reopened.pair(0);
  assert.equal(estimator.calls, 1, 'served from disk');
  assert.deepEqual(p3.backward.data, p1.backward.data);
  fs.rmSync(root, { recursive: true });
});

test('given cached flows, when the source key changes, then flows are computed for it and the old ones stay for a switch back', async () => {
  const { root, framesDir } = await framesFolder();
  const dir = path.join(root, 'flow');
  const estimator = counting();
  const cache = await FlowCache.open({ dir, framesDir, sourceKey: 'k1', estimator });
  await cache.ensureRange(0, 2);
  assert.equal(estimator.calls, 2);
  assert.ok(cache.has(1));
  const changed = await FlowCache.open({ dir, framesDir, sourceKey: 'k2@other-size', estimator });
  assert.notEqual(changed.key, cache.key);
  assert.ok(!changed.has(0) && !changed.has(1), 'flows of the other source are not this source\'s');
  await changed.pair(1);
  assert.equal(estimator.calls, 3);
  const back = await FlowCache.open({ dir, framesDir, sourceKey: 'k1', estimator });
  await back.ensureRange(0, 2);
  assert.equal(estimator.calls, 3, 'switching back reuses the first source\'s flows');
  assert.equal(back.computed, 0);
  fs.rmSync(root, { recursive: true });
});

test('given flows of one estimator setting, when the setting changes, then new flows are computed; switched back, the old ones are reused', async () => {
  const { root, framesDir } = await framesFolder();
  const dir = path.join(root, 'flow');
  const balanced = counting({ preset: 'balanced' });
  const fast = counting({ preset: 'fast' });
  await (await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator: balanced })).ensureRange(0, 2);
  assert.equal(balanced.calls, 2);
  const other = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator: fast });
  await other.ensureRange(0, 2);
  assert.equal(fast.calls, 2, 'another setting computes its own flows');
  assert.equal(other.computed, 2);
  const again = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator: balanced });
  const served = await again.pair(0);
  await again.ensureRange(0, 2);
  assert.equal(balanced.calls, 2, 'no computation when switched back');
  assert.equal(again.computed, 0);
  assert.equal(served.forward.width, 64);
  assert.equal(fs.readdirSync(dir).sort().join(','), [again.key, other.key].sort().join(','), 'one folder per key');
  fs.rmSync(root, { recursive: true });
});

test('given flows in the layout before keyed sets, when opened, then matching flows move into their set and are reused; others are deleted', async () => {
  const { root, framesDir } = await framesFolder();
  const dir = path.join(root, 'flow');
  const estimator = counting();
  const cache = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator });
  await cache.ensureRange(0, 2);
  // Lay the set out as the earlier version did: the files and the key file directly in the flow folder.
  for (const name of fs.readdirSync(cache.dir)) fs.renameSync(path.join(cache.dir, name), path.join(dir, name));
  fs.rmdirSync(cache.dir);
  const reopened = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator });
  await reopened.ensureRange(0, 2);
  assert.equal(estimator.calls, 2, 'the old flows are used where they were moved');
  assert.deepEqual(fs.readdirSync(dir), [reopened.key]);

  // An old layout of another storage format (or an unreadable key file): its flows are deleted, not trusted.
  fs.writeFileSync(path.join(dir, 'flow-cache.json'), JSON.stringify({ sourceKey: 'k', estimator: estimator.id, storage: 'float32' }));
  fs.writeFileSync(path.join(dir, '00000.fwd.flo'), 'old');
  await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator });
  assert.deepEqual(fs.readdirSync(dir), [reopened.key]);
  fs.rmSync(root, { recursive: true });
});

test('given the cache, when a pair is served, then it equals the flow computed directly from the frames', async () => {
  const { root, framesDir } = await framesFolder();
  const cache = await FlowCache.open({ dir: path.join(root, 'flow'), framesDir, sourceKey: 'k' });
  const cached = await cache.pair(1);
  const direct = await computeFlow(await readRgb(path.join(framesDir, frameFileName(1))), await readRgb(path.join(framesDir, frameFileName(2))));
  // The cache rounds to its stored step (1/32 px here), the same whether just computed or read back.
  assert.deepEqual(cached.forward.data, roundFlow(direct.forward).data);
  for (let i = 0; i < direct.forward.data.length; i++) assert.ok(Math.abs(cached.forward.data[i] - direct.forward.data[i]) <= 1 / 64 + 1e-6);
  const reread = await (await FlowCache.open({ dir: path.join(root, 'flow'), framesDir, sourceKey: 'k' })).pair(1);
  assert.deepEqual(reread.forward.data, cached.forward.data);
  assert.deepEqual(reread.backward.data, cached.backward.data);
  const occlusion = await cache.occlusion(1);
  assert.equal(occlusion.width, 64);
  fs.rmSync(root, { recursive: true });
});

test('given a damaged cached file, when the pair is asked for, then it is rebuilt rather than failing', async () => {
  const { root, framesDir } = await framesFolder();
  const dir = path.join(root, 'flow');
  const estimator = counting();
  const cache = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator });
  await cache.pair(0);
  fs.writeFileSync(path.join(cache.dir, flowFileNames(0).forward), 'garbage');
  const again = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator });
  const pair = await again.pair(0);
  assert.equal(pair.forward.width, 64);
  assert.equal(estimator.calls, 2);
  fs.rmSync(root, { recursive: true });
});
