// How FRESCO splits a project's keyframes into batches rendered together (ALGORITHM.md §6): the first batch
// is the first `size` keyframes; every later batch starts with the first keyframe and the previous batch's
// last one (rendered again only to tie the batches together; their new images are discarded) and adds up
// to size − 2 new keyframes, so every batch stays within the memory one batch of `size` frames needs.
import { UserError } from '../errors';

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
