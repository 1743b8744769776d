// How well each propagated frame is covered by its keyframes (where to add a keyframe): per frame the
// synthesis error of the pixels the output took and the share of pixels no keyframe shows (disoccluded),
// saved with the segment's output (`coverage.json` beside `inputs.json`), plus a small map per frame
// (`NNNNN.coverage.png`: red = error on a log scale, green = share not shown by any keyframe) for the
// preview's overlay. The editor reads them back for the timeline's coverage strip.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FloatImage, Image } from '../../../native-models/src/image';
import type { Project } from '../../../preload/project-schema';
import { frameFileName } from '../project/paths';
import { segmentsOf } from '../project/keyframes';
import { segmentOutputDir, segmentOutputKey } from '../project/output-keys';
import { writeFileAtomic } from '../fs/atomic';
import { encodePng } from '../media/image-files';

/** One frame's figures: mean and 95th-percentile patch error (synthesis units), and the share of pixels (0–1) no keyframe shows. */
export interface FrameCoverage { error: number; worst: number; uncovered: number }

/** The long side of a coverage map (the overlay is a hint, not a second picture). */
const MAP_SIDE = 128;
/** Error codes in a map: 12 per doubling of the error, so 255 is an error of about 2^21. */
const CODES_PER_DOUBLING = 12;

export function errorCode(error: number): number {
  return Math.max(0, Math.min(255, Math.round(CODES_PER_DOUBLING * Math.log2(1 + Math.max(0, error)))));
}

/** One direction's result for a frame: its error map and the pixels its keyframe does not show (255). */
export interface DirectionResult { error: FloatImage; uncovered: Image }

/**
 * The figures and map of a frame made from one direction, or from two blended by `mask` (B's share 0-255: at 128 or more the pixel
 * counts as from `b`). A pixel is uncovered when neither keyframe shows it.
 */
export function frameCoverage(a: DirectionResult, b?: DirectionResult, mask?: Image): { figure: FrameCoverage; map: Image } {
  const { width, height } = a.error;
  const n = width * height;
  const error = new Float32Array(n);
  const uncovered = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const fromB = b && mask ? mask.data[i] >= 128 : false;
    error[i] = fromB ? b!.error.data[i] : a.error.data[i];
    uncovered[i] = a.uncovered.data[i] !== 0 && (!b || b.uncovered.data[i] !== 0) ? 1 : 0;
  }
  let sum = 0, hidden = 0;
  for (let i = 0; i < n; i++) { sum += error[i]; hidden += uncovered[i]; }
  const figure = { error: n ? sum / n : 0, worst: n ? kthSmallest(error, Math.min(n - 1, Math.floor(n * 0.95))) : 0, uncovered: n ? hidden / n : 0 };
  // Block averages down to MAP_SIDE on the long side.
  const block = Math.max(1, Math.ceil(Math.max(width, height) / MAP_SIDE));
  const mw = Math.ceil(width / block), mh = Math.ceil(height / block);
  const data = new Uint8Array(mw * mh * 3);
  for (let my = 0; my < mh; my++) {
    for (let mx = 0; mx < mw; mx++) {
      let e = 0, u = 0, k = 0;
      for (let y = my * block; y < Math.min(height, (my + 1) * block); y++) {
        for (let x = mx * block; x < Math.min(width, (mx + 1) * block); x++) { e += error[y * width + x]; u += uncovered[y * width + x]; k++; }
      }
      const o = (my * mw + mx) * 3;
      data[o] = errorCode(e / k);
      data[o + 1] = Math.round((255 * u) / k);
    }
  }
  return { figure, map: { width: mw, height: mh, channels: 3, data } };
}

/**
 * The value a sort would put at index k (0-based) of `values`, found without sorting (quickselect on a
 * copy: linear time, where sorting a 512² error map took most of this function's time). Values with a
 * NaN are sorted as before (NaN goes last there).
 */
