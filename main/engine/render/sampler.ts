// The DDIM sampling loop of one keyframe pass (ALGORITHM.md §2) with classifier-free guidance, the SDEdit
// start step (absolute indices: steps before s* are never run), and the hooks the cross-frame constraints
// plug into: before each step (pixel-aware fusion), the x̂₀ hook (colour, shape), tokens to inject, and
// what to record after each step.
import { SamplingRun } from '../../../native-models/src/scheduler';
import { CancelToken, UserError } from '../errors';
import type { DiffusionModels, NoiseRequest } from './diffusion-models';

export interface LatentShape { channels: number; height: number; width: number }

export interface PassHooks {
  /** Pixel-aware fusion: a new x_t from x_t and the previous step's direction term d. */
  beforeStep?(step: number, sample: Float32Array, direction: Float32Array): Promise<Float32Array> | Float32Array;
  /** Cross-frame reference tokens for this step (undefined: plain self-attention). */
  reference?(step: number): Promise<Map<number, Float32Array> | undefined> | Map<number, Float32Array> | undefined;
  /** Whether to return this step's decoder self-attention tokens to `afterStep`. */
  record?(step: number): boolean;
  /** The x̂₀ hook: colour adjustment, then shape-aware fusion. */
  adjustX0?(step: number, x0: Float32Array): Promise<Float32Array> | Float32Array;
  /** Called with the step's final x̂₀ and the tokens, when recorded (awaited before the next step). */
  afterStep?(step: number, x0: Float32Array, tokens: Float32Array[] | undefined): Promise<void> | void;
}

export interface Pass {
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

/** Checks the sampler setting: the constraints are defined on DDIM steps (§2, §3.3). */
export function requireDdim(sampler: string): void {
  if (sampler !== 'ddim') throw new UserError(`the keyframe renderer samples with DDIM (the cross-frame constraints are defined on its steps); set the sampler to "ddim" instead of "${sampler}"`);
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

/** Runs steps s* … S−1 and returns the final latent (x after the last step). */
export async function runPass(models: DiffusionModels, pass: Pass): Promise<Float32Array> {
  const run = ddimRun(pass.steps);
  const { height, width } = pass.latent;
  let x: Float32Array = pass.start.slice();
  // Before the first executed step there is no previous DDIM update; the noise part of x_{s*} plays the
  // role of d there (x_{s*} = √ᾱ·z₀ + √(1−ᾱ)·n has the same form as √ᾱ·x̂₀ + d).
  let d: Float32Array = Float32Array.from(pass.noise, (v) => Math.sqrt(1 - run.alphaAt(Math.min(pass.startStep, pass.steps - 1))) * v);
  for (let s = pass.startStep; s < pass.steps; s++) {
    pass.cancel?.throwIfCancelled();
    const hooks = pass.hooks ?? {};
    if (hooks.beforeStep) x = await hooks.beforeStep(s, x, d);
    const record = hooks.record?.(s) ?? false;
    const r = await models.predictNoise({
      sample: x, timestep: run.timesteps[s], context: pass.context, control: pass.control,
      reference: await hooks.reference?.(s), record,
    }, height, width);
    const eps = new Float32Array(x.length);
    for (let k = 0; k < eps.length; k++) eps[k] = r.uncond[k] + pass.cfg * (r.cond[k] - r.uncond[k]);
    let x0 = run.predictOriginal(s, x, eps);
    if (hooks.adjustX0) x0 = await hooks.adjustX0(s, x0);
    await hooks.afterStep?.(s, x0, r.tokens);
    d = run.direction(s, eps);
    const a = Math.sqrt(run.alphaAfter(s));
    const next = new Float32Array(x.length);
    for (let k = 0; k < next.length; k++) next[k] = a * x0[k] + d[k];
    x = next;
    pass.onStep?.(s);
  }
  return x;
}
