// Given source frames with known motion, the warp-error metric (docs/METHOD.md §7) is near zero for
// an output that follows the source's motion and grows when the output flickers or stands still.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeFlow } from '../../native-models/src/flow';
import type { Image } from '../../native-models/src/image';
import { measureWarpError, pairWarpError } from '../../main/engine/metrics/warp-error';
import { indexedFrames } from '../../main/engine/media/frames-folder';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { frameFileName } from '../../main/engine/project/paths';
import { makeTexture, renderScene, translation } from '../helpers/flow-scenes';

const W = 96, H = 72;
// Source: a texture drifting right; "styled" output: another texture under the same motion.
const frames = (seed: number): Image[] => [0, 1, 2, 3].map((i) => renderScene(W, H, [{ texture: makeTexture(seed), motion: translation(1.5 * i, 0.5 * i) }]).b);

test('given an output that moves exactly like the source, when the warp error is measured, then it is near zero', async () => {
  const source = frames(1), output = frames(2);
  const flows = await computeFlow(source[0], source[1]);
  const r = await pairWarpError(output[0], output[1], flows);
  assert.ok(r.mse < 2e-3, `mse ${r.mse}`);
  assert.ok(r.visible > 0.9 && r.visible <= 1);
});

test('given an output that flickers or freezes, when the warp error is measured, then it is clearly larger', async () => {
  const source = frames(1), output = frames(2);
  const flows = await computeFlow(source[0], source[1]);
  const steady = await pairWarpError(output[0], output[1], flows);
  const frozen = await pairWarpError(output[0], output[0], flows);
  const flicker = await pairWarpError(output[0], { ...output[1], data: output[1].data.map((v, i) => (i % 7 === 0 ? 255 - v : v)) }, flows);
  assert.ok(frozen.mse > 5 * steady.mse, `frozen ${frozen.mse} vs steady ${steady.mse}`);
  assert.ok(flicker.mse > 5 * steady.mse, `flicker ${flicker.mse} vs steady ${steady.mse}`);
  assert.ok(flicker.mse <= 1 && frozen.mse <= 1);
});

test('given output and source folders, when measured over a segment, then only pairs inside it are reported', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'warp-error-'));
  const sourceDir = path.join(root, 'frames'), outputDir = path.join(root, 'output');
  fs.mkdirSync(sourceDir); fs.mkdirSync(outputDir);
  const source = frames(1), output = frames(2);
  for (let i = 0; i < 4; i++) {
    await writePng(path.join(sourceDir, frameFileName(i)), source[i]);
    await writePng(path.join(outputDir, frameFileName(i)), output[i]);
  }
  const sourceFlows = async (i: number) => computeFlow(await readRgb(path.join(sourceDir, frameFileName(i))), await readRgb(path.join(sourceDir, frameFileName(i + 1))));
  const all = await measureWarpError({ output: indexedFrames(outputDir), source: indexedFrames(sourceDir), sourceFlows });
  assert.deepEqual(all.pairs.map((p) => p.index), [0, 1, 2]);
  assert.ok(Math.abs(all.mean - all.pairs.reduce((s, p) => s + p.mse, 0) / 3) < 1e-12);
  const segment = await measureWarpError({ output: indexedFrames(outputDir), source: indexedFrames(sourceDir), sourceFlows, first: 1, last: 3 });
  assert.deepEqual(segment.pairs.map((p) => p.index), [1, 2]);
  fs.rmSync(root, { recursive: true });
});
