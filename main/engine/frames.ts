// Frame and time math in one place: working resolution (docs/METHOD.md §1), frame ↔ time, fps.
import type { Crop, Rational } from '../../preload/project-schema';
import { UserError } from '../../native-models/src/errors';

export interface WorkingSizeRequest {
  mode: 'short-side' | 'long-side';
  /** Target length of the chosen side (default 512) before rounding. */
  size: number;
  crop: Crop | null;
}

export const DEFAULT_WORKING_SIZE = 512;
/** The UNet needs latent sides divisible by 8, so image sides are multiples of 64. */
export const SIDE_MULTIPLE = 64;

/** Source size after the crop, in display orientation (rotation already applied). */
export function croppedSize(width: number, height: number, crop: Crop | null): { width: number; height: number } {
  if (!crop) return { width, height };
  const w = width - crop.left - crop.right;
  const h = height - crop.top - crop.bottom;
  if (w < 16 || h < 16) throw new UserError(`the crop ${crop.left},${crop.right},${crop.top},${crop.bottom} leaves ${w}×${h} pixels of a ${width}×${height} video; leave at least 16×16`);
  return { width: w, height: h };
}

/**
 * Scales so the chosen side equals `size`, then rounds each side to the nearest multiple of 64
 * (never below 64). The aspect ratio changes by at most half a 64-pixel step per side; decoding
 * scales to cover that size and centre-crops the remainder, so nothing is stretched.
 */
export function workingSize(sourceWidth: number, sourceHeight: number, req: WorkingSizeRequest): { width: number; height: number } {
  if (!Number.isInteger(req.size) || req.size < SIDE_MULTIPLE || req.size > 8192) throw new UserError(`the working size must be a whole number from ${SIDE_MULTIPLE} to 8192, got ${req.size}`);
  const { width, height } = croppedSize(sourceWidth, sourceHeight, req.crop);
  const side = req.mode === 'short-side' ? Math.min(width, height) : Math.max(width, height);
  const scale = req.size / side;
  const round = (v: number) => Math.max(SIDE_MULTIPLE, Math.round((v * scale) / SIDE_MULTIPLE) * SIDE_MULTIPLE);
  return { width: round(width), height: round(height) };
}

export function fpsValue(fps: Rational): number {
  return fps.num / fps.den;
}

/** Parses "30000/1001", "25", "29.97" into a rational; undefined for "0/0" and junk. */
export function parseRational(text: string | undefined): Rational | undefined {
  if (!text) return undefined;
  const m = /^\s*(\d+)(?:\/(\d+))?\s*$/.exec(text);
  if (m) {
    const num = Number(m[1]);
    const den = m[2] === undefined ? 1 : Number(m[2]);
    if (num > 0 && den > 0) return reduce({ num, den });
    return undefined;
  }
  const v = Number(text);
  if (Number.isFinite(v) && v > 0) return reduce({ num: Math.round(v * 1000), den: 1000 });
  return undefined;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export function reduce(r: Rational): Rational {
  const g = gcd(r.num, r.den) || 1;
  return { num: r.num / g, den: r.den / g };
}

export function formatRational(r: Rational): string {
  return r.den === 1 ? String(r.num) : `${r.num}/${r.den}`;
}

/** Timecode "m:ss.ff" for display. */
export function timecode(index: number, fps: Rational): string {
  const f = fpsValue(fps);
  const seconds = Math.floor(index / f);
  const rest = index - Math.round(seconds * f);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}.${String(Math.max(0, rest)).padStart(2, '0')}`;
}

/** The NTSC rate (24000/1001, 30000/1001, 60000/1001, …) within 0.01 fps of `fps`, if there is one. */
export function ntscRate(fps: number): Rational | undefined {
  for (const base of [24, 30, 48, 60, 120]) if (Math.abs(fps - (base * 1000) / 1001) < 0.01) return { num: base * 1000, den: 1001 };
  return undefined;
}

/** Frame rates a stated rate may have (an image sequence's): from a time-lapse to high-speed footage. */
export const MIN_STATED_FPS = 1;
export const MAX_STATED_FPS = 240;

/**
 * A frame rate the user states ("24", "25", "23.976", "29.97", "24000/1001"): decimals near an NTSC rate
 * are that rate exactly, as editors read them; anything outside 1–240 fps is refused.
 */
export function parseFrameRate(text: string, what = 'the frame rate'): Rational {
  const t = text.trim();
  const r = /^\d+(\.\d+)?$|^\d+\/\d+$/.test(t) ? parseRational(t) : undefined;
  if (!r) throw new UserError(`${what} must be a number of frames per second such as 24, 29.97 or 30000/1001, got "${text}"`);
  const v = fpsValue(r);
  if (v < MIN_STATED_FPS || v > MAX_STATED_FPS) throw new UserError(`${what} must be from ${MIN_STATED_FPS} to ${MAX_STATED_FPS} frames per second, got "${text}"`);
  return t.includes('/') ? r : ntscRate(v) ?? reduce({ num: Math.round(v * 1000), den: 1000 });
}

/** Frame numbers as runs for messages ("3, 7-9, 12"); long lists are cut after eight runs. */
export function describeRuns(numbers: number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j] + 1) j++;
    runs.push(i === j ? `${numbers[i]}` : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return runs.length > 8 ? `${runs.slice(0, 8).join(', ')} and ${runs.length - 8} more runs` : runs.join(', ');
}
