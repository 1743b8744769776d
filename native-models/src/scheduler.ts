// Diffusion samplers on SD1.5's noise schedule: DDIM (eta 0, as diffusers' DDIMScheduler) and DPM++ 2M,
// plus the SDEdit start step and forward noising q(z0, t). Arithmetic in float64, results in float32.

/** diffusers scheduler_config.json fields that matter here. */
export interface ScheduleConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: 'scaled_linear' | 'linear';
  set_alpha_to_one: boolean;
  steps_offset: number;
  prediction_type: 'epsilon';
  timestep_spacing: 'leading' | 'trailing';
}

export const SD15_SCHEDULE: ScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  set_alpha_to_one: false,
  steps_offset: 1,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
};

export type SamplerKind = 'ddim' | 'dpmpp-2m';
export const SAMPLERS: readonly SamplerKind[] = ['ddim', 'dpmpp-2m'];

/** ᾱ_t for every training timestep, rounded to float32 as diffusers stores it. */
export function alphasCumprod(config: ScheduleConfig = SD15_SCHEDULE): Float32Array {
  const n = config.num_train_timesteps;
  const out = new Float32Array(n);
  let prod = 1;
  for (let i = 0; i < n; i++) {
    const f = n === 1 ? 0 : i / (n - 1);
    const beta = config.beta_schedule === 'scaled_linear'
      ? (Math.sqrt(config.beta_start) + f * (Math.sqrt(config.beta_end) - Math.sqrt(config.beta_start))) ** 2
      : config.beta_start + f * (config.beta_end - config.beta_start);
    prod *= 1 - beta;
    out[i] = prod;
  }
  return out;
}

/** Model timesteps of an S-step run, from noisiest to cleanest (SD1.5, S = 20: 951, 901, …, 1). */
export function inferenceTimesteps(steps: number, config: ScheduleConfig = SD15_SCHEDULE): number[] {
  const n = config.num_train_timesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > n) throw new RangeError(`step count must be a whole number from 1 to ${n}, got ${steps}`);
  const out: number[] = [];
  if (config.timestep_spacing === 'trailing') {
    for (let i = 0; i < steps; i++) out.push(Math.round(n - (i * n) / steps) - 1);
  } else {
    const ratio = Math.floor(n / steps);
    // With the offset, the noisiest timestep of a very fine run would fall off the schedule.
    if ((steps - 1) * ratio + config.steps_offset >= n) throw new RangeError(`${steps} steps with steps_offset ${config.steps_offset} do not fit ${n} training timesteps`);
    for (let i = steps - 1; i >= 0; i--) out.push(i * ratio + config.steps_offset);
  }
  return out;
}

/**
 * First step index an SDEdit run executes for a denoising strength in [0, 1] (s* = S·(1 − strength),
 * computed as diffusers does, S − floor(S·strength), so 0.9 × 20 gives 2 and not 1 by rounding).
 * Step indices stay absolute: a run starting at s* executes indices s*..S−1 of the full schedule.
 */
export function sdeditStartStep(steps: number, strength: number): number {
  if (strength >= 1) return 0;
  if (strength <= 0) return steps;
  return steps - Math.min(steps, Math.floor(steps * strength + 1e-9));
}

export interface StepResult {
  prevSample: Float32Array;
  predOriginalSample: Float32Array;
}

/** One sampling run of S steps; step indices are absolute positions in that S-step schedule. */
export class SamplingRun {
  readonly timesteps: number[];
  private readonly alphas: Float32Array;
  private readonly finalAlpha: number;
  private history?: { index: number; predOriginal: Float32Array };

  constructor(readonly sampler: SamplerKind, readonly steps: number, readonly config: ScheduleConfig = SD15_SCHEDULE) {
    if (!SAMPLERS.includes(sampler)) throw new RangeError(`unknown sampler "${sampler}" (known: ${SAMPLERS.join(', ')})`);
    this.timesteps = inferenceTimesteps(steps, config);
    this.alphas = alphasCumprod(config);
    this.finalAlpha = config.set_alpha_to_one ? 1 : this.alphas[0];
  }

