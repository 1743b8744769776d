// Pixel ↔ tensor conversions and the small latent-grid operations the constraints are made of:
// block pooling of pixel masks onto the latent grid, latent warping by a pixel flow, channel statistics
// and AdaIN. Tensors are NCHW float32 with N = 1 unless said otherwise.
import type { FlowField, FloatImage, Image } from '../../../native-models/src/image';
import { warpFloat } from '../../../native-models/src/flow';

/** A latent or image tensor: channels × height × width, row-major per channel. */
export interface Planar {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** RGB image → [3, H, W] in [−1, 1] (the VAE encoder's input). */
export function imageToSigned(img: Image): Planar {
  const { width, height } = img;
  const n = width * height;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[c * n + i] = img.data[i * img.channels + Math.min(c, img.channels - 1)] / 127.5 - 1;
  }
  return { channels: 3, height, width, data };
}

/** [3, H, W] in [−1, 1] (the VAE decoder's output) → 8-bit RGB, clamped. */
export function signedToImage(t: Planar): Image {
  const n = t.width * t.height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.max(0, Math.min(255, Math.round((t.data[c * n + i] + 1) * 127.5)));
  }
  return { width: t.width, height: t.height, channels: 3, data };
}

/** An 8-bit control map, grey (repeated into R, G, B) or RGB → [3, H, W] in [0, 1], the ControlNet conditioning image. */
export function mapToUnitRgb(img: Image): Planar {
  const n = img.width * img.height;
  const data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) data[c * n + i] = img.data[i * img.channels + Math.min(c, img.channels - 1)] / 255;
  }
  return { channels: 3, height: img.height, width: img.width, data };
}

/** Reduces a one-channel pixel mask to the latent grid by max, min or mean over each `factor`² block. */
export function poolBlocks(mask: FloatImage, factor: number, mode: 'max' | 'min' | 'mean'): FloatImage {
  const w = Math.floor(mask.width / factor), h = Math.floor(mask.height / factor);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = mode === 'max' ? -Infinity : mode === 'min' ? Infinity : 0;
      for (let dy = 0; dy < factor; dy++) {
        const row = (y * factor + dy) * mask.width + x * factor;
        for (let dx = 0; dx < factor; dx++) {
          const v = mask.data[(row + dx) * mask.channels];
          acc = mode === 'max' ? Math.max(acc, v) : mode === 'min' ? Math.min(acc, v) : acc + v;
        }
      }
      out[y * w + x] = mode === 'mean' ? acc / (factor * factor) : acc;
    }
  }
  return { width: w, height: h, channels: 1, data: out };
}

/** Max over the 3×3 neighbourhood (a one-cell dilation) of a one-channel map. */
export function dilate3x3(m: FloatImage): FloatImage {
  const { width: w, height: h } = m;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = -Infinity;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(h - 1, y + 1); yy++) {
        for (let xx = Math.max(0, x - 1); xx <= Math.min(w - 1, x + 1); xx++) v = Math.max(v, m.data[yy * w + xx]);
      }
      out[y * w + x] = v;
    }
  }
  return { width: w, height: h, channels: 1, data: out };
}

/** A pixel flow brought to the latent grid: the mean displacement of each block, in latent cells. */
export function flowToLatent(flow: FlowField, factor: number): FlowField {
  const w = Math.floor(flow.width / factor), h = Math.floor(flow.height / factor);
  const out = new Float32Array(w * h * 2);
  const area = factor * factor;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx = 0, sy = 0;
      for (let dy = 0; dy < factor; dy++) {
        for (let dx = 0; dx < factor; dx++) {
          const i = ((y * factor + dy) * flow.width + x * factor + dx) * 2;
          sx += flow.data[i]; sy += flow.data[i + 1];
        }
      }
      out[(y * w + x) * 2] = sx / area / factor;
      out[(y * w + x) * 2 + 1] = sy / area / factor;
    }
  }
  return { width: w, height: h, channels: 2, data: out };
}

/** Backward-warps a latent by a latent-grid flow with nearest sampling (latents are never interpolated). */
export async function warpLatentNearest(latent: Float32Array, channels: number, height: number, width: number, flow: FlowField): Promise<Float32Array> {
  const n = width * height;
  const interleaved = new Float32Array(n * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) interleaved[i * channels + c] = latent[c * n + i];
  const warped = await warpFloat({ width, height, channels, data: interleaved }, flow, 'nearest');
  const out = new Float32Array(n * channels);
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) out[c * n + i] = warped.data[i * channels + c];
  return out;
}

/** Per-channel mean and standard deviation (population) of a [C, h, w] tensor. */
export interface ChannelStats { mean: number[]; std: number[] }

export function channelStats(x: Float32Array, channels: number): ChannelStats {
  const n = x.length / channels;
  const mean: number[] = [], std: number[] = [];
  for (let c = 0; c < channels; c++) {
    let s = 0, s2 = 0;
    for (let i = c * n; i < (c + 1) * n; i++) s += x[i];
    const m = s / n;
    for (let i = c * n; i < (c + 1) * n; i++) s2 += (x[i] - m) ** 2;
    mean.push(m);
    std.push(Math.sqrt(s2 / n));
  }
  return { mean, std };
}

/** AdaIN: instance-normalise each channel, then give it the target's mean and deviation (§3.4). */
export function adaptiveInstanceNorm(x: Float32Array, channels: number, target: ChannelStats): Float32Array {
  const own = channelStats(x, channels);
  const n = x.length / channels;
  const out = new Float32Array(x.length);
  for (let c = 0; c < channels; c++) {
    const scale = target.std[c] / Math.max(own.std[c], 1e-8);
    for (let i = c * n; i < (c + 1) * n; i++) out[i] = (x[i] - own.mean[c]) * scale + target.mean[c];
  }
  return out;
}

/** Writes a one-channel latent-grid mask into each of `channels` planes (to multiply a latent with it). */
export function perChannel(mask: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(mask.length * channels);
  for (let c = 0; c < channels; c++) out.set(mask, c * mask.length);
  return out;
}
