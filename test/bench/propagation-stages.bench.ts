// Propagation figures at 512×512 with the default guides and iteration counts: seconds per propagated
// output frame (both directions + blend + flows), split by stage, the cache per minute, and peak memory
// (`npm run bench -- propagation-stages`; the side-by-side with the reference is propagation.bench.ts).
import fs from 'node:fs';
import { currentOutputFrames, resultFrameFile } from '../../main/engine/project/output-keys';
import path from 'node:path';
import sharp from 'sharp';
import { createProject } from '../../main/engine/project/create';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { propagateProject, openProjectFlows } from '../../main/engine/propagation/propagate-project';
import { tempDir } from '../helpers/media';
import { measureWarpError } from '../../main/engine/metrics/warp-error';
import { indexedFrames } from '../../main/engine/media/frames-folder';

const root = path.resolve(__dirname, '..', '..');

/** Bytes of every file under `dir` (0 when it does not exist). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

/** Cache size as GB per minute of video at the project's frame rate, from `bytes` over `frames` frames. */
function perMinute(bytes: number, frames: number, fps: number): string {
  return `${((bytes / frames) * fps * 60 / 1e9).toFixed(2)} GB/min`;
}

async function main(): Promise<void> {
  const dir = tempDir('rerender-bench-prop-');
  const file = path.join(dir, 'bench.rerender');
  // The bundled sample (parallax pan + a kite), cropped to a square so the working size is 512×512.
  let p = await createProject(file, path.join(root, 'resources', 'sample', 'sample.mp4'), { size: 512, crop: { left: 168, right: 168, top: 0, bottom: 0 } });
  const keys = [0, 10];
  p = setKeyframeFrames(p, keys);
  // The keyframes' "style" is a fixed filter of their frames, so the same filter on every other frame is
  // the ground truth the propagated frames can be compared with.
  const stylise = (frame: number) => sharp(path.join(projectPaths(file).framesDir, frameFileName(frame))).modulate({ saturation: 1.6, hue: 100 }).median(5);
  for (const k of keys) {
    const styled = path.join(dir, `key-${k}.png`);
    await stylise(k).toFile(styled);
    p = await importKeyframeImage(file, p, k, styled);
  }
  await writeProjectFile(file, p);
  console.log(`frames ${p.working.width}×${p.working.height}, settings: N=${p.propagation.searchVoteIters} M=${p.propagation.patchMatchIters} patch ${p.propagation.patchSize}, gradient fusion ${p.propagation.gradientFusion}`);

  const flows = await openProjectFlows(file, p);
  let t = performance.now();
  await flows.ensureRange(0, 10);
  const flowS = (performance.now() - t) / 1000;
  console.log(`flows (forward + backward): ${(flowS / 10).toFixed(2)} s per frame pair`);

  // The CLI defaults (N=6, M=4) and the Rerender settings of docs/METHOD.md §4.1 (N=12, M=6).
  for (const [n, m] of [[6, 4], [12, 6]]) {
    const run = { ...p, propagation: { ...p.propagation, searchVoteIters: n, patchMatchIters: m } };
    fs.rmSync(projectPaths(file).outputDir, { recursive: true, force: true });
    fs.rmSync(projectPaths(file).segmentsDir, { recursive: true, force: true });
    t = performance.now();
    const cpu = process.cpuUsage();
    // Scratch peaks while the segment's frames are blended (both chains stored, nothing removed yet).
    let scratchPeak = 0;
    const r = await propagateProject(file, run, { segmentId: '0-10', workers: 1, onSegment: () => { scratchPeak = Math.max(scratchPeak, folderBytes(projectPaths(file).segmentsDir)); } });
    const s = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuS = (used.user + used.system) / 1e6;
    const frames = r.framesWritten;
    console.log(`N=${n} M=${m}: segment 0-10, ${frames} output frames, ${r.synthesesRun} syntheses, ${s.toFixed(1)} s`);
    console.log(`  CPU time per propagated output frame (all threads; steadier than wall time on a loaded machine): ${(cpuS / frames).toFixed(2)} s`);
    console.log(`  per propagated output frame (2 syntheses + blend): ${(s / frames).toFixed(2)} s; with its share of the 10 flow pairs: ${((s + flowS) / frames).toFixed(2)} s (reference pipeline ≈ 50 s)`);
    const flowsForMetric = await openProjectFlows(file, p);
    const paths = projectPaths(file);
    const err = await measureWarpError({ output: currentOutputFrames(file, run), source: indexedFrames(paths.framesDir), sourceFlows: (i) => flowsForMetric.pair(i), first: 1, last: 9 });
    console.log(`  warp error of the propagated frames (0–1 range, MSE): ${err.mean.toFixed(5)}`);
    let sq = 0, count = 0;
    for (let i = 1; i < 10; i++) {
      const [out, truth] = await Promise.all([
        sharp(resultFrameFile(file, run, i)!).removeAlpha().raw().toBuffer(),
        stylise(i).removeAlpha().raw().toBuffer(),
      ]);
      for (let k = 0; k < out.length; k++) { const d = out[k] - truth[k]; sq += d * d; }
      count += out.length;
    }
    const flowBytes = fs.existsSync(paths.flowDir) ? folderBytes(paths.flowDir) : 0;
    const segBytes = fs.existsSync(paths.segmentsDir) ? folderBytes(paths.segmentsDir) : 0;
    const fps = p.source.fps.num / p.source.fps.den;
    console.log(`  cache after the segment (11 frames at ${fps.toFixed(2)} fps): flows ${perMinute(flowBytes, 11, fps)}, segment scratch left ${perMinute(segBytes, 11, fps)} (peak while blending ${(scratchPeak / 1e6).toFixed(0)} MB for this segment), flows + scratch ${perMinute(flowBytes + segBytes, 11, fps)}`);
    const perFrame = (dir: string) => folderBytes(dir) / Math.max(1, fs.readdirSync(dir).filter((n) => n.endsWith('.png')).length);
    console.log(`  with the decoded source frames (${perMinute(perFrame(paths.framesDir), 1, fps)}) and the output frames (${perMinute(perFrame(paths.outputDir), 1, fps)}): ${perMinute((flowBytes + segBytes) / 11 + perFrame(paths.framesDir) + perFrame(paths.outputDir), 1, fps)}`);
    console.log(`  PSNR against the ground-truth filter on every frame: ${(10 * Math.log10((255 * 255) / (sq / count))).toFixed(2)} dB`);
  }
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
