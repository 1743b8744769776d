// Specification of the samplers: DDIM reproduces the fixture's diffusers DDIMScheduler values; DPM++ 2M
// and DDIM both solve a case with a known exact answer (Gaussian data) and get closer with more steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SamplingRun, alphasCumprod, inferenceTimesteps, sdeditStartStep, SD15_SCHEDULE, type ScheduleConfig, type SamplerKind } from '../../native-models/src/scheduler';
import { SafetensorsFile } from '../../native-models/src/weights/safetensors';
import { SD_TINY } from '../helpers/fixtures';

const fixtures = SD_TINY;
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
const ddimCase = manifest.cases.find((c: { kind: string }) => c.kind === 'scheduler_ddim');
const config: ScheduleConfig = { ...SD15_SCHEDULE, ...ddimCase.params.config };

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('given the fixture DDIM case, then alphas_cumprod, timesteps and every step match within tolerance', async () => {
  const file = await SafetensorsFile.open(path.join(fixtures, ddimCase.file));
  const outputs = ddimCase.outputs as Record<string, { tensor: string; tolerance: number }>;
  const expect = async (key: string, actual: ArrayLike<number>) => {
    const diff = maxAbsDiff(actual, await file.readFloat32(outputs[key].tensor));
    assert.ok(diff <= outputs[key].tolerance, `${key}: ${diff} > ${outputs[key].tolerance}`);
  };
  try {
    await expect('alphas_cumprod', alphasCumprod(config));
    for (const key of Object.keys(outputs).filter((k) => k.startsWith('timesteps_'))) {
      const n = Number(key.slice('timesteps_'.length));
      assert.deepEqual(inferenceTimesteps(n, config), [...await file.readBigInt64(outputs[key].tensor)].map(Number), key);
    }
    const steps: number = ddimCase.params.num_inference_steps;
    const run = new SamplingRun('ddim', steps, config);
    const stepTimesteps: number[] = ddimCase.params.step_timesteps;
    for (let k = 0; k < stepTimesteps.length; k++) {
      const i = run.timesteps.indexOf(stepTimesteps[k]);
      const r = run.step(i, await file.readFloat32(`sample.${k}`), await file.readFloat32(`model_output.${k}`));
      await expect(`prev_sample.${k}`, r.prevSample);
      await expect(`pred_original_sample.${k}`, r.predOriginalSample);
    }
    const last = run.timesteps.indexOf(ddimCase.params.last_timestep);
    assert.equal(last, steps - 1);
    const r = run.step(last, await file.readFloat32('sample.last'), await file.readFloat32('model_output.last'));
    await expect('prev_sample.last', r.prevSample);
    await expect('pred_original_sample.last', r.predOriginalSample);
  } finally {
    await file.close();
  }
});

test('given any step count, then timesteps are distinct, decreasing, within range, and 20 steps give 951…1', () => {
  for (const n of [1, 7, 20, 33, 50, 500, 999]) {
    const t = inferenceTimesteps(n, config);
    assert.equal(t.length, n);
    t.forEach((v, i) => { assert.ok(v >= 0 && v < 1000); if (i) assert.ok(v < t[i - 1]); });
  }
  const t20 = inferenceTimesteps(20, config);
  assert.equal(t20[0], 951);
  assert.equal(t20[19], 1);
  assert.throws(() => inferenceTimesteps(0, config), RangeError);
  assert.throws(() => inferenceTimesteps(1000, config), /do not fit/);
});

test('given a denoising strength, then SDEdit starts at S·(1−strength) without rounding surprises', () => {
  assert.equal(sdeditStartStep(20, 0.75), 5);
  assert.equal(sdeditStartStep(20, 0.9), 2);
  assert.equal(sdeditStartStep(20, 0.7), 6);
  assert.equal(sdeditStartStep(20, 1), 0);
  assert.equal(sdeditStartStep(20, 1.5), 0);
  assert.equal(sdeditStartStep(20, 0), 20);
  assert.equal(sdeditStartStep(25, 0.5), 13);
});

test('given z0 and noise, then addNoise is √ᾱ·z0 + √(1−ᾱ)·n at the step\'s timestep', () => {
  const run = new SamplingRun('ddim', 20, config);
  const a = alphasCumprod(config)[run.timesteps[5]];
  const out = run.addNoise(5, new Float32Array([1, 0]), new Float32Array([0, 1]));
  assert.ok(Math.abs(out[0] - Math.sqrt(a)) < 1e-6 && Math.abs(out[1] - Math.sqrt(1 - a)) < 1e-6);
});

/**
 * Data x0 ~ N(mu, s²) per element has an exact noise predictor, and the probability-flow ODE maps the
 * start sample's z-score at ᾱ_T to the same z-score at the final ᾱ: a known answer for any ODE sampler.
 */
function gaussianCase(sampler: SamplerKind, steps: number): number {
  const mu = 0.7;
  const s = 0.5;
  const run = new SamplingRun(sampler, steps, config);
  const start = new Float32Array([-2.5, -1, 0, 0.3, 1.7, 3]);
  let x: Float32Array = start;
  for (let i = 0; i < steps; i++) {
    const a = run.alphaAt(i);
    const v = a * s * s + 1 - a;
    const eps = Float32Array.from(x, (xt) => {
      const x0 = mu + (Math.sqrt(a) * s * s / v) * (xt - Math.sqrt(a) * mu);
      return (xt - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
    });
    x = run.step(i, x, eps).prevSample;
  }
  const aT = run.alphaAt(0);
  const aEnd = run.alphaAfter(steps - 1);
  const exact = Float32Array.from(start, (xT) => {
    const z = (xT - Math.sqrt(aT) * mu) / Math.sqrt(aT * s * s + 1 - aT);
    return Math.sqrt(aEnd) * mu + z * Math.sqrt(aEnd * s * s + 1 - aEnd);
  });
  return maxAbsDiff(x, exact);
}

for (const sampler of ['ddim', 'dpmpp-2m'] as SamplerKind[]) {
  test(`given Gaussian data with its exact noise predictor, then ${sampler} converges to the exact ODE solution`, () => {
    const errors = [10, 20, 50, 200].map((n) => gaussianCase(sampler, n));
    errors.slice(1).forEach((e, k) => assert.ok(e < errors[k], `errors should shrink with more steps: ${errors}`));
    assert.ok(errors[3] < 0.02, `${sampler} at 200 steps: ${errors[3]}`);
  });
}

test('given the same Gaussian case, then DPM++ 2M converges faster than DDIM (second order vs first)', () => {
  assert.ok(gaussianCase('dpmpp-2m', 50) < gaussianCase('ddim', 50));
  assert.ok(gaussianCase('dpmpp-2m', 200) < gaussianCase('ddim', 200) / 2);
});

test('given a run started at step s* (SDEdit), then step indices are absolute and DPM++ starts first-order', () => {
  const run = new SamplingRun('dpmpp-2m', 20, config);
  const x = new Float32Array([0.5]);
  const eps = new Float32Array([0.1]);
  const fromStart = run.step(5, x, eps).prevSample[0];
  const fresh = new SamplingRun('dpmpp-2m', 20, config).step(5, x, eps).prevSample[0];
  assert.equal(fromStart, fresh);
  assert.throws(() => run.step(20, x, eps), RangeError);
});
