// Colour preservation (docs/METHOD.md §2): the input frame takes the colours of a reference render (its a/b
// histograms in CIE Lab) while keeping its own luminance, before SDEdit starts from it.
import type { Image } from '../../../native-models/src/image';

const toLinear = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const toGamma = (v: number) => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
const WHITE = [0.95047, 1, 1.08883]; // D65
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
const fInv = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));

/** sRGB 8-bit → Lab planes (L, a, b), each width·height long. */
export function rgbToLab(img: Image): [Float32Array, Float32Array, Float32Array] {
  const n = img.width * img.height;
  const L = new Float32Array(n), A = new Float32Array(n), B = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = toLinear(img.data[i * img.channels] / 255), g = toLinear(img.data[i * img.channels + 1] / 255), b = toLinear(img.data[i * img.channels + 2] / 255);
    const x = f((0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / WHITE[0]);
    const y = f(0.2126729 * r + 0.7151522 * g + 0.072175 * b);
    const z = f((0.0193339 * r + 0.119192 * g + 0.9503041 * b) / WHITE[2]);
    L[i] = 116 * y - 16; A[i] = 500 * (x - y); B[i] = 200 * (y - z);
  }
  return [L, A, B];
}

export function labToRgb(L: Float32Array, A: Float32Array, B: Float32Array, width: number, height: number): Image {
  const n = width * height;
  const data = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    const fy = (L[i] + 16) / 116, fx = fy + A[i] / 500, fz = fy - B[i] / 200;
    const x = WHITE[0] * fInv(fx), y = fInv(fy), z = WHITE[2] * fInv(fz);
    const rgb = [3.2404542 * x - 1.5371385 * y - 0.4985314 * z, -0.969266 * x + 1.8760108 * y + 0.041556 * z, 0.0556434 * x - 0.2040259 * y + 1.0572252 * z];
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(toGamma(Math.max(0, rgb[c])) * 255)));
  }
  return { width, height, channels: 3, data };
}

/** Exact histogram matching: the k-th smallest source value becomes the reference's value at the same quantile. */
function matchHistogram(source: Float32Array, reference: Float32Array): Float32Array {
  const order = Array.from(source.keys()).sort((i, j) => source[i] - source[j]);
  const ref = Float32Array.from(reference).sort();
  const out = new Float32Array(source.length);
  for (let k = 0; k < order.length; k++) out[order[k]] = ref[Math.min(ref.length - 1, Math.floor(((k + 0.5) * ref.length) / order.length))];
  return out;
}

/** The frame with the reference's a/b colour distribution and its own lightness. */
export function preserveColours(frame: Image, reference: Image): Image {
  const [L, A, B] = rgbToLab(frame);
  const [, rA, rB] = rgbToLab(reference);
  return labToRgb(L, matchHistogram(A, rA), matchHistogram(B, rB), frame.width, frame.height);
}
