// The sampling loop of one keyframe pass (docs/METHOD.md §2; DDIM, or DPM++ 2M) with classifier-free guidance,
// the SDEdit start step (absolute indices: steps before s* are never run), and the hooks the cross-frame
// constraints plug into: before each step (pixel-aware fusion), the x̂₀ hook (colour, shape), tokens to
// inject, and what to record after each step.
import { SAMPLERS, SamplingRun, type SamplerKind } from '../../../native-models/src/scheduler';
import { CancelToken, UserError } from '../../../native-models/src/errors';
import type { DiffusionModels, NoiseRequest } from './diffusion-models';

export interface LatentShape { channels: number; height: number; width: number }

export interface PassHooks {
  /** Pixel-aware fusion: a new x_t (a new array) from x_t and the previous step's direction term d; x_t itself outside its window. */
  beforeStep?(step: number, sample: Float32Array, direction: Float32Array): Promise<Float32Array> | Float32Array;
  /** Cross-frame reference tokens for this step (undefined: plain self-attention). */
  reference?(step: number): Promise<Map<number, Float32Array> | undefined> | Map<number, Float32Array> | undefined;
  /** Whether to return this step's decoder self-attention tokens to `afterStep`. */
  record?(step: number): boolean;
  /** The x̂₀ hook: colour adjustment, then shape-aware fusion (a changed x̂₀ comes back as a new array). */
  adjustX0?(step: number, x0: Float32Array): Promise<Float32Array> | Float32Array;
  /** Called with the step's final x̂₀ and the tokens, when recorded (awaited before the next step). */
  afterStep?(step: number, x0: Float32Array, tokens: Float32Array[] | undefined): Promise<void> | void;
}

export interface Pass {
  /** DDIM unless said otherwise. */
  sampler?: SamplerKind;
  steps: number;
  /** s*: the first executed step index (0 = from pure noise). */
  startStep: number;
  cfg: number;
  context: Float32Array;
  control?: NoiseRequest['control'];
  /** The run's noise n (C·h·w), for SDEdit's q(z₀, t) and pixel fusion. */
  noise: Float32Array;
  /** x_{s*}: the starting latent. */
  start: Float32Array;
  /**
   * The direction term d entering the first step, when the pass resumes another one at a later step (its
   * x and d there); by default the noise part of x_{s*}.
   */
  direction?: Float32Array;
  latent: LatentShape;
  hooks?: PassHooks;
  cancel?: CancelToken;
  /** Called after each executed step. */
  onStep?(step: number): void;
}

/** The schedule of an S-step DDIM run (the method relies on DDIM's direction term). */
export function ddimRun(steps: number): SamplingRun {
  return new SamplingRun('ddim', steps);
}

/**
 * The run of the user's sampler setting. DDIM and DPM++ 2M are supported: the constraints act on x̂₀ and
 * on the update's direction term, which both define (see runPass); ancestral samplers add fresh noise at
 * every step, which the method's shared-noise assumption does not cover yet.
 */
export function samplingRun(sampler: string, steps: number): SamplingRun {
  if (!(SAMPLERS as readonly string[]).includes(sampler)) {
    throw new UserError(`the keyframe renderer does not support the "${sampler}" sampler yet; choose one of: ${SAMPLERS.join(', ')}`);
  }
  return new SamplingRun(sampler as SamplerKind, steps);
}

/**
 * SDEdit start: q(z₀, t_{s*}) = √ᾱ·z₀ + √(1−ᾱ)·n; pure noise when s* = 0 (or there is no frame latent);
 * z₀ itself when strength 0 leaves no step to run.
 */
export function startingLatent(run: SamplingRun, startStep: number, z0: Float32Array | undefined, noise: Float32Array): Float32Array {
  if (startStep === 0 || !z0) return noise.slice();
  if (startStep >= run.steps) return z0.slice();
  return run.addNoise(startStep, z0, noise);
}

/**
 * Runs steps s* … S−1 and returns the final latent (x after the last step).
 *
 * The x̂₀ hook replaces x̂₀ and keeps the model's ε, as DDIM does. DPM++ 2M works on data predictions, so
 * it is given the sample that agrees with both (√ᾱ·x̂₀ + √(1−ᾱ)·ε); its first-order step is then exactly
 * DDIM's. The direction term is what the update adds beyond the clean estimate, d = x_prev − √ᾱ_prev·x̂₀:
 * √(1−ᾱ_prev)·ε for DDIM, and that plus the solver's second-order correction for DPM++.
 */
export async function runPass(models: DiffusionModels, pass: Pass): Promise<Float32Array> {
  let run = new SamplingRun(pass.sampler ?? 'ddim', pass.steps);
  const { height, width } = pass.latent;
  let x: Float32Array = pass.start.slice();
  // Before the first executed step there is no previous update; the noise part of x_{s*} plays the
  // role of d there (x_{s*} = √ᾱ·z₀ + √(1−ᾱ)·n has the same form as √ᾱ·x̂₀ + d).
  let d: Float32Array = pass.direction?.slice() ?? Float32Array.from(pass.noise, (v) => Math.sqrt(1 - run.alphaAt(Math.min(pass.startStep, pass.steps - 1))) * v);
  for (let s = pass.startStep; s < pass.steps; s++) {
    pass.cancel?.throwIfCancelled();
    const hooks = pass.hooks ?? {};
    if (hooks.beforeStep) {
      const fused = await hooks.beforeStep(s, x, d);
      // A multistep solver extrapolates along its trajectory; fusion moved x off it, so DPM++ restarts
      // here with a first-order step, as a run starting at this step would.
      if (fused !== x && run.sampler !== 'ddim') run = new SamplingRun(run.sampler, pass.steps);
      x = fused;
    }
    const record = hooks.record?.(s) ?? false;
    const r = await models.predictNoise({
      sample: x, timestep: run.timesteps[s], context: pass.context, control: pass.control,
      reference: await hooks.reference?.(s), record,
    }, height, width);
    const eps = new Float32Array(x.length);
    for (let k = 0; k < eps.length; k++) eps[k] = r.uncond[k] + pass.cfg * (r.cond[k] - r.uncond[k]);
    const predicted = run.predictOriginal(s, x, eps);
    const x0 = hooks.adjustX0 ? await hooks.adjustX0(s, predicted) : predicted;
    await hooks.afterStep?.(s, x0, r.tokens);
    const a = Math.sqrt(run.alphaAfter(s));
    const next = new Float32Array(x.length);
    if (run.sampler === 'ddim') {
      d = run.direction(s, eps);
      for (let k = 0; k < next.length; k++) next[k] = a * x0[k] + d[k];
    } else {
      next.set(run.step(s, x0 === predicted ? x : run.addNoise(s, x0, eps), eps, x0).prevSample);
      d = Float32Array.from(next, (v, k) => v - a * x0[k]);
    }
    x = next;
    pass.onStep?.(s);
  }
  return x;
}
