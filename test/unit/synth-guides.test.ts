// Specification of the propagation guides: edges, position maps, advection by a known flow with inpainted occlusions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advancePositions, buildGuides, DEFAULT_GUIDE_WEIGHTS, edgeGuide, positionMap, temporalGuide } from '../../main/engine/propagation/guides';
import type { FlowField, Image } from '../../native-models/src/image';
import { texture } from './synth-scene';

test('the edge guide marks a step edge once, on its darker side, and nothing in flat areas', () => {
  const w = 20, h = 6;
  const data = new Uint8Array(w * h * 3).map((_, i) => (Math.floor(i / 3) % w >= 10 ? 200 : 50));
  const edges = edgeGuide({ width: w, height: h, channels: 3, data });
  assert.equal(edges.channels, 1);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) assert.equal(edges.data[y * w + x], x === 9 ? 150 : 0, `pixel ${x},${y}`);
});

test('the position map holds normalised row and column coordinates', () => {
  const map = positionMap(5, 3);
  assert.deepEqual(Array.from(map.data.slice(0, 2)), [0, 0]);
  assert.deepEqual(Array.from(map.data.slice(-2)), [1, 1]);
  assert.deepEqual(Array.from(map.data.slice((1 * 5 + 2) * 2, (1 * 5 + 2) * 2 + 2)), [0.5, 0.5]);
});

test('given a known uniform motion, advected positions and the temporal guide follow it and fill occlusions', async () => {
  const w = 40, h = 30, dx = 3, dy = 2;
  // Each pixel of this frame came from (x - dx, y - dy) in the previous one.
  const flow: FlowField = { width: w, height: h, channels: 2, data: new Float32Array(w * h * 2).map((_, i) => (i % 2 === 0 ? -dx : -dy)) };
  const occluded: Image = { width: w, height: h, channels: 1, data: new Uint8Array(w * h) };
  for (let y = 10; y < 16; y++) for (let x = 20; x < 28; x++) occluded.data[y * w + x] = 255;
  const positions = await advancePositions(positionMap(w, h), flow, occluded);
  for (const [x, y] of [[10, 10], [30, 25], [5, 5]]) {
    const i = (y * w + x) * 2;
    assert.ok(Math.abs(positions.data[i] - (y - dy) / (h - 1)) < 1e-5 && Math.abs(positions.data[i + 1] - (x - dx) / (w - 1)) < 1e-5);
  }
  const hole = (12 * w + 24) * 2;
  assert.ok(Math.abs(positions.data[hole] - (12 - dy) / (h - 1)) < 0.1, 'the occlusion is filled with nearby positions');
  const previous = texture(w, h, 3);
  const temporal = await temporalGuide(previous, flow, occluded);
  assert.deepEqual(Array.from(temporal.data.slice((10 * w + 10) * 3, (10 * w + 10) * 3 + 3)), Array.from(previous.data.slice((8 * w + 7) * 3, (8 * w + 7) * 3 + 3)));
});

test('the default guide set has colour, edges, temporal and positional guides with weights 6, 0.5, 0.5, 2', () => {
  const frame = texture(16, 16, 1);
  const guides = buildGuides({ keyframe: { frame, positions: positionMap(16, 16), style: frame }, target: { frame, positions: positionMap(16, 16) } });
  assert.deepEqual(guides.map((g) => [g.name, g.weight]), [['colour', 6], ['edges', 0.5], ['temporal', 1.5], ['positional', 2]]);
  assert.deepEqual(DEFAULT_GUIDE_WEIGHTS, { colour: 6, edges: 0.5, temporal: 1.5, positional: 2 });
  const noEdges = buildGuides({ keyframe: { frame, positions: positionMap(16, 16), style: frame }, target: { frame, positions: positionMap(16, 16) } }, { ...DEFAULT_GUIDE_WEIGHTS, edges: 0 });
  assert.equal(noEdges.length, 3);
});