export function kthSmallest(values: Float32Array, k: number): number {
  const a = Float32Array.from(values);
  for (let i = 0; i < a.length; i++) if (Number.isNaN(a[i])) return a.sort()[k];
  let lo = 0, hi = a.length - 1;
  while (lo < hi) {
    // Median of three as the pivot, then Hoare's partition: [lo, j] <= pivot <= [j + 1, hi].
    const mid = (lo + hi) >>> 1;
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let i = lo - 1, j = hi + 1;
    for (;;) {
      do i++; while (a[i] < pivot);
      do j--; while (a[j] > pivot);
      if (i >= j) break;
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
    if (k <= j) hi = j; else lo = j + 1;
  }
  return a[k];
}

export function coverageMapFile(outputDir: string, frame: number): string {
  return path.join(outputDir, frameFileName(frame, 'coverage.png'));
}

export async function writeCoverageMap(outputDir: string, frame: number, map: Image): Promise<void> {
  await writeFileAtomic(coverageMapFile(outputDir, frame), await encodePng(map), { durable: false });
}

const COVERAGE = 'coverage.json';
const coverageFile = z.object({
  start: z.number().int(),
  end: z.number().int(),
  /** Per frame from start: [error, worst, uncovered], or null where it was not measured. */
  frames: z.array(z.tuple([z.number(), z.number(), z.number()]).nullable()),
});

/** Saves a finished segment's figures beside its frames (before its completion marker). */
export async function writeSegmentCoverage(outputDir: string, start: number, end: number, figures: ReadonlyMap<number, FrameCoverage>): Promise<void> {
  const frames = Array.from({ length: end - start + 1 }, (_, i) => {
    const f = figures.get(start + i);
    return f ? [f.error, f.worst, f.uncovered] as [number, number, number] : null;
  });
  await writeFileAtomic(path.join(outputDir, COVERAGE), JSON.stringify({ start, end, frames }), { durable: false });
}

/** What the timeline's coverage strip shows, one entry per frame (null: not propagated with the current keyframes, or a keyframe). */
export interface ProjectCoverage {
  error: Array<number | null>;
  uncovered: Array<number | null>;
  /** Frames where a keyframe would help most, worst first. */
  worst: number[];
  /** The median frame's mean error (0 without figures). */
  typical: number;
  /** The overlay's colour scale in map codes: `low` is the typical frame's mean error, `high` the worst pixels anywhere. */
  scale: { low: number; high: number };
}

/** The figures of the project's current output (each segment's current output key); segments without them read as null. */
export function readProjectCoverage(projectFile: string, p: Project): ProjectCoverage {
  const count = p.frames.count;
  const error: Array<number | null> = new Array(count).fill(null);
  const uncovered: Array<number | null> = new Array(count).fill(null);
  const worstPixels: number[] = [];
  for (const s of segmentsOf(p)) {
    let doc: z.infer<typeof coverageFile>;
    try {
      const parsed = coverageFile.safeParse(JSON.parse(fs.readFileSync(path.join(segmentOutputDir(projectFile, segmentOutputKey(p, s)), COVERAGE), 'utf8')));
      if (!parsed.success || parsed.data.start !== s.start || parsed.data.end !== s.end || parsed.data.frames.length !== s.end - s.start + 1) continue;
      doc = parsed.data;
    } catch {
      continue; // not propagated with these inputs (or made before coverage was recorded)
    }
    doc.frames.forEach((v, i) => {
      if (!v || s.start + i >= count) return;
      error[s.start + i] = v[0];
      uncovered[s.start + i] = v[2];
      worstPixels.push(v[1]);
    });
  }
  const means = error.filter((e): e is number => e !== null).sort((a, b) => a - b);
  const typical = means.length ? means[Math.floor(means.length / 2)] : 0;
  const low = errorCode(typical);
  const high = Math.max(low + 12, errorCode(Math.max(0, ...worstPixels)));
  return { error, uncovered, worst: worstFrames(error, uncovered, p.keyframes.map((k) => k.frame)), typical, scale: { low, high } };
}

/** How badly a frame is covered, for ranking: its error against the worst frame's, plus twice its uncovered share. */
export function coverageScore(error: number, uncovered: number, maxError: number): number {
  return (maxError > 0 ? error / maxError : 0) + 2 * uncovered;
}

/**
 * Up to `limit` frames, worst first, each at least `spacing` frames from the others (one new keyframe
 * covers its neighbours too) and not next to a keyframe. Frames without figures are never chosen.
 */
export function worstFrames(error: ReadonlyArray<number | null>, uncovered: ReadonlyArray<number | null>, keyframes: readonly number[], limit = 5, spacing = Math.max(3, Math.round(error.length / 100))): number[] {
  let maxError = 0;
  for (const e of error) if (e !== null && e > maxError) maxError = e;
  const ranked = error
    .map((e, f) => ({ f, score: e === null ? -1 : coverageScore(e, uncovered[f] ?? 0, maxError) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || a.f - b.f);
  const blocked = new Uint8Array(error.length);
  const block = (f: number, d: number) => { for (let g = Math.max(0, f - d + 1); g < Math.min(error.length, f + d); g++) blocked[g] = 1; };
  // Next to a keyframe is no place for another (dense keyframes must not hide every frame, so only ±1).
  keyframes.forEach((k) => block(k, 2));
  const out: number[] = [];
  for (const { f } of ranked) {
    if (out.length >= limit) break;
    if (blocked[f]) continue;
    block(f, spacing);
    out.push(f);
  }
  return out;
}
