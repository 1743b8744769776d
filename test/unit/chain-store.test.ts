// A chain step's scratch file: what is saved loads back exactly, and a missing, short or foreign file
// loads as nothing (so the step is recomputed) instead of failing the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChainStore } from '../../main/engine/propagation/frame-store';

test('given a saved step, when loaded, then image, error, positions, matches (with their sub-pixel offsets) and the uncovered mask come back exactly; damaged files load as nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chain-store-'));
  const store = new ChainStore(path.join(dir, 'forward'));
  await store.ensure();
  const w = 7, h = 5, n = w * h;
  const image = { width: w, height: h, channels: 3, data: Uint8Array.from({ length: n * 3 }, (_, i) => (i * 37) & 255) };
  const error = { width: w, height: h, channels: 1, data: Float32Array.from({ length: n }, (_, i) => i / 3) };
  const positions = { width: w, height: h, channels: 2, data: Float32Array.from({ length: n * 2 }, (_, i) => -i * 1.25) };
  const matches = { width: w, height: h, data: Int32Array.from({ length: n * 2 }, (_, i) => i % 11 - 3) };
  const uncovered = { width: w, height: h, channels: 1, data: Uint8Array.from({ length: n }, (_, i) => (i % 3 ? 0 : 255)) };
  assert.equal(store.has(4), false);
  assert.equal(await store.load(4), undefined);
  await store.save(4, { image, error, positions, matches, uncovered });
  assert.equal(store.has(4), true);
  const back = await store.load(4);
  assert.ok(back);
  assert.deepEqual(back.image, image);
  assert.deepEqual(back.error, error);
  assert.deepEqual(back.positions, positions);
  assert.deepEqual(back.matches, matches);
  assert.deepEqual(back.uncovered, uncovered);
  // Sub-pixel offsets of the matches (multiples of 1/64 px between -1 and 1) come back exactly too.
  const offsets = Float32Array.from({ length: n * 2 }, (_, i) => ((i * 13) % 127 - 63) / 64);
  await store.save(6, { image, error, positions, matches: { ...matches, offsets }, uncovered });
  assert.deepEqual((await store.load(6))!.matches, { ...matches, offsets });
  fs.rmSync(store.stepPath(6));
  assert.deepEqual(fs.readdirSync(store.dir), ['00004.step'], 'one file per step, no temp files left');
  const bytes = fs.readFileSync(store.stepPath(4));
  fs.writeFileSync(store.stepPath(4), bytes.subarray(0, bytes.length - 1));
  assert.equal(await store.load(4), undefined, 'cut short');
  fs.writeFileSync(store.stepPath(4), Buffer.alloc(0));
  assert.equal(await store.load(4), undefined, 'empty');
  fs.writeFileSync(store.stepPath(4), Buffer.alloc(bytes.length));
  assert.equal(await store.load(4), undefined, 'wrong magic');
  await assert.rejects(store.save(5, { image, error: { ...error, width: 6 }, positions, matches, uncovered }), /error map is 6×5/);
  fs.rmSync(dir, { recursive: true });
});
