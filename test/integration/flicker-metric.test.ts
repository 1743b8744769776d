// The flicker view's data: measured warp error per frame is saved in the project cache and read back
// one value per frame; output that flickers measures higher than output that follows the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { measureFlicker } from '../../main/engine/editor/flicker-measure';
import { readFlickerMetric } from '../../main/engine/editor/flicker-metric';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';

test('given a steady and a flickering output, when flicker is measured, then each frame has a value and the flickering one scores higher', async () => {
  const dir = tempDir('rerender-flicker-');
  const file = path.join(dir, 'clip.rerender');
  assert.equal(rerender(['new', file, '--video', makeVideo(dir, 'clip', { width: 128, height: 72, frames: 8 }), '--short-side', '64']).code, 0);
  const paths = projectPaths(file);
  assert.deepEqual(readFlickerMetric(file, 8).available, false, 'nothing measured yet');

  const measure = async (brightness: (i: number) => number) => {
    fs.rmSync(paths.outputDir, { recursive: true, force: true });
    fs.mkdirSync(paths.outputDir, { recursive: true });
    for (let i = 0; i < 8; i++) {
      await sharp(path.join(paths.framesDir, frameFileName(i))).modulate({ brightness: brightness(i) }).png().toFile(path.join(paths.outputDir, frameFileName(i)));
    }
    const { pairs } = await measureFlicker(file);
    assert.equal(pairs, 7);
    const metric = readFlickerMetric(file, 8);
    assert.ok(metric.available);
    assert.equal(metric.values.length, 8);
    assert.equal(metric.values[0], 0, 'the first frame has no predecessor');
    return metric.values.slice(1).reduce((a, b) => a + b, 0) / 7;
  };
  const steady = await measure(() => 1);
  const flickering = await measure((i) => (i % 2 ? 1.5 : 0.6));
  assert.ok(flickering > 3 * steady, `flickering ${flickering} vs steady ${steady}`);
});
