// Guided patch-based synthesis (docs/METHOD.md §4.1): typed wrapper of the addon's `synthesize`.
// Validates sizes and channels, splits each image's weight evenly over its channels, runs off the JS thread.
import os from 'node:os';
import { loadAddon } from './addon';
import type { FloatImage, FlowField, Image } from './image';
import { CancelledError, UserError, type CancelToken } from './errors';

/** A styled exemplar layer (the keyframe's result); several layers are matched together. */
export interface StyleLayer {
  image: Image;
  /** Weight of the whole image, split evenly over its channels. Default 1. */
  weight?: number;
}

/**
 * A guide: the same quantity seen at the keyframe (source) and at the frame to synthesise (target).
 * 8-bit guides are in 0–255; float guides are in 0–1 and scaled to 0–255 like 8-bit ones.
 */
export interface Guide {
  source: Image | FloatImage;
  target: Image | FloatImage;
  /** Weight of the whole guide, split evenly over its channels. Default 1. */
  weight?: number;
  /** Shown in error messages, e.g. "colour" or a file name. */
  name?: string;
}

/** For every target pixel, the source pixel (x, y) its patch is centred on. */
export interface MatchField {
  width: number;
  height: number;
  /** Interleaved (x, y) per target pixel, row-major. */
  data: Int32Array;
  /**
   * Optional: interleaved (x, y) per target pixel, between −1 and 1, the fraction of a pixel by which
   * each match lies off its whole-pixel centre (matches carried along a flow land between pixels).
   */
  offsets?: Float32Array;
}

export interface SynthesisOptions {
  styles: StyleLayer[];
  guides: Guide[];
  /** Odd patch side p. Default 5. */
  patchSize?: number;
  /** Weight λ of the penalty for overusing a source patch. Default 3500. */
  uniformity?: number;
  /** Pyramid levels; -1 (default) uses as many as keep the coarsest short side >= 2p+1. */
  pyramidLevels?: number;
  /** N: rounds of {PatchMatch; vote} per level. Default 6. */
  searchVoteIters?: number;
  /** M: PatchMatch iterations per round. Default 4. */
  patchMatchIters?: number;
  seed?: number;
  /** Worker threads; default: every core. The result does not depend on it. */
  threads?: number;
  /**
   * Matches to start from (e.g. the previous frame's, via moveMatches) instead of random ones; they
   * seed the coarsest level and stay on offer as a candidate at every finer one. With `offsets`, a pixel
   * whose final match is a whole pixel next to its initial position (match + offset) is copied from that
   * position itself (bicubic), and the result's matches carry the offsets to pass on. The saving comes
   * with fewer levels and iterations (e.g. pyramidLevels 1–2, searchVoteIters 2), since a good start
   * needs far less search.
   */
  initialMatches?: MatchField;
  cancel?: CancelToken;
}

export interface SynthesisResult {
  /** The synthesised target, with the style layers' channels concatenated. */
  image: Image;
  /** Per-pixel final patch error: weighted sum of squared differences over the patch, 0–255 units. */
  error: FloatImage;
  matches: MatchField;
}

export const SYNTHESIS_DEFAULTS = {
  patchSize: 5,
  uniformity: 3500,
  pyramidLevels: -1,
  searchVoteIters: 6,
  patchMatchIters: 4,
  seed: 0,
} as const;

interface NativeSynthesis {
  synthesize(o: Record<string, unknown>): Promise<{ image: Uint8Array; error: Float32Array; matches: Int32Array; offsets?: Float32Array }>;
}

type AnyImage = Image | FloatImage;

/** Interleaves images of one size into one float buffer (0–255 units), with per-channel weights. */
function stack(images: AnyImage[], weights: number[], width: number, height: number): { data: Float32Array; weights: Float32Array; channels: number } {
  const channels = images.reduce((n, im) => n + im.channels, 0);
  const data = new Float32Array(width * height * channels);
  const perChannel = new Float32Array(channels);
  let offset = 0;
  images.forEach((im, k) => {
    for (let c = 0; c < im.channels; c++) perChannel[offset + c] = weights[k] / im.channels;
    if (im.data instanceof Float32Array) interleaveFloat(data, channels, offset, im.data, im.channels, width * height);
    else interleaveBytes(data, channels, offset, im.data, im.channels, width * height);
    offset += im.channels;
  });
  return { data, weights: perChannel, channels };
}

// One loop per element type: a loop reading both kinds of array runs several times slower (each read
// checks which kind it has). Float guides are in 0–1 and scaled to 0–255 like 8-bit ones.
function interleaveFloat(out: Float32Array, stride: number, offset: number, src: Float32Array, channels: number, pixels: number): void {
  for (let i = 0, o = offset, s = 0; i < pixels; i++, o += stride, s += channels)
    for (let c = 0; c < channels; c++) out[o + c] = src[s + c] * 255;
}

