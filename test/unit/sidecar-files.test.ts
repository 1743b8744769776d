// Sidecar files next to the caches are read through their schemas, never cast: a damaged or foreign
// graph-cache marker, weight-store index or keyframe-cache meta.json is treated as absent (the entry is
// rebuilt), and a marker that names files outside its folder never makes us delete them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { compiledGraphName, findCompiledGraph, GRAPH_BUILDER_VERSION, removeCompiledGraphs, type CompiledGraphKey } from '../../native-models/src/runtime/graph-cache';
import { CacheReader } from '../../main/engine/render/keyframe-cache';

const key: CompiledGraphKey = { weights: 'w123', graph: 'unet', precision: 'fp32', fusedOps: false };

test('given a graph-cache marker that is damaged or of another shape, then the graph counts as not cached', () => {
  const dir = tempDir('rerender-sidecar-');
  const stem = path.join(dir, compiledGraphName(key));
  fs.writeFileSync(`${stem}.onnx`, 'model');
  const good = { key, builder: GRAPH_BUILDER_VERSION, files: [path.basename(`${stem}.onnx`)], createdAt: 'now' };
  fs.writeFileSync(`${stem}.json`, JSON.stringify(good));
  assert.equal(findCompiledGraph(dir, key), `${stem}.onnx`);
  for (const bad of ['{"key":', JSON.stringify({ ...good, files: 'all' }), JSON.stringify({ ...good, key: { weights: 1 } })]) {
    fs.writeFileSync(`${stem}.json`, bad);
    assert.equal(findCompiledGraph(dir, key), undefined, bad);
  }
});

test('given a marker that names a file outside the cache folder, then removing the model leaves that file alone', () => {
  const dir = tempDir('rerender-sidecar-');
  const cache = path.join(dir, 'graphs');
  fs.mkdirSync(cache);
  const outside = path.join(dir, 'precious.txt');
  fs.writeFileSync(outside, 'keep me');
  fs.writeFileSync(path.join(cache, 'x.json'), JSON.stringify({ key, builder: GRAPH_BUILDER_VERSION, files: ['../precious.txt'], createdAt: 'now' }));
  assert.equal(removeCompiledGraphs(cache, key.weights), 0);
  assert.equal(fs.readFileSync(outside, 'utf8'), 'keep me');
});

test('given a keyframe cache whose meta.json is damaged, then it is not opened (the keyframe is rendered again)', () => {
  const dir = tempDir('rerender-sidecar-');
  assert.equal(CacheReader.open(dir), undefined, 'no meta.json');
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ key: 'k', steps: 'ten' }));
  assert.equal(CacheReader.open(dir), undefined, 'a meta.json of the wrong shape');
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ key: 'k', steps: 10, startStep: 2, latent: { channels: 4, height: 8, width: 8 }, layers: [{ tokens: 64, channels: 32 }], precision: 'fp16', hasX0: true, stats: [] }));
  assert.equal(CacheReader.open(dir)?.meta.steps, 10);
});