  /** ᾱ at step index i (the model's timestep there). */
  alphaAt(i: number): number { return this.alphas[this.timesteps[i]]; }

  /** ᾱ the step from index i lands on: the next timestep's, or ᾱ(0) (or 1) after the last. */
  alphaAfter(i: number): number {
    if (i + 1 < this.steps) return this.alphas[this.timesteps[i + 1]];
    // DDIM's "previous timestep" t − 1000/S is negative here: diffusers uses the final ᾱ.
    return this.finalAlpha;
  }

  /** x̂₀ = (x_t − √(1−ᾱ_t)·ε) / √ᾱ_t at step index i. */
  predictOriginal(i: number, sample: Float32Array, eps: Float32Array): Float32Array {
    const a = this.alphaAt(i);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const out = new Float32Array(sample.length);
    for (let k = 0; k < out.length; k++) out[k] = (sample[k] - sb * eps[k]) / sa;
    return out;
  }

  /**
   * Advances from step index i. `predOriginal` lets a caller replace x̂₀ (the fusion hooks) before the
   * update; DDIM keeps the model's ε for the direction term d = √(1−ᾱ_prev)·ε, as the method requires.
   */
  step(i: number, sample: Float32Array, eps: Float32Array, predOriginal?: Float32Array): StepResult {
    if (!Number.isInteger(i) || i < 0 || i >= this.steps) throw new RangeError(`step index ${i} is outside 0..${this.steps - 1}`);
    const x0 = predOriginal ?? this.predictOriginal(i, sample, eps);
    const prev = new Float32Array(sample.length);
    const aPrev = this.alphaAfter(i);
    if (this.sampler === 'ddim') {
      const sa = Math.sqrt(aPrev);
      const sd = Math.sqrt(1 - aPrev);
      for (let k = 0; k < prev.length; k++) prev[k] = sa * x0[k] + sd * eps[k];
    } else {
      this.dpmSolverStep(i, sample, x0, prev);
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }

  /** The direction term d = √(1−ᾱ_prev)·ε of a DDIM step (kept for pixel-aware fusion). */
  direction(i: number, eps: Float32Array): Float32Array {
    const sd = Math.sqrt(1 - this.alphaAfter(i));
    return Float32Array.from(eps, (e) => sd * e);
  }

  /**
   * DPM-Solver++(2M): exponential integrator in λ = log(α/σ) on data predictions; second order from the
   * previous step's x̂₀ when the run did execute the step before (first order at the start of a run).
   */
  private dpmSolverStep(i: number, sample: Float32Array, x0: Float32Array, out: Float32Array): void {
    const lambda = (a: number) => 0.5 * Math.log(a / (1 - a));
    const aT = this.alphaAt(i);
    const aS = this.alphaAfter(i);
    const h = lambda(aS) - lambda(aT);
    const ratio = Math.sqrt((1 - aS) / (1 - aT));
    const coef = Math.sqrt(aS) * -Math.expm1(-h); // α_s (1 − e^{−h})
    const last = this.history;
    if (last && last.index === i - 1) {
      const hPrev = lambda(aT) - lambda(this.alphaAt(i - 1));
      const r = hPrev / h;
      const c1 = 1 + 1 / (2 * r);
      const c2 = 1 / (2 * r);
      for (let k = 0; k < out.length; k++) out[k] = ratio * sample[k] + coef * (c1 * x0[k] - c2 * last.predOriginal[k]);
    } else {
      for (let k = 0; k < out.length; k++) out[k] = ratio * sample[k] + coef * x0[k];
    }
    this.history = { index: i, predOriginal: x0.slice() }; // the caller may reuse its array
  }

  /** q(z₀, t) = √ᾱ_t·z₀ + √(1−ᾱ_t)·n at step index i: the SDEdit starting latent. */
  addNoise(i: number, z0: Float32Array, noise: Float32Array): Float32Array {
    const a = this.alphaAt(i);
    const sa = Math.sqrt(a);
    const sb = Math.sqrt(1 - a);
    const out = new Float32Array(z0.length);
    for (let k = 0; k < out.length; k++) out[k] = sa * z0[k] + sb * noise[k];
    return out;
  }
}