function interleaveBytes(out: Float32Array, stride: number, offset: number, src: Uint8Array, channels: number, pixels: number): void {
  for (let i = 0, o = offset, s = 0; i < pixels; i++, o += stride, s += channels)
    for (let c = 0; c < channels; c++) out[o + c] = src[s + c];
}

function checkImage(im: AnyImage, what: string): void {
  if (!(im.width >= 1 && im.height >= 1 && im.channels >= 1) || im.data.length !== im.width * im.height * im.channels)
    throw new UserError(`${what}: buffer length ${im.data.length} does not match ${im.width}x${im.height}x${im.channels}`);
}

function checkWeight(w: number | undefined, what: string): number {
  const v = w ?? 1;
  if (!Number.isFinite(v) || v < 0) throw new UserError(`${what}: weight must be a number >= 0, got ${w}`);
  return v;
}

function checkInt(v: number, what: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new UserError(`${what} must be a whole number >= ${min}, got ${v}`);
  return v;
}

/** Steps of a match offset: 1/64 px, so an offset (−1…1 px) is kept exactly in one signed byte (see the chain store). */
export const OFFSET_STEPS = 64;
const quantiseOffset = (d: number) => Math.min(OFFSET_STEPS / 2, Math.max(-OFFSET_STEPS / 2, Math.round(d * OFFSET_STEPS))) / OFFSET_STEPS;

/**
 * The previous frame's matches carried to this frame: pixel p shows what the previous frame showed at
 * p + flowToPrevious(p) (rounded, clamped to the frame), so it starts from that pixel's source match.
 * With `subpixel`, the match is also moved by the fraction of a pixel by which p + flowToPrevious(p)
 * lies off that pixel (plus the previous match's own offset), kept as the result's `offsets` in steps
 * of 1/OFFSET_STEPS px; `sourceWidth`/`sourceHeight` (default: the flow's) bound the moved match.
 * Feed the result to `initialMatches` for temporally coherent, cheaper syntheses along a chain.
 */
export function moveMatches(previous: MatchField, flowToPrevious: FlowField, opts: { subpixel?: boolean; sourceWidth?: number; sourceHeight?: number } = {}): MatchField {
  const { width: w, height: h } = flowToPrevious;
  if (previous.width !== w || previous.height !== h) throw new UserError(`matches are ${previous.width}x${previous.height}, but the flow is ${w}x${h}`);
  const data = new Int32Array(w * h * 2);
  const sub = opts.subpixel ? new Float32Array(w * h * 2) : undefined;
  const prevOff = previous.offsets;
  const sw = opts.sourceWidth ?? w, sh = opts.sourceHeight ?? h;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const fx = x + flowToPrevious.data[i * 2], fy = y + flowToPrevious.data[i * 2 + 1];
      const qx = Math.min(w - 1, Math.max(0, Math.round(fx)));
      const qy = Math.min(h - 1, Math.max(0, Math.round(fy)));
      const q = qy * w + qx;
      if (!sub) {
        data[i * 2] = previous.data[q * 2];
        data[i * 2 + 1] = previous.data[q * 2 + 1];
        continue;
      }
      // Where the match field is locally a shift, pixel p's patch lies where q's does, moved by the
      // fraction of a pixel the flow ends off q's centre.
      const mx = previous.data[q * 2] + (prevOff ? prevOff[q * 2] : 0) + (fx - qx);
      const my = previous.data[q * 2 + 1] + (prevOff ? prevOff[q * 2 + 1] : 0) + (fy - qy);
      const ix = Math.round(mx), iy = Math.round(my);
      const cx = Math.min(sw - 1, Math.max(0, ix)), cy = Math.min(sh - 1, Math.max(0, iy));
      data[i * 2] = cx;
      data[i * 2 + 1] = cy;
      sub[i * 2] = cx === ix ? quantiseOffset(mx - ix) : 0;
      sub[i * 2 + 1] = cy === iy ? quantiseOffset(my - iy) : 0;
    }
  return { width: w, height: h, data, offsets: sub };
}

