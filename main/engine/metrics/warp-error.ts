// Temporal consistency of a result (docs/METHOD.md §7): warp error between consecutive output
// frames along the SOURCE video's motion, over pixels visible in both frames.
import { occlusionMask, warpImage, type FlowPair } from '../../../native-models/src/flow';
import type { Image } from '../../../native-models/src/image';
import { CancelToken, UserError, type ProgressFn } from '../../../native-models/src/errors';
import { readRgb } from '../media/image-files';
import { frameName, type FrameSequence } from '../media/frames-folder';

export interface PairWarpError {
  /** The pair (index, index + 1). */
  index: number;
  /** Mean squared difference per channel with values scaled to [0, 1]; 0 when nothing is visible. */
  mse: number;
  /** Share of frame index+1's pixels that were visible in frame index (the ones measured). */
  visible: number;
  /** The files paired (names in their folders): output k, k+1 and source k, k+1. */
  files?: { output: [string, string]; source: [string, string] };
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

export interface WarpErrorOptions {
  /** Output frames in order (a project's output by frame index, or a folder in the order it sorts). */
  output: FrameSequence;
  /** Source frames paired with them by position: frame k of the output with frame k of the source. */
  source: FrameSequence;
  /** Source flows between frame k and k+1 (e.g. `FlowCache.pair`). */
  sourceFlows: (k: number) => Promise<FlowPair>;
  /** Only pairs with first ≤ k and k+1 ≤ last (a segment); default: every pair. */
  first?: number;
  last?: number;
  progress?: ProgressFn;
  cancel?: CancelToken;
}

/** Warp error of every consecutive pair of output frames present in the range, and their mean. */
export async function measureWarpError(options: WarpErrorOptions): Promise<WarpErrorReport> {
  const { output, source } = options;
  const first = options.first ?? 0, last = options.last ?? Number.MAX_SAFE_INTEGER;
  const starts = output.files.map((f, k) => (f && output.files[k + 1] && k >= first && k + 1 <= last ? k : -1)).filter((k) => k >= 0);
  const pairs: PairWarpError[] = [];
  let previous: { index: number; image: Image } | undefined;
  for (const [n, k] of starts.entries()) {
    options.cancel?.throwIfCancelled();
    for (const j of [k, k + 1]) {
      if (!source.files[j]) throw new UserError(`there is no source frame ${j} for output frame ${frameName(output, j)} (the source has ${source.files.length} frames); the source needs a frame for every output frame`, source.dir);
    }
    const a = previous?.index === k ? previous.image : await readRgb(output.files[k]!);
    const b = await readRgb(output.files[k + 1]!);
    previous = { index: k + 1, image: b };
    const flows = await options.sourceFlows(k);
    if (a.width !== flows.backward.width || a.height !== flows.backward.height) {
      throw new UserError(`output frame ${frameName(output, k)} is ${a.width}×${a.height} but the source frames are ${flows.backward.width}×${flows.backward.height}`, output.dir);
    }
    const files = { output: [frameName(output, k), frameName(output, k + 1)] as [string, string], source: [frameName(source, k), frameName(source, k + 1)] as [string, string] };
    pairs.push({ ...(await pairWarpError(a, b, flows, k)), files });
    options.progress?.((n + 1) / starts.length, `warp error ${files.output[0]}→${files.output[1]}`);
  }
  const mean = pairs.length ? pairs.reduce((s, p) => s + p.mse, 0) / pairs.length : 0;
  return { pairs, mean };
}
