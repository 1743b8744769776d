// How FRESCO splits a project's keyframes into batches rendered together (docs/METHOD.md §6), and the
// parameters each frame of a batch renders with. Rendering all: the first batch is the first `size`
// keyframes; every later batch starts with the first keyframe and the previous batch's last one (rendered
// again only to tie the batches together; their new images are discarded) and adds up to size − 2 new
// keyframes, so every batch stays within the memory one batch of `size` frames needs. Regenerating one
// keyframe: a batch of it with the first keyframe and the one before it.
import { UserError } from '../../../native-models/src/errors';
import { effectiveRenderParams } from '../project/keyframes';
import type { Keyframe, Project, RenderParams } from '../../../preload/project-schema';
import { listed } from '../../../preload/plural';

export interface FrescoBatchPlan {
  /** Indices into the ordered keyframe list, prefix first, in timeline order. */
  keyframes: number[];
  /** How many leading entries are prefix keyframes (0 for the first batch). */
  prefix: number;
}

export function planBatches(count: number, size: number): FrescoBatchPlan[] {
  if (!Number.isInteger(size) || size < 3) throw new UserError(`the FRESCO batch size must be a whole number of at least 3 (the first keyframe, the previous batch's last and one new keyframe), got ${size}`);
  const plans: FrescoBatchPlan[] = [];
  let next = Math.min(count, size);
  if (count > 0) plans.push({ keyframes: Array.from({ length: next }, (_, i) => i), prefix: 0 });
  while (next < count) {
    const last = next - 1;
    const prefix = last === 0 ? [0] : [0, last];
    const fresh = Array.from({ length: Math.min(size - prefix.length, count - next) }, (_, i) => next + i);
    plans.push({ keyframes: [...prefix, ...fresh], prefix: prefix.length });
    next += fresh.length;
  }
  return plans;
}

/** What every frame of one batch must share: the frames are denoised together, one timestep at a time. */
export function batchWideKey(p: RenderParams): string {
  return JSON.stringify([p.steps, p.sampler, p.strength, p.controlnet.type]);
}

/** One batch: indices into the ordered diffusion keyframes, and which of them get the batch's new images. */
export interface Batch { keyframes: number[]; keep: number[] }

/** Regenerating keyframe `index` alone: with the first keyframe and the one before it (or after, for the first). */
export function regenerateBatch(count: number, index: number): Batch {
  const partners = index === 0 ? (count > 1 ? [1] : []) : [...new Set([0, index - 1])];
  return { keyframes: [...partners, index].sort((a, b) => a - b), keep: [index] };
}

/**
 * Each frame's parameters for a batch. Prompts, seeds, guidance and ControlNet strength are the keyframe's
 * own (context keyframes take the seed of the first kept one); steps, sampler, strength and ControlNet type
 * are the batch's: those of its new keyframes when they agree, the project's otherwise (with a warning
 * naming the keyframes whose own values were not used).
 */
export function batchParams(project: Project, keys: Keyframe[], batch: Batch, warnings: string[]): RenderParams[] {
  const own = (i: number) => effectiveRenderParams(project.render, keys[i].overrides);
  const kept = batch.keep.map(own);
  const agree = kept.every((p) => batchWideKey(p) === batchWideKey(kept[0]));
  const wide = agree ? kept[0] : project.render;
  if (!agree) {
    const differing = batch.keep.filter((i) => batchWideKey(own(i)) !== batchWideKey(wide)).map((i) => keys[i].frame);
    warnings.push(`${differing.length === 1 ? 'the keyframe at frame' : 'keyframes at frames'} ${listed(differing)}: ${differing.length === 1 ? 'its' : 'their'} own steps, sampler, strength or ControlNet type differ from the rest of ${differing.length === 1 ? 'its' : 'their'} FRESCO batch, so the project's were used (regenerate a keyframe alone to use its own)`);
  }
  // Keyframes there only as context (their images are discarded) share the noise of the first kept one:
  // FRESCO ties frames together through shared noise, so a keyframe regenerated with a new seed is
  // rendered against context made with that seed too.
  const seed = kept[0].seed;
  return batch.keyframes.map((i) => {
    const p = own(i);
    return {
      ...p, seed: batch.keep.includes(i) ? p.seed : seed,
      steps: wide.steps, sampler: wide.sampler, strength: wide.strength, controlnet: { ...p.controlnet, type: wide.controlnet.type },
    };
  });
}
