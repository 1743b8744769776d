// The DDIM scheduler case of the conformance format: ᾱ table, timesteps for several step counts, and
// single steps (prev_sample, pred_original_sample) at given timesteps, through native-models/scheduler.
import { alphasCumprod, inferenceTimesteps, SamplingRun, SD15_SCHEDULE, type ScheduleConfig } from '../scheduler';
import type { CaseContext } from './case-context';

export async function runSchedulerCase(ctx: CaseContext): Promise<void> {
  const params = ctx.spec.params ?? {};
  const config: ScheduleConfig = { ...SD15_SCHEDULE, ...(params.config as Partial<ScheduleConfig> | undefined) };
  const steps = Number(params.num_inference_steps ?? 20);
  const stepTimesteps = (params.step_timesteps as number[] | undefined) ?? [];
  const run = new SamplingRun('ddim', steps, config);

  for (const name of Object.keys(ctx.spec.outputs)) {
    if (name === 'alphas_cumprod') await ctx.compare(name, alphasCumprod(config));
    const counted = /^timesteps_(\d+)$/.exec(name);
    if (counted) await ctx.compare(name, inferenceTimesteps(Number(counted[1]), config));
  }
  // Single steps: output prev_sample.<k> (and pred_original_sample.<k>) from inputs sample.<k>, model_output.<k>.
  for (const name of Object.keys(ctx.spec.outputs)) {
    const m = /^prev_sample\.(.+)$/.exec(name);
    if (!m) continue;
    const k = m[1];
    const t = k === 'last' ? Number(params.last_timestep) : stepTimesteps[Number(k)];
    const index = run.timesteps.indexOf(t);
    if (index < 0) throw new Error(`timestep ${t} (step ${k}) is not in the ${steps}-step schedule`);
    const sample = (await ctx.input(`sample.${k}`)).data as Float32Array;
    const eps = (await ctx.input(`model_output.${k}`)).data as Float32Array;
    const result = run.step(index, sample, eps);
    await ctx.compare(name, result.prevSample);
    if (`pred_original_sample.${k}` in ctx.spec.outputs) await ctx.compare(`pred_original_sample.${k}`, result.predOriginalSample);
  }
}
