// Benchmark of the propagation engine's native parts at 512×512 on two known-answer scenes: synthesis with
// the default guides (CLI defaults N=6/M=4 and Rerender's N=12/M=6), error against the ideal, blend, fusion.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { readRgb } from '../../main/engine/media/image-files';
import { synthesize, type SynthesisOptions, type SynthesisResult } from '../../native-models/src/synthesis';
import { advancePositions, buildGuides, positionMap, temporalGuide } from '../../main/engine/propagation/guides';
import { computeFlow, occlusionMask } from '../../native-models/src/flow';
import { blendMask, blendDirections, solveScreenedPoisson } from '../../native-models/src/blend';
import type { FloatImage, Image } from '../../native-models/src/image';
import { texture, stylise, warp, rigidMotion, meanAbsDiff, type Motion } from '../unit/synth-scene';

const size = Number(process.env.BENCH_SIZE ?? 512);

function advectedPositions(w: number, h: number, motion: Motion): FloatImage {
  const data = new Float32Array(w * h * 2);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [sx, sy] = motion(x, y);
      data[(y * w + x) * 2] = Math.min(1, Math.max(0, sy / (h - 1)));
      data[(y * w + x) * 2 + 1] = Math.min(1, Math.max(0, sx / (w - 1)));
    }
  return { width: w, height: h, channels: 2, data };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const c0 = process.cpuUsage(), t0 = performance.now();
  const result = await fn();
  const cpu = process.cpuUsage(c0);
  return { result, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** A frame of the bundled sample video at size×size and a smooth "painted" style of it, or undefined without ffmpeg. */
async function sampleFrame(): Promise<{ frame: Image; style: Image } | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-synth-bench-'));
  try {
    const png = path.join(dir, 'frame.png');
    const video = path.resolve(__dirname, '../../resources/sample/sample.mp4');
    const run = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', video, '-vf', `crop=ih:ih,scale=${size}:${size}`, '-frames:v', '1', png]);
    if (run.status !== 0 || !fs.existsSync(png)) return undefined;
    const stylePng = path.join(dir, 'style.png');
    await sharp(png).modulate({ saturation: 1.6, hue: 100 }).median(5).toFile(stylePng);
    return { frame: await readRgb(png), style: await readRgb(stylePng) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`synthesis bench: ${size}x${size}, ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), load ${os.loadavg()[0].toFixed(2)}`);
  const scenes: Array<[string, Image, Image]> = [['procedural texture, posterised + striped style', texture(size, size, 3), stylise(texture(size, size, 3))]];
  const sample = await sampleFrame();
  if (sample) scenes.push(['sample video frame, smooth painted style', sample.frame, sample.style]);
  else console.log('(ffmpeg not found: the sample-video scene is skipped)');
  let last: SynthesisResult[] = [];
  for (const [name, frame, style] of scenes) last = await benchScene(name, frame, style);

  await benchBlend(last, scenes[scenes.length - 1][1], scenes[scenes.length - 1][2]);
}

async function benchScene(name: string, frame: Image, style: Image): Promise<SynthesisResult[]> {
  console.log(`scene: ${name}`);
  const motion = rigidMotion(size, size, 7, -4, 3);
  const occluder = { x: size / 4, y: size / 2, size: size / 8 };
  const target = warp(frame, motion, occluder);
  const ideal = warp(style, motion, occluder);
  const previous = warp(style, rigidMotion(size, size, 6, -3, 2.5)).image;
  const guides = buildGuides({
    keyframe: { frame, positions: positionMap(size, size), style },
    target: { frame: target.image, positions: advectedPositions(size, size, motion), previousOutput: previous },
  });
  const channels = guides.reduce((n, g) => n + g.source.channels, 0) + 3;
  console.log(`default guides: ${guides.map((g) => `${g.name} ${g.weight}`).join(', ')} (${channels} channels with the style)`);
  console.log(`error = mean |synthesised − ideally warped style| per channel value (0–255) on non-occluded pixels; unwarped keyframe: ${meanAbsDiff(style, ideal.image, target.valid, 3).toFixed(2)}`);
  const settings: Array<[string, Partial<SynthesisOptions>]> = [
    ['CLI defaults N=6 M=4', { searchVoteIters: 6, patchMatchIters: 4 }],
    ['Rerender N=12 M=6', { searchVoteIters: 12, patchMatchIters: 6 }],
  ];
  const results: SynthesisResult[] = [];
  for (const [label, extra] of settings) {
    for (const threads of [os.availableParallelism(), 1]) {
      const { result, wallMs, cpuMs } = await timed(() => synthesize({ styles: [{ image: style }], guides, seed: 1, threads, ...extra }));
      const err = meanAbsDiff(result.image, ideal.image, target.valid, 3);
      console.log(`  ${label.padEnd(22)} threads ${threads}: ${wallMs.toFixed(0).padStart(6)} ms wall, ${cpuMs.toFixed(0).padStart(6)} ms CPU, error ${err.toFixed(2)}`);
      results.push(result);
    }
  }
  return results;
}

async function benchBlend(results: SynthesisResult[], frame: Image, style: Image): Promise<void> {
  const motion = rigidMotion(size, size, 7, -4, 3);
  const target = warp(frame, motion, { x: size / 4, y: size / 2, size: size / 8 });
  // Blending two syntheses of the frame (here: the two settings' results stand in for A and B).
  const [a, , b] = results;
  const mask = await timed(() => blendMask(a.error, b.error, 0.5));
  const hist = await timed(() => blendDirections({ a: a.image, b: b.image, mask: mask.result, weightB: 0.5, fusion: false }));
  const fused = await timed(() => blendDirections({ a: a.image, b: b.image, mask: mask.result, weightB: 0.5 }));
  const channel = { width: size, height: size, channels: 1, data: new Float32Array(size * size) };
  const poisson = await timed(() => solveScreenedPoisson(channel, channel, channel, 2.5));
  console.log(`blend: mask ${mask.wallMs.toFixed(1)} ms, histogram blend ${hist.wallMs.toFixed(1)} ms, histogram blend + gradient fusion ${fused.wallMs.toFixed(1)} ms (wall)`);
  console.log(`DCT screened Poisson solve, one ${size}x${size} channel: ${poisson.wallMs.toFixed(1)} ms wall, ${poisson.cpuMs.toFixed(1)} ms CPU`);

  // One propagated output frame as the propagation engine does it: the flow pair between this frame
  // and its neighbour (shared by both chains), guides advected per direction, two syntheses, blend.
  const frameCost = await timed(async () => {
    const pair = await computeFlow(frame, target.image);
    const occluded = await occlusionMask(pair);
    const directions = await Promise.all([0, 1].map(async () => {
      const positions = await advancePositions(positionMap(size, size), pair.backward, occluded);
      const previousOutput = await temporalGuide(style, pair.backward, occluded);
      const g = buildGuides({ keyframe: { frame, positions: positionMap(size, size), style }, target: { frame: target.image, positions, previousOutput } });
      return synthesize({ styles: [{ image: style }], guides: g, seed: 1, threads: 1 });
    }));
    const m = await blendMask(directions[0].error, directions[1].error, 0.5);
    return blendDirections({ a: directions[0].image, b: directions[1].image, mask: m, weightB: 0.5 });
  });
  console.log(`one propagated output frame (flow pair + 2 syntheses at N=6 M=4, one per core + blend with fusion): ${frameCost.wallMs.toFixed(0)} ms wall, ${frameCost.cpuMs.toFixed(0)} ms CPU`);
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
