// The hierarchical cross-frame constraints of a later keyframe (docs/METHOD.md §3.0–§3.4): optical flow and
// soft occlusion masks towards the anchor and the previous keyframe, shape-aware fusion and colour
// adjustment at the x̂₀ hook, the pixel composite with fidelity-oriented encoding, and pixel-aware fusion.
import { computeFlow, occlusionMask, softMask, warpImage } from '../../../native-models/src/flow';
import type { FlowField, FloatImage, Image } from '../../../native-models/src/image';
import type { DiffusionModels } from './diffusion-models';
import {
  adaptiveInstanceNorm, dilate3x3, flowToLatent, imageToSigned, perChannel, poolBlocks, signedToImage,
  warpLatentNearest, type ChannelStats, type Planar,
} from './latent';

/** VAE downsampling factor between pixels and latent cells. */
export const LATENT_FACTOR = 8;

/** How an earlier keyframe (anchor or previous) lines up with the current frame. */
export interface Alignment {
  /** Backward flow current → earlier frame, on the current frame's grid. */
  backward: FlowField;
  /** 255 where the current frame's pixel is not visible in the earlier frame. */
  occluded: Image;
  /** Soft mask m = clamp(blur(maxpool(O)) + O, 0, 1) (§3.0 step 2). */
  soft: FloatImage;
}

export async function align(earlierInput: Image, currentInput: Image): Promise<Alignment> {
  const pair = await computeFlow(earlierInput, currentInput);
  const occluded = await occlusionMask(pair);
  return { backward: pair.backward, occluded, soft: await softMask(occluded) };
}

/** Shape-aware fusion data: the anchor's latent flow and M_w = 1 − maxpool₈(m₀) (§3.2). */
export interface ShapeFusion { latentFlow: FlowField; trust: Float32Array }

export function shapeFusion(anchor: Alignment): ShapeFusion {
  const pooled = poolBlocks(anchor.soft, LATENT_FACTOR, 'max');
  return { latentFlow: flowToLatent(anchor.backward, LATENT_FACTOR), trust: Float32Array.from(pooled.data, (v) => 1 - v) };
}

/** x̂₀ ← M_w ⊙ warp_nearest(x̂₀^anchor) + (1 − M_w) ⊙ x̂₀. */
export async function applyShapeFusion(x0: Float32Array, anchorX0: Float32Array, fusion: ShapeFusion, channels: number): Promise<Float32Array> {
  const { width, height } = fusion.latentFlow;
  const warped = await warpLatentNearest(anchorX0, channels, height, width, fusion.latentFlow);
  const n = width * height;
  const out = new Float32Array(x0.length);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < n; i++) {
      const m = fusion.trust[i];
      out[c * n + i] = m * warped[c * n + i] + (1 - m) * x0[c * n + i];
    }
  }
  return out;
}

/** §3.4: x̂₀ takes the anchor's per-channel mean and deviation at the same step. */
export function applyColourAdjustment(x0: Float32Array, anchorStats: ChannelStats, channels: number): Float32Array {
  return adaptiveInstanceNorm(x0, channels, anchorStats);
}

/** I = (1−m₀)·W₀ + m₀·[(1−m_p)·W_p + m_p·D] with the earlier results warped bilinearly into this frame (§3.0 step 4). */
export async function pixelComposite(decoded: Image, anchorResult: Image, anchor: Alignment, previousResult: Image, previous: Alignment): Promise<Image> {
  const w0 = await warpImage(anchorResult, anchor.backward, 'bilinear');
  const wp = await warpImage(previousResult, previous.backward, 'bilinear');
  const n = decoded.width * decoded.height;
  const out = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const m0 = anchor.soft.data[i], mp = previous.soft.data[i];
    for (let c = 0; c < 3; c++) {
      const inner = (1 - mp) * wp.data[i * 3 + c] + mp * decoded.data[i * decoded.channels + c];
      out[i * 3 + c] = Math.round((1 - m0) * w0.data[i * 3 + c] + m0 * inner);
    }
  }
  return { width: decoded.width, height: decoded.height, channels: 3, data: out };
}

/** M_lat: latent cells whose whole block is visible in the anchor or the previous keyframe (§3.3). */
export async function validLatentMask(anchor: Alignment, previous: Alignment): Promise<FloatImage> {
  const both = new Uint8Array(anchor.occluded.data.length);
  for (let i = 0; i < both.length; i++) both[i] = anchor.occluded.data[i] && previous.occluded.data[i] ? 255 : 0;
  const invalid = await softMask({ ...anchor.occluded, data: both });
  const valid: FloatImage = { ...invalid, data: Float32Array.from(invalid.data, (v) => 1 - v) };
  return poolBlocks(valid, LATENT_FACTOR, 'min');
}

/**
 * Round-trip error above this (mean over channels of |D(E(I)) − I|, in [−1, 1] units) marks a pixel where the
 * compensation z + (z − z′) is not trusted: it would double a correction too large to be a small, near-linear
 * loss, which is where it makes artefacts.
 */
export const FIDELITY_ARTEFACT_THRESHOLD = 0.25;

export interface FidelityEncoding {
  /** z = E(I). */
  plain: Float32Array;
  /** z + (1 − M_E) ⊙ (z − z′): the compensated latent with the fallback applied. */
  compensated: Float32Array;
  /** M_E on the latent grid (1 = fell back to z). */
  fallback: Float32Array;
  /**
   * F on the latent grid: 1 where the target latent represents I at least as well as the latent the
   * keyframe already has (measured on the round trip D(z), mean over the cell's block; the compensated
   * latent is used only where that round trip is close, and decodes closer still), else 0; all 1 when no
   * current decode was given. Pixel-aware fusion leaves cells with F = 0 alone.
   */
  faithful: Float32Array;
}

