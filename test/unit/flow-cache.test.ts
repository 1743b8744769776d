// Given a folder of frames, the flow cache computes each consecutive pair's flows once, serves
// them from disk afterwards, and clears itself when the source key changes.
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
function counting(): FlowEstimator & { calls: number } {
  const inner = nativeFlowEstimator();
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
  assert.ok(fs.existsSync(path.join(dir, flowFileNames(0).forward)) && fs.existsSync(path.join(dir, flowFileNames(0).backward)));
  const reopened = await FlowCache.open({ dir, framesDir, sourceKey: 'video-a@64x48', estimator });
  const p3 = await reopened.pair(0);
  assert.equal(estimator.calls, 1, 'served from disk');
  assert.deepEqual(p3.backward.data, p1.backward.data);
  fs.rmSync(root, { recursive: true });
});

test('given cached flows, when the source key changes, then the old flows are deleted and recomputed', async () => {
  const { root, framesDir } = await framesFolder();
  const dir = path.join(root, 'flow');
  const estimator = counting();
  const cache = await FlowCache.open({ dir, framesDir, sourceKey: 'k1', estimator });
  await cache.ensureRange(0, 2);
  assert.equal(estimator.calls, 2);
  assert.ok(cache.has(1));
  const changed = await FlowCache.open({ dir, framesDir, sourceKey: 'k2@other-size', estimator });
  assert.ok(!changed.has(0) && !changed.has(1), 'flows of the old source are gone');
  await changed.pair(1);
  assert.equal(estimator.calls, 3);
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
  fs.writeFileSync(path.join(dir, flowFileNames(0).forward), 'garbage');
  const again = await FlowCache.open({ dir, framesDir, sourceKey: 'k', estimator });
  const pair = await again.pair(0);
  assert.equal(pair.forward.width, 64);
  assert.equal(estimator.calls, 2);
  fs.rmSync(root, { recursive: true });
});
