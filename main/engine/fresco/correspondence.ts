// How the frames of a FRESCO batch correspond, at the resolution of a feature grid: which token of the
// previous frame each token shows (from the input video's optical flow), which tokens are newly revealed
// (efficient cross-frame attention), and each token's flow trajectory through the batch (temporal attention).
import { computeFlow, occlusionMask, warpImage } from '../../../native-models/src/flow';
import type { FlowField, Image } from '../../../native-models/src/image';
import type { TokenLinks } from './feature-optimisation';

/** Flow between each frame of the batch and the one before it. */
export interface BatchMotion {
  width: number;
  height: number;
  /** Entry f (f ≥ 1): backward flow f → f−1 on frame f's grid and frame f's pixels not visible in f−1 (255). */
  steps: Array<{ backward: FlowField; occluded: Image } | undefined>;
}

/** A token counts as visible in the previous frame when at least this share of its pixels is. */
export const VISIBLE_SHARE = 0.5;

/** A pixel whose colour differs from the previous frame's (followed by the flow) by more than this mean share of the range counts as occluded too. */
export const PHOTOMETRIC_OCCLUSION = 0.25;

/**
 * Marks (255) the pixels of `occluded` where `frame` and the previous frame warped onto it differ by more
 * than PHOTOMETRIC_OCCLUSION on average over the channels. Forward-backward consistency misses what the
 * flow matched wrongly but consistently (lighting changes, thin objects); the method checks colour too.
 */
export function markPhotometricOcclusion(frame: Image, warpedPrevious: Image, occluded: Image): void {
  const c = frame.channels, limit = PHOTOMETRIC_OCCLUSION * 255 * c;
  for (let p = 0; p < occluded.data.length; p++) {
    let d = 0;
    for (let k = 0; k < c; k++) d += Math.abs(frame.data[p * c + k] - warpedPrevious.data[p * c + k]);
    if (d > limit) occluded.data[p] = 255;
  }
}

export async function batchMotion(frames: Image[]): Promise<BatchMotion> {
  const steps: BatchMotion['steps'] = [undefined];
  for (let f = 1; f < frames.length; f++) {
    const pair = await computeFlow(frames[f - 1], frames[f]);
    const occluded = await occlusionMask(pair);
    markPhotometricOcclusion(frames[f], await warpImage(frames[f - 1], pair.backward), occluded);
    steps.push({ backward: pair.backward, occluded });
  }
  return { width: frames[0].width, height: frames[0].height, steps };
}

/** Token links on a gridWidth × gridHeight grid: block-mean flow, nearest source cell, visible share. */
export function tokenLinks(motion: BatchMotion, gridWidth: number, gridHeight: number): TokenLinks {
  const F = motion.steps.length, N = gridWidth * gridHeight;
  const source = new Int32Array(F * N).fill(-1), visible = new Float32Array(F * N);
  const bx = motion.width / gridWidth, by = motion.height / gridHeight;
  for (let f = 1; f < F; f++) {
    const step = motion.steps[f]!;
    for (let gy = 0; gy < gridHeight; gy++) {
      const y0 = Math.floor(gy * by), y1 = Math.max(y0 + 1, Math.floor((gy + 1) * by));
      for (let gx = 0; gx < gridWidth; gx++) {
        const x0 = Math.floor(gx * bx), x1 = Math.max(x0 + 1, Math.floor((gx + 1) * bx));
        let dx = 0, dy = 0, seen = 0, n = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            const p = y * motion.width + x;
            dx += step.backward.data[2 * p]; dy += step.backward.data[2 * p + 1];
            if (!step.occluded.data[p]) seen++;
            n++;
          }
        }
        const sx = Math.round(gx + dx / n / bx), sy = Math.round(gy + dy / n / by);
        const t = f * N + gy * gridWidth + gx;
        if (sx >= 0 && sx < gridWidth && sy >= 0 && sy < gridHeight) {
          source[t] = sy * gridWidth + sx;
          visible[t] = seen / n;
        }
      }
    }
  }
  return { source, visible };
}

function linked(links: TokenLinks, t: number): boolean {
  return links.source[t] >= 0 && links.visible[t] >= VISIBLE_SHARE;
}

/**
 * Efficient cross-frame attention's key set, as indices into one CFG branch's tokens flattened over the
 * batch [F·N]: every token of frame 0, and the tokens of later frames not visible in the frame before.
 */
export function revealedTokens(links: TokenLinks, frames: number, tokens: number): number[] {
  const list = Array.from({ length: tokens }, (_, i) => i);
  for (let t = tokens; t < frames * tokens; t++) if (!linked(links, t)) list.push(t);
  return list;
}

/** Temporal attention's trajectories: for every token, its position in each frame of the batch (or none). */
export interface Trajectories {
  /** int64 [F·N, F]: slot g holds the token's trajectory member in frame g (itself when none). */
  index: BigInt64Array;
  /** [F·N, F]: 0 for a member, −10000 for an empty slot (softmax weight 0). */
  bias: Float32Array;
}

/**
 * Follows the links backwards from every token to its ancestors; a token's descendants are the first token
 * of each later frame whose ancestor chain passes through it. Every token is its own member in its frame.
 */
export function trajectories(links: TokenLinks, frames: number, tokens: number): Trajectories {
  const F = frames, N = tokens;
  // ancestor[f][g·N + p]: the token of frame g < f on the chain of (f, p), or −1.
  const members = new Int32Array(F * N * F).fill(-1);
  for (let f = 0; f < F; f++) {
    for (let p = 0; p < N; p++) {
      const row = (f * N + p) * F;
      members[row + f] = p;
      let cur = p;
      for (let g = f; g > 0 && linked(links, g * N + cur); g--) {
        cur = links.source[g * N + cur];
        members[row + g - 1] = cur;
      }
    }
  }
  // Descendants: for (f, p) with ancestor q in frame g, (g, q) gains member p in frame f (first one wins).
  for (let f = 0; f < F; f++) {
    for (let p = 0; p < N; p++) {
      const row = (f * N + p) * F;
      for (let g = 0; g < f; g++) {
        const q = members[row + g];
        if (q < 0) continue;
        const other = (g * N + q) * F + f;
        if (members[other] < 0) members[other] = p;
      }
    }
  }
  const index = new BigInt64Array(F * N * F), bias = new Float32Array(F * N * F);
  for (let t = 0; t < F * N; t++) {
    for (let g = 0; g < F; g++) {
      const m = members[t * F + g];
      index[t * F + g] = BigInt(m >= 0 ? g * N + m : t);
      bias[t * F + g] = m >= 0 ? 0 : -10000;
    }
  }
  return { index, bias };
}
