// Conversions between float32 and the 16-bit float formats weights are stored in (IEEE half, bfloat16).
// Used when reading F16/BF16 checkpoints and when writing fp16 graph initialisers for GPU providers.
import { NATIVE_MIN_ELEMENTS, weightKernels } from './native-kernels';

let halfTable: Float32Array | undefined;

/** Every one of the 65536 half values as float32: a table lookup beats bit twiddling per element in JS. */
function table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24; // zero and subnormals
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  halfTable = t;
  return t;
}

/** IEEE 754 half (as raw uint16 bits) to float32; exact. */
export function halfToFloat32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const native = bits.length >= NATIVE_MIN_ELEMENTS ? weightKernels() : undefined;
  if (native) { native.halfToFloatSync(bits, out); return out; }
  const t = table();
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
  return out;
}

/** bfloat16 (raw uint16 bits) to float32; exact: bfloat16 is the top half of a float32. */
export function bfloat16ToFloat32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 to half bits, round to nearest even, overflow to infinity, NaN kept NaN. */
export function float32ToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit leading one into the mantissa, then round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) { m = 0; e++; if (e >= 31) return sign | 0x7c00; }
  }
  return sign | (e << 10) | m;
}

/** float32 to IEEE half bits (round to nearest even). */
export function float32ToHalf(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  const native = values.length >= NATIVE_MIN_ELEMENTS ? weightKernels() : undefined;
  if (native) { native.floatToHalfSync(values, out); return out; }
  for (let i = 0; i < values.length; i++) out[i] = float32ToHalfBits(values[i]);
  return out;
}

/** float32 to bfloat16 bits (round to nearest even; NaN stays NaN). */
export function float32ToBFloat16(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = u[i];
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff)) { out[i] = (x >>> 16) | 0x40; continue; }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}
