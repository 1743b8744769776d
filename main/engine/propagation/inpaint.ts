// Filling occluded pixels of advected guides (positions, previous output) from their visible
// neighbourhood: push-pull over an image pyramid, linear in the pixel count.
import type { FloatImage, Image } from '../../../native-models/src/image';

/**
 * Replaces every pixel where `holes` is non-zero by a smooth average of the nearest known pixels.
 * Works on any channel count; returns a new buffer. With no known pixel at all, returns the input.
 */
export function inpaintFloat(src: FloatImage, holes: Uint8Array): FloatImage {
  const { width, height, channels } = src;
  const known = new Float32Array(width * height);
  for (let i = 0; i < known.length; i++) known[i] = holes[i] ? 0 : 1;
  const filled = pushPull(src.data, known, width, height, channels);
  const out = new Float32Array(src.data);
  for (let i = 0; i < known.length; i++) {
    if (holes[i]) for (let c = 0; c < channels; c++) out[i * channels + c] = filled[i * channels + c];
  }
  return { width, height, channels, data: out };
}

export function inpaintImage(src: Image, holes: Uint8Array): Image {
  const f = inpaintFloat({ width: src.width, height: src.height, channels: src.channels, data: Float32Array.from(src.data) }, holes);
  const data = new Uint8Array(f.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(f.data[i])));
  return { width: src.width, height: src.height, channels: src.channels, data };
}

/** Weighted values (premultiplied by weight) are averaged down 2× until everything is covered, then pulled back up. */
function pushPull(values: Float32Array, weight: Float32Array, w: number, h: number, ch: number): Float32Array {
  if (w <= 1 && h <= 1) return normalise(values, weight, ch);
  const cw = Math.ceil(w / 2), chh = Math.ceil(h / 2);
  const cv = new Float32Array(cw * chh * ch);
  const cwgt = new Float32Array(cw * chh);
  let anyHole = false;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const j = (y >> 1) * cw + (x >> 1);
      const wt = weight[i];
      if (wt < 1) anyHole = true;
      cwgt[j] += wt;
      for (let c = 0; c < ch; c++) cv[j * ch + c] += values[i * ch + c] * wt;
    }
  }
  if (!anyHole) return values;
  // Coarse level holds weighted sums: turn them into averages with weights clamped to 1.
  for (let j = 0; j < cwgt.length; j++) {
    if (cwgt[j] > 0) {
      for (let c = 0; c < ch; c++) cv[j * ch + c] /= cwgt[j];
      cwgt[j] = Math.min(1, cwgt[j]);
    }
  }
  const coarse = pushPull(cv, cwgt, cw, chh, ch);
  const out = new Float32Array(values.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const wt = weight[i];
      const j = (y >> 1) * cw + (x >> 1);
      for (let c = 0; c < ch; c++) out[i * ch + c] = wt * values[i * ch + c] + (1 - wt) * coarse[j * ch + c];
    }
  }
  return out;
}

function normalise(values: Float32Array, weight: Float32Array, ch: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < weight.length; i++) for (let c = 0; c < ch; c++) out[i * ch + c] = values[i * ch + c];
  return out;
}
