// The flicker view's data: measured warp error per frame is saved in the project cache under the key of
// the output it measured and read back one value per frame; output that flickers measures higher than
// output that follows the source; other output is not shown as measured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { measureFlicker } from '../../main/engine/metrics/flicker-measure';
import { readFlickerMetric } from '../../main/engine/editor/flicker-metric';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { makeVideo, tempDir } from '../helpers/media';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { resolveInProject } from '../../main/engine/project/confinement';
import { segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { rerender } from '../helpers/cli';

test('given a steady and a flickering output, when flicker is measured, then each frame has a value and the flickering one scores higher', async () => {
  const dir = tempDir('rerender-flicker-');
  const file = path.join(dir, 'clip.rerender');
  assert.equal(rerender(['new', file, '--video', makeVideo(dir, 'clip', { width: 128, height: 72, frames: 8 }), '--short-side', '64']).code, 0);
  const paths = projectPaths(file);
  assert.deepEqual(readFlickerMetric(file, await readProjectFile(file)).available, false, 'nothing measured yet');

  // The output is keyframe 0's image and the frames stored under the key of segment 0-7.
  const project = await importKeyframeImage(file, await readProjectFile(file), 0, path.join(paths.framesDir, frameFileName(0)));
  await writeProjectFile(file, project);
  const keyImage = resolveInProject(file, project.keyframes[0].image!);
  const segmentDir = segmentOutputDir(file, segmentOutputKey(project, segmentsOf(project)[0]));
  const measure = async (brightness: (i: number) => number) => {
    fs.rmSync(paths.outputDir, { recursive: true, force: true });
    fs.mkdirSync(segmentDir, { recursive: true });
    for (let i = 0; i < 8; i++) {
      await sharp(path.join(paths.framesDir, frameFileName(i))).modulate({ brightness: brightness(i) }).png().toFile(i === 0 ? keyImage : path.join(segmentDir, frameFileName(i)));
    }
    const { pairs } = await measureFlicker(file, project);
    assert.equal(pairs, 7);
    const metric = readFlickerMetric(file, project);
    assert.ok(metric.available);
    assert.equal(metric.values.length, 8);
    assert.equal(metric.values[0], 0, 'the first frame has no predecessor');
    return metric.values.slice(1).reduce((a, b) => a + b, 0) / 7;
  };
  const steady = await measure(() => 1);
  const flickering = await measure((i) => (i % 2 ? 1.5 : 0.6));
  assert.ok(flickering > 3 * steady, `flickering ${flickering} vs steady ${steady}`);

  // Keyed by what it measured: another keyframe image, or an output frame gone, is other output (not shown
  // as measured); back to the measured output, the measurement is found again.
  const edited = { ...project, keyframes: project.keyframes.map((k) => ({ ...k, revision: k.revision + 1 })) };
  const other = readFlickerMetric(file, edited);
  assert.equal(other.available, false);
  assert.match(other.available ? '' : other.reason, /output changed since flicker was last measured/);
  assert.equal(readFlickerMetric(file, project).available, true, 'the measured output again');
  fs.renameSync(path.join(segmentDir, frameFileName(3)), path.join(dir, 'aside.png'));
  assert.equal(readFlickerMetric(file, project).available, false, 'a frame of the measured output is gone');
  fs.renameSync(path.join(dir, 'aside.png'), path.join(segmentDir, frameFileName(3)));
  assert.equal(readFlickerMetric(file, project).available, true);
});
