// The addon's weight kernels (fp16 conversion, LoRA low-rank update) when the built addon has them;
// callers fall back to their TypeScript loops otherwise, so weights load even without a native build.
import { loadAddon } from '../addon';

export interface WeightKernels {
  halfToFloatSync(bits: Uint16Array, out: Float32Array): void;
  floatToHalfSync(values: Float32Array, out: Uint16Array): void;
  /** weight[rows*cols] += scale * up[rows*rank] @ down[rank*cols], summed in double, rounded once. */
  mergeLowRankSync(weight: Float32Array, up: Float32Array, down: Float32Array, rank: number, scale: number): void;
}

let cached: WeightKernels | null | undefined;

/** Below this many elements the call overhead outweighs the native speed-up. */
export const NATIVE_MIN_ELEMENTS = 1 << 15;

export function weightKernels(): WeightKernels | undefined {
  if (cached === undefined) {
    if (process.env.RERENDER_NO_NATIVE_WEIGHTS) {
      cached = null;
    } else {
      try {
        const addon = loadAddon<Partial<WeightKernels>>();
        cached = typeof addon.mergeLowRankSync === 'function' && typeof addon.halfToFloatSync === 'function' && typeof addon.floatToHalfSync === 'function'
          ? (addon as WeightKernels) : null;
      } catch {
        cached = null;
      }
    }
  }
  return cached ?? undefined;
}
