// What a build removes from the model cache before it writes (sweepGraphCache): temporary files whose
// writer is gone or that nothing has written to for an hour, and entries of an older graph builder with the
// files no current entry uses; a build in progress in a live process and every current entry stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { GRAPH_BUILDER_VERSION, sweepGraphCache, type CompiledGraphKey } from '../../native-models/src/runtime/graph-cache';

const key: CompiledGraphKey = { weights: 'w123', graph: 'unet', precision: 'fp32', fusedOps: false };

/** The pid of a process that has exited (so no live process has it, barring reuse in the moment). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

test('given a cache folder with partial files of a dead writer, an old unnamed one, a live writer\'s, and entries of this and an older builder, when swept, then only what no build will finish or load again is removed', () => {
  const dir = tempDir('rerender-sweep-');
  const write = (name: string, bytes = 10) => fs.writeFileSync(path.join(dir, name), Buffer.alloc(bytes, 1));
  const dead = deadPid();
  write(`weights-w123.a1.data.${dead}.partial`, 1000); // a build killed midway
  write('unet-old.onnx.partial'); // an earlier version's name, untouched for two hours
  const twoHoursAgo = (Date.now() - 2 * 3600 * 1000) / 1000;
  fs.utimesSync(path.join(dir, 'unet-old.onnx.partial'), twoHoursAgo, twoHoursAgo);
  write('unet-new.onnx.partial'); // an earlier version's name, written just now: may be in progress
  write(`weights-w123.b2.data.${process.pid}.partial`); // this process is writing it
  // An entry of the current builder and one of an older builder, sharing one data file.
  for (const f of ['cur.onnx', 'old.onnx', 'shared.data', 'old-store.data', 'old-store.index.json']) write(f);
  const marker = (files: string[], builder: number) => JSON.stringify({ key, builder, files, createdAt: 'now' });
  fs.writeFileSync(path.join(dir, 'cur.json'), marker(['cur.onnx', 'shared.data'], GRAPH_BUILDER_VERSION));
  fs.writeFileSync(path.join(dir, 'old.json'), marker(['old.onnx', 'shared.data', 'old-store.data', 'old-store.index.json'], GRAPH_BUILDER_VERSION - 1));
  fs.writeFileSync(path.join(dir, 'notes.json'), '{"not": "a marker"}');

  const freed = sweepGraphCache(dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    'cur.json', 'cur.onnx', 'notes.json', 'shared.data', 'unet-new.onnx.partial', `weights-w123.b2.data.${process.pid}.partial`,
  ].sort());
  assert.ok(freed >= 1000 + 10 + 3 * 10, `freed ${freed} B`);
  assert.equal(sweepGraphCache(dir), 0, 'a second sweep finds nothing');
});