/** Synthesises the target frame described by the guides' targets in the style of the exemplar. */
export async function synthesize(opts: SynthesisOptions): Promise<SynthesisResult> {
  const o = { ...SYNTHESIS_DEFAULTS, ...opts };
  if (opts.styles.length === 0) throw new UserError('synthesis needs at least one style image');
  const { width: sw, height: sh } = opts.styles[0].image;
  opts.styles.forEach((s, k) => {
    checkImage(s.image, `style ${k + 1}`);
    if (!(s.image.data instanceof Uint8Array)) throw new UserError(`style ${k + 1}: must be an 8-bit image`);
    if (s.image.width !== sw || s.image.height !== sh)
      throw new UserError(`style ${k + 1} is ${s.image.width}x${s.image.height}, but style 1 is ${sw}x${sh}`);
  });
  const tw = opts.guides[0]?.target.width ?? sw, th = opts.guides[0]?.target.height ?? sh;
  opts.guides.forEach((g, k) => {
    const what = `guide ${g.name ?? k + 1}`;
    checkImage(g.source, `${what} (source)`);
    checkImage(g.target, `${what} (target)`);
    if (g.source.width !== sw || g.source.height !== sh)
      throw new UserError(`${what}: source guide is ${g.source.width}x${g.source.height}, but the style is ${sw}x${sh}`);
    if (g.target.width !== tw || g.target.height !== th)
      throw new UserError(`${what}: target guide is ${g.target.width}x${g.target.height}, but the first target guide is ${tw}x${th}`);
    if (g.source.channels !== g.target.channels)
      throw new UserError(`${what}: source has ${g.source.channels} channels, target has ${g.target.channels}`);
  });
  checkInt(o.patchSize, 'patch size', 3);
  if (o.patchSize % 2 === 0) throw new UserError(`patch size must be odd, got ${o.patchSize}`);
  if (sw < o.patchSize || sh < o.patchSize) throw new UserError(`the style image (${sw}x${sh}) is smaller than one ${o.patchSize}x${o.patchSize} patch`);
  checkInt(o.searchVoteIters, 'search-vote iterations', 0);
  checkInt(o.patchMatchIters, 'PatchMatch iterations', 0);
  if (!Number.isInteger(o.pyramidLevels) || (o.pyramidLevels < 1 && o.pyramidLevels !== -1))
    throw new UserError(`pyramid levels must be -1 (automatic) or a whole number >= 1, got ${o.pyramidLevels}`);
  if (!Number.isFinite(o.uniformity) || o.uniformity < 0) throw new UserError(`uniformity weight must be >= 0, got ${o.uniformity}`);
  const init = opts.initialMatches;
  if (init) {
    if (init.width !== tw || init.height !== th || init.data.length !== tw * th * 2)
      throw new UserError(`initial matches are ${init.width}x${init.height}, but the target is ${tw}x${th}`);
    for (let i = 0; i < init.data.length; i += 2)
      if (init.data[i] < 0 || init.data[i] >= sw || init.data[i + 1] < 0 || init.data[i + 1] >= sh)
        throw new UserError(`initial matches point outside the ${sw}x${sh} style image`);
    if (init.offsets) {
      if (init.offsets.length !== tw * th * 2) throw new UserError(`initial match offsets have ${init.offsets.length} values, the ${tw}x${th} target needs ${tw * th * 2}`);
      for (const d of init.offsets) if (!(d > -1 && d < 1)) throw new UserError(`initial match offsets must lie between -1 and 1, got ${d}`);
    }
  }
  opts.cancel?.throwIfCancelled();

  const styleWeights = opts.styles.map((s, k) => checkWeight(s.weight, `style ${k + 1}`));
  const guideWeights = opts.guides.map((g, k) => checkWeight(g.weight, `guide ${g.name ?? k + 1}`));
  const style = stack(opts.styles.map((s) => s.image), styleWeights, sw, sh);
  const sourceGuide = stack(opts.guides.map((g) => g.source), guideWeights, sw, sh);
  const targetGuide = stack(opts.guides.map((g) => g.target), guideWeights, tw, th);
  const sourceStyle = new Uint8Array(style.data.length);
  sourceStyle.set(style.data);

  const cancelFlag = new Int32Array(1);
  opts.cancel?.onCancel(() => { cancelFlag[0] = 1; });
  const native = loadAddon<NativeSynthesis>();
  try {
    const r = await native.synthesize({
      sourceWidth: sw, sourceHeight: sh, targetWidth: tw, targetHeight: th,
      styleChannels: style.channels, sourceStyle, styleWeights: style.weights,
      guideChannels: sourceGuide.channels, sourceGuide: sourceGuide.data, targetGuide: targetGuide.data, guideWeights: sourceGuide.weights,
      initialMatches: init?.data, initialOffsets: init?.offsets,
      patchSize: o.patchSize, uniformity: o.uniformity, pyramidLevels: o.pyramidLevels,
      searchVoteIters: o.searchVoteIters, patchMatchIters: o.patchMatchIters, seed: o.seed >>> 0,
      threads: opts.threads ?? os.availableParallelism(), cancelFlag,
    });
    return {
      image: { width: tw, height: th, channels: style.channels, data: r.image },
      error: { width: tw, height: th, channels: 1, data: r.error },
      matches: { width: tw, height: th, data: r.matches, ...(r.offsets ? { offsets: r.offsets } : {}) },
    };
  } catch (err) {
    if (err instanceof Error && err.name === 'CancelledError') throw new CancelledError();
    throw err;
  }
}
