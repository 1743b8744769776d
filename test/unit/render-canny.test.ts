// The native Canny detector behind the canny ControlNet: known edges of a step image, and thresholds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cannyEdges } from '../../native-models/src/canny';
import type { Image } from '../../native-models/src/image';

/** Dark left half, bright right half from column 24 (an RGB image 48×32 with contrast `step`). */
function stepImage(step: number): Image {
  const w = 48, h = 32, data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill(i % w >= 24 ? 60 + step : 60, i * 3, i * 3 + 3);
  return { width: w, height: h, channels: 3, data };
}

test('given a vertical step, when edges are detected with the default thresholds, then exactly one one-pixel column at the step is marked on every row', async () => {
  const edges = await cannyEdges(stepImage(150), { low: 100, high: 200 });
  const columns = new Set<number>();
  for (let y = 0; y < edges.height; y++) {
    const row = [...edges.data.subarray(y * edges.width, (y + 1) * edges.width)];
    assert.equal(row.filter((v) => v === 255).length, 1, `row ${y}`);
    columns.add(row.indexOf(255));
  }
  assert.equal(columns.size, 1);
  assert.ok([23, 24].includes([...columns][0]), `edge at column ${[...columns][0]}`);
});

test('given a step whose gradient stays below the high threshold, when edges are detected, then nothing is marked; with a lower high threshold it is', async () => {
  const faint = stepImage(12);
  assert.equal((await cannyEdges(faint, { low: 100, high: 200 })).data.reduce((a, v) => a + v, 0), 0);
  assert.ok((await cannyEdges(faint, { low: 10, high: 20 })).data.some((v) => v === 255));
});