/** An image ↔ latent codec: the VAE (DiffusionModels is one). */
export interface LatentCodec {
  readonly latentChannels: number;
  encode(image: Planar): Promise<Float32Array>;
  decode(latent: Float32Array, height: number, width: number): Promise<Planar>;
}

/** Per pixel: mean over the three channels of |decoded − target| ([−1, 1] units). */
function pixelError(decoded: Planar, target: Planar): FloatImage {
  const n = target.width * target.height;
  const error = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let e = 0;
    for (let c = 0; c < 3; c++) e += Math.abs(decoded.data[c * n + i] - target.data[c * n + i]);
    error[i] = e / 3;
  }
  return { width: target.width, height: target.height, channels: 1, data: error };
}

/**
 * Fidelity-oriented encoding (§3.3): z′ = E(D(z)) measures what one VAE round trip loses, and z + (z − z′)
 * pre-compensates it; where the round trip D(z) is far from I (dilated by one cell) the plain z is kept. Two
 * encodes and one decode: the artefact check reads the round trip the compensation decodes anyway, not a
 * decode of the compensated latent (render/README.md "Fidelity encoding's artefact check" says why).
 * With `current` (pass 1's decode D), cells where the target latent decodes further from I than D does are
 * marked unfaithful: fusing towards them would move the result away from I (an addition to §3.3;
 * render/README.md "Pixel-aware fusion's target" says why).
 */
export async function fidelityEncode(models: LatentCodec, image: Image, current?: Image): Promise<FidelityEncoding> {
  const target = imageToSigned(image);
  const h = image.height / LATENT_FACTOR, w = image.width / LATENT_FACTOR;
  const channels = models.latentChannels;
  const z = await models.encode(target);
  const roundTrip = await models.decode(z, h, w);
  const zPrime = await models.encode(roundTrip);
  const loss = pixelError(roundTrip, target);
  const untrusted = { ...loss, data: loss.data.map((e) => (e > FIDELITY_ARTEFACT_THRESHOLD ? 1 : 0)) };
  const fallback = dilate3x3(poolBlocks(untrusted, LATENT_FACTOR, 'max')).data;
  const keep = perChannel(fallback, channels);
  const compensated = Float32Array.from(z, (v, k) => v + (1 - keep[k]) * (v - zPrime[k]));
  const faithful = new Float32Array(fallback.length).fill(1);
  if (current) {
    // The target's decode per cell, bounded by D(z): exact where it fell back to z; where it kept z*, the
    // compensation removes part of D(z)'s loss, so z* is judged by the larger error of the two (never fused
    // where the plain latent would not be).
    const targetError = poolBlocks(loss, LATENT_FACTOR, 'mean').data;
    const currentError = poolBlocks(pixelError(imageToSigned(current), target), LATENT_FACTOR, 'mean').data;
    for (let i = 0; i < faithful.length; i++) faithful[i] = targetError[i] <= currentError[i] ? 1 : 0;
  }
  return { plain: z, compensated, fallback, faithful };
}

/** Everything pixel-aware fusion needs at each step of its window. */
export interface PixelFusion {
  /** z̃ = compensated latent ⊙ M_lat. */
  target: Float32Array;
  /** w = strength · M_lat, per latent element. */
  weight: Float32Array;
  /** r per latent element: max(1 − w, λ√(1 − w²)), or 1 − w on boundary cells with smooth boundary on. */
  detail: Float32Array;
}

/**
 * M_lat (§3.3) is taken as M_lat ⊙ F: a cell whose target latent represents the composite worse than the
 * keyframe's own latent counts as invalid (weight 0, its neighbours are boundary cells), like a cell that
 * neither earlier keyframe sees.
 */
export function pixelFusion(encoding: FidelityEncoding, valid: FloatImage, channels: number, strength: number, detailLevel: number, smoothBoundary: boolean): PixelFusion {
  const mLat = Float32Array.from(valid.data, (v, i) => v * encoding.faithful[i]);
  // Boundary: valid cells within one cell of a cell that is not fully valid.
  const notValid = dilate3x3({ ...valid, data: Float32Array.from(mLat, (v) => 1 - v) }).data;
  const cells = mLat.length;
  const target = new Float32Array(cells * channels), weight = new Float32Array(cells * channels), detail = new Float32Array(cells * channels);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < cells; i++) {
      const k = c * cells + i;
      const w = strength * mLat[i];
      const boundary = smoothBoundary && mLat[i] > 0 && notValid[i] > 0;
      target[k] = encoding.compensated[k] * mLat[i];
      weight[k] = w;
      detail[k] = boundary ? 1 - w : Math.max(1 - w, detailLevel * Math.sqrt(Math.max(0, 1 - w * w)));
    }
  }
  return { target, weight, detail };
}

/** x_t ← w ⊙ (√ᾱ_t·z̃ + √(1−ᾱ_t)·n) + (1 − w) ⊙ (x_t − d) + r ⊙ d. */
export function applyPixelFusion(sample: Float32Array, direction: Float32Array, noise: Float32Array, alpha: number, fusion: PixelFusion): Float32Array {
  const sa = Math.sqrt(alpha), sb = Math.sqrt(1 - alpha);
  const out = new Float32Array(sample.length);
  for (let k = 0; k < out.length; k++) {
    const w = fusion.weight[k];
    out[k] = w * (sa * fusion.target[k] + sb * noise[k]) + (1 - w) * (sample[k] - direction[k]) + fusion.detail[k] * direction[k];
  }
  return out;
}

/** Decodes a latent to an 8-bit RGB image. */
export async function decodeToImage(models: DiffusionModels, latent: Float32Array, height: number, width: number): Promise<Image> {
  return signedToImage(await models.decode(latent, height, width));
}
