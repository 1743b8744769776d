// Temporal consistency of a result (ALGORITHM.md §7): warp error between consecutive output
// frames along the SOURCE video's motion, over pixels visible in both frames.
import fs from 'node:fs';
import path from 'node:path';
import { occlusionMask, warpImage, type FlowPair } from '../../../native-models/src/flow';
import type { Image } from '../../../native-models/src/image';
import { CancelToken, UserError, type ProgressFn } from '../../../native-models/src/errors';
import { readRgb } from '../media/image-files';
import { frameFileName } from '../project/paths';

export interface PairWarpError {
  /** The pair (index, index + 1). */
  index: number;
  /** Mean squared difference per channel with values scaled to [0, 1]; 0 when nothing is visible. */
  mse: number;
  /** Share of frame index+1's pixels that were visible in frame index (the ones measured). */
  visible: number;
}

export interface WarpErrorReport {
  pairs: PairWarpError[];
  /** Mean of the pairs' errors (0 for no pairs). */
  mean: number;
}

/**
 * Warp error of one pair: output frame i+1 against output frame i warped (bilinear) by the source
 * flow i+1→i, over pixels the source's forward-backward check marks visible. Values in [0, 1].
 */
export async function pairWarpError(outputA: Image, outputB: Image, sourceFlows: FlowPair, index = 0): Promise<PairWarpError> {
  const { width, height } = sourceFlows.backward;
  for (const [name, img] of [['output frame', outputA], ['next output frame', outputB]] as const) {
    if (img.width !== width || img.height !== height) {
      throw new RangeError(`${name} ${index} is ${img.width}×${img.height} but the source flow is ${width}×${height}`);
    }
    if (img.channels !== outputA.channels) throw new RangeError('output frames differ in channel count');
  }
  const [warped, occluded] = await Promise.all([warpImage(outputA, sourceFlows.backward, 'bilinear'), occlusionMask(sourceFlows)]);
  const ch = outputB.channels;
  let sum = 0, visible = 0;
  for (let p = 0; p < width * height; p++) {
    if (occluded.data[p]) continue;
    visible++;
    for (let c = 0; c < ch; c++) {
      const d = outputB.data[p * ch + c] - warped.data[p * ch + c];
      sum += d * d;
    }
  }
  return { index, mse: visible ? sum / (visible * ch * 255 * 255) : 0, visible: visible / (width * height) };
}

/** Indices of the `NNNNN.png` frames in a folder, ascending. */
export function frameIndices(dir: string): number[] {
  if (!fs.existsSync(dir)) throw new UserError('the frame folder does not exist', dir);
  return fs.readdirSync(dir).filter((n) => /^\d+\.png$/.test(n)).map((n) => Number(n.slice(0, -4))).sort((a, b) => a - b);
}

export interface WarpErrorOptions {
  /** Output frames `NNNNN.png`. */
  outputDir: string;
  /** Source frames `NNNNN.png` with the same indices and size. */
  sourceDir: string;
  /** Source flows between frame i and i+1 (e.g. `FlowCache.pair`). */
  sourceFlows: (i: number) => Promise<FlowPair>;
  /** Only pairs with first ≤ i and i+1 ≤ last (a segment); default: every pair. */
  first?: number;
  last?: number;
  progress?: ProgressFn;
  cancel?: CancelToken;
}

/** Warp error of every consecutive pair of output frames present in the range, and their mean. */
export async function measureWarpError(options: WarpErrorOptions): Promise<WarpErrorReport> {
  const present = new Set(frameIndices(options.outputDir));
  const first = options.first ?? 0, last = options.last ?? Number.MAX_SAFE_INTEGER;
  const starts = [...present].filter((i) => i >= first && i + 1 <= last && present.has(i + 1)).sort((a, b) => a - b);
  const pairs: PairWarpError[] = [];
  let previous: { index: number; image: Image } | undefined;
  for (const [k, i] of starts.entries()) {
    options.cancel?.throwIfCancelled();
    for (const j of [i, i + 1]) {
      const file = path.join(options.sourceDir, frameFileName(j));
      if (!fs.existsSync(file)) throw new UserError(`source frame ${j} is missing; the source must have a frame for every output frame`, file);
    }
    const a = previous?.index === i ? previous.image : await readRgb(path.join(options.outputDir, frameFileName(i)));
    const b = await readRgb(path.join(options.outputDir, frameFileName(i + 1)));
    previous = { index: i + 1, image: b };
    const flows = await options.sourceFlows(i);
    if (a.width !== flows.backward.width || a.height !== flows.backward.height) {
      throw new UserError(`output frame ${i} is ${a.width}×${a.height} but the source frames are ${flows.backward.width}×${flows.backward.height}`, options.outputDir);
    }
    pairs.push(await pairWarpError(a, b, flows, i));
    options.progress?.((k + 1) / starts.length, `warp error ${i}→${i + 1}`);
  }
  const mean = pairs.length ? pairs.reduce((s, p) => s + p.mse, 0) / pairs.length : 0;
  return { pairs, mean };
}
