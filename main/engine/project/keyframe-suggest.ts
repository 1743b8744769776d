// Automatic keyframe suggestion: uniform every K frames, or content-adaptive (docs/METHOD.md §1, from FRESCO):
// keys at peaks of the blurred frame difference, with a minimum and a maximum gap.
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';

export function uniformKeyframes(frameCount: number, every: number): number[] {
  if (!Number.isInteger(every) || every < 1) throw new UserError(`--every expects a whole number ≥ 1, got ${every}`);
  const frames: number[] = [];
  for (let f = 0; f < frameCount; f += every) frames.push(f);
  return frames;
}

/**
 * Picks keyframes from per-transition differences (diffs[i] is the change from frame i to i+1).
 * Greedy from frame 0: in the window [last+min, last+max] the next key goes just after the largest
 * change; a quiet window (peak below half the clip's mean change) takes the full max gap instead.
 * The tail after the last key (at most max frames) gets another key only for a strong change.
 */
export function adaptiveKeyframes(diffs: number[], minGap: number, maxGap: number): number[] {
  if (!Number.isInteger(minGap) || !Number.isInteger(maxGap) || minGap < 1 || maxGap < minGap) {
    throw new UserError(`need whole numbers 1 ≤ --min ≤ --max, got --min ${minGap} --max ${maxGap}`);
  }
  const frameCount = diffs.length + 1;
  const keys = [0];
  const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(1, diffs.length);
  let last = 0;
  while (last + minGap < frameCount) {
    const hi = Math.min(frameCount - 1, last + maxGap);
    let best = -1;
    let bestDiff = -Infinity;
    for (let f = last + minGap; f <= hi; f++) {
      const d = diffs[f - 1];
      if (d > bestDiff) { bestDiff = d; best = f; }
    }
    // A quiet stretch: no cut is needed before the max gap unless the clip ends first.
    if (bestDiff < 0.5 * mean && hi === last + maxGap) best = hi;
    if (hi === frameCount - 1 && frameCount - 1 - last <= maxGap && bestDiff < 2 * mean) break;
    keys.push(best);
    last = best;
  }
  return keys;
}

/** Mean squared difference of consecutive blurred, grey thumbnails (values in 0..1). */
export async function frameDifferences(imagesDir: string, frameCount: number, opts: { cancel?: CancelToken; onProgress?: ProgressFn } = {}): Promise<number[]> {
  const files = (await fsp.readdir(imagesDir).catch(() => { throw new UserError('the frame cache is missing; open the project again to rebuild it', imagesDir); }))
    .filter((f) => /^\d+\.(png|jpg)$/.test(f)).sort();
  if (files.length < Math.min(frameCount, 2)) throw new UserError(`the frame cache has ${files.length} of ${frameCount} frames; rebuild it`, imagesDir);
  const size = 48;
  const load = async (f: string) => {
    const { data } = await sharp(path.join(imagesDir, f)).greyscale().resize(size, size, { fit: 'fill' }).blur(1.5).raw().toBuffer({ resolveWithObject: true });
    return data;
  };
  const diffs: number[] = [];
  let prev = await load(files[0]);
  for (let i = 1; i < files.length; i++) {
    opts.cancel?.throwIfCancelled();
    const cur = await load(files[i]);
    let sum = 0;
    for (let j = 0; j < cur.length; j++) { const d = (cur[j] - prev[j]) / 255; sum += d * d; }
    diffs.push(sum / cur.length);
    prev = cur;
    if (i % 50 === 0) opts.onProgress?.(i / files.length, `comparing frames ${i} of ${files.length}`);
  }
  return diffs;
}
