// Load (issue 8): propagating a 10,000-frame project with 200 keyframes runs to completion, outputs every
// frame, and keeps memory flat — resident memory (JS heap plus the addon's native buffers) stops growing.
import { test, describe } from 'node:test';
import { currentOutputFrames } from '../../main/engine/project/output-keys';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createProject } from '../../main/engine/project/create';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { makeVideo, tempDir } from '../helpers/media';
import type { Project } from '../../preload/project-schema';

// The full load (10,000 frames, 200 keyframes) takes about 15 minutes on a 2-core machine, so the default
// suite runs a tenth of it with the same shape; RERENDER_LOAD=1 runs the whole thing.
const FULL = process.env.RERENDER_LOAD === '1';
const FRAMES = FULL ? 10_000 : 1_000;
if (!FULL) console.log('load-propagation: 1,000 frames (set RERENDER_LOAD=1 for the full 10,000-frame run)');
const KEY_EVERY = 50;
/** Allowed growth of resident memory from a quarter of the run to its end: far below what leaking one
 *  64×64 image (plus its error and position maps) per frame over 7,500 frames would add. */
const GROWTH_BOUND_MB = 150;

/** A 64×64 project (the smallest working size) with stylised keyframes every KEY_EVERY frames. */
async function makeLongProject(dir: string): Promise<{ file: string; project: Project }> {
  const video = makeVideo(dir, 'long', { width: 64, height: 64, fps: 25, frames: FRAMES });
  const file = path.join(dir, 'long.rerender');
  let p = await createProject(file, video, { size: 64 });
  const keys = Array.from({ length: Math.ceil(FRAMES / KEY_EVERY) }, (_, i) => i * KEY_EVERY);
  // The cheapest settings: this test is about running long without growing, not about quality.
  p = { ...setKeyframeFrames(p, keys), propagation: { ...p.propagation, searchVoteIters: 1, patchMatchIters: 1, gradientFusion: false, workers: 1 } };
  for (const k of keys) {
    const styled = path.join(dir, `key-${k}.png`);
    await sharp(path.join(projectPaths(file).framesDir, frameFileName(k))).modulate({ saturation: 1.8, hue: 120 }).toFile(styled);
    p = await importKeyframeImage(file, p, k, styled);
  }
  await writeProjectFile(file, p);
  return { file, project: p };
}

describe('propagation under load', () => {
  test(`given a ${FRAMES}-frame project with keyframes every ${KEY_EVERY} frames, when propagated, then every frame is output and memory stays flat`, { timeout: 45 * 60_000 }, async () => {
    const dir = tempDir('rerender-load-propagation-');
    try {
      const { file, project } = await makeLongProject(dir);
      assert.equal(project.frames.count, FRAMES);
      assert.equal(project.keyframes.length, FRAMES / KEY_EVERY);
      assert.deepEqual([project.working.width, project.working.height], [64, 64]);

      const mb = () => process.memoryUsage().rss / 2 ** 20;
      let atQuarter: number | undefined;
      let peakAfterQuarter = 0;
      let fraction = 0;
      const sample = () => {
        if (fraction < 0.25) return;
        const now = mb();
        atQuarter ??= now;
        peakAfterQuarter = Math.max(peakAfterQuarter, now);
      };
      // Sampled on a timer as well as on progress, so a spike between progress reports is seen too.
      const timer = setInterval(sample, 200);
      const result = await propagateProject(file, project, { onProgress: (f) => { fraction = f; sample(); } }).finally(() => clearInterval(timer));
      sample();

      assert.equal(result.segments, FRAMES / KEY_EVERY); // 199 between keyframes and the tail after the last
      assert.equal(result.framesWritten, FRAMES - FRAMES / KEY_EVERY);
      const outputs = currentOutputFrames(file, project).files.filter(Boolean);
      assert.equal(outputs.length, FRAMES, 'every frame of the video is output');
      assert.ok(atQuarter !== undefined, 'memory was sampled from a quarter of the run on');
      const growth = peakAfterQuarter - atQuarter;
      console.log(`resident memory: ${atQuarter.toFixed(0)} MB at 25 %, peak ${peakAfterQuarter.toFixed(0)} MB after; growth ${growth.toFixed(0)} MB`);
      assert.ok(growth < GROWTH_BOUND_MB, `resident memory grew by ${growth.toFixed(0)} MB from 25 % to the end (bound ${GROWTH_BOUND_MB} MB)`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
