// FRESCO's optional background smoothing (docs/METHOD.md §6): with a user-supplied ONNX saliency model, at two
// late steps the decoded x̂₀ of frame i−1 is warped into frame i and replaces frame i where the pixel is
// visible in both frames and background in both, then re-encoded. Without a model the option is unavailable.
import * as ort from '../../../native-models/src/runtime/onnxruntime';
import { warpFloat } from '../../../native-models/src/flow';
import type { FloatImage, Image } from '../../../native-models/src/image';
import type { LatentCodec } from '../render/constraints';
import type { Planar } from '../render/latent';
import type { BatchMotion } from './correspondence';
import type { TokenLinks } from './feature-optimisation';

/** Foreground probability per pixel in [0, 1] at the frame's size. */
export interface SaliencyModel {
  foreground(frame: Image): Promise<FloatImage>;
  close(): Promise<void>;
}

/** Nearest-neighbour resampling of a one-channel float map. */
function resizeNearest(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(sh - 1, Math.floor(((y + 0.5) * sh) / dh));
    for (let x = 0; x < dw; x++) out[y * dw + x] = src[sy * sw + Math.min(sw - 1, Math.floor(((x + 0.5) * sw) / dw))];
  }
  return out;
}

/**
 * Opens a saliency model: RGB [1, 3, H, W] normalised with ImageNet's mean and deviation (the convention of
 * U²-Net, BASNet and similar), at the model's fixed size when it has one; its first output, min-max scaled,
 * is the foreground map.
 */
export async function openSaliencyModel(file: string): Promise<SaliencyModel> {
  const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
  const meta = (session as unknown as { inputMetadata?: Array<{ shape?: Array<number | string> }> }).inputMetadata?.[0]?.shape;
  const fixed = meta && typeof meta[2] === 'number' && typeof meta[3] === 'number' ? [meta[2], meta[3]] as [number, number] : undefined;
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  return {
    async foreground(frame) {
      const [h, w] = fixed ?? [frame.height, frame.width];
      const n = w * h, data = new Float32Array(3 * n);
      for (let c = 0; c < 3; c++) {
        const plane = new Float32Array(frame.width * frame.height);
        for (let i = 0; i < plane.length; i++) plane[i] = frame.data[i * frame.channels + Math.min(c, frame.channels - 1)] / 255;
        const resized = resizeNearest(plane, frame.width, frame.height, w, h);
        for (let i = 0; i < n; i++) data[c * n + i] = (resized[i] - mean[c]) / std[c];
      }
      const r = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, h, w]) });
      const out = r[session.outputNames[0]];
      const dims = out.dims, map = out.data as Float32Array;
      const oh = dims[dims.length - 2], ow = dims[dims.length - 1];
      const plane = map.slice(0, oh * ow);
      let lo = Infinity, hi = -Infinity;
      for (const v of plane) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const scaled = plane.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
      return { width: frame.width, height: frame.height, channels: 1, data: resizeNearest(scaled, ow, oh, frame.width, frame.height) };
    },
    close: () => session.release(),
  };
}

/** Max over a size × size window (separable), of a 0/255 mask: occlusions grown so seams stay out. */
function dilate(mask: Uint8Array, width: number, height: number, size: number): Uint8Array {
  const r = size >> 1, tmp = new Uint8Array(mask.length), out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    let m = 0;
    for (let k = Math.max(0, x - r); k <= Math.min(width - 1, x + r); k++) m = Math.max(m, mask[y * width + k]);
    tmp[y * width + x] = m;
  }
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    let m = 0;
    for (let k = Math.max(0, y - r); k <= Math.min(height - 1, y + r); k++) m = Math.max(m, tmp[k * width + x]);
    out[y * width + x] = m;
  }
  return out;
}

/** Pixels that FRESCO keeps from the previous frame: visible in it (occlusion dilated 13×13) and background in both. */
export const OCCLUSION_DILATION = 13;
export const FOREGROUND_THRESHOLD = 0.5;

/** Smooths the background of a batch's x̂₀ (per frame latents); frames with nothing to smooth come back as they were. */
export async function smoothBackground(codec: LatentCodec, x0: Float32Array[], latent: { channels: number; height: number; width: number }, motion: BatchMotion, foreground: FloatImage[]): Promise<Float32Array[]> {
  const { width, height } = motion;
  const n = width * height;
  const toInterleaved = (p: Planar) => { const d = new Float32Array(3 * n); for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) d[i * 3 + c] = p.data[c * n + i]; return d; };
  const result = [x0[0]];
  let previous = toInterleaved(await codec.decode(x0[0], latent.height, latent.width));
  for (let f = 1; f < x0.length; f++) {
    const step = motion.steps[f]!;
    const own = toInterleaved(await codec.decode(x0[f], latent.height, latent.width));
    const warped = (await warpFloat({ width, height, channels: 3, data: previous }, step.backward, 'bilinear')).data;
    const warpedFg = (await warpFloat({ ...foreground[f - 1], data: foreground[f - 1].data }, step.backward, 'bilinear')).data;
    const hidden = dilate(step.occluded.data, width, height, OCCLUSION_DILATION);
    let changed = 0;
    for (let i = 0; i < n; i++) {
      if (hidden[i] || foreground[f].data[i] >= FOREGROUND_THRESHOLD || warpedFg[i] >= FOREGROUND_THRESHOLD) continue;
      for (let c = 0; c < 3; c++) own[i * 3 + c] = warped[i * 3 + c];
      changed++;
    }
    previous = own;
    if (!changed) { result.push(x0[f]); continue; }
    const planar = new Float32Array(3 * n);
    for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) planar[c * n + i] = own[i * 3 + c];
    result.push(await codec.encode({ channels: 3, height, width, data: planar }));
  }
  return result;
}

/** Mean foreground probability over each cell of a gridWidth × gridHeight grid. */
export function foregroundOnGrid(foreground: FloatImage, gridWidth: number, gridHeight: number): Float32Array {
  const out = new Float32Array(gridWidth * gridHeight);
  const bx = foreground.width / gridWidth, by = foreground.height / gridHeight;
  for (let gy = 0; gy < gridHeight; gy++) {
    const y0 = Math.floor(gy * by), y1 = Math.max(y0 + 1, Math.floor((gy + 1) * by));
    for (let gx = 0; gx < gridWidth; gx++) {
      const x0 = Math.floor(gx * bx), x1 = Math.max(x0 + 1, Math.floor((gx + 1) * bx));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += foreground.data[y * foreground.width + x];
      out[gy * gridWidth + gx] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}

/**
 * The same masked warp on a batch's features [frames, channels, tokens] (in place, frame by frame so the first
 * frame's background carries through): a token takes its source token's features from the previous frame
 * when its whole cell is visible there and it is background in both frames.
 */
export function smoothBackgroundFeatures(features: Float32Array, frames: number, channels: number, links: TokenLinks, foreground: Float32Array[]): void {
  const N = features.length / (frames * channels);
  for (let f = 1; f < frames; f++) {
    for (let p = 0; p < N; p++) {
      const src = links.source[f * N + p];
      if (src < 0 || links.visible[f * N + p] < 1 || foreground[f][p] >= FOREGROUND_THRESHOLD || foreground[f - 1][src] >= FOREGROUND_THRESHOLD) continue;
      for (let c = 0; c < channels; c++) features[(f * channels + c) * N + p] = features[((f - 1) * channels + c) * N + src];
    }
  }
}
