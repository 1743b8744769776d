// Storing per-frame propagation intermediates (chain results, error maps, advected positions, patch
// matches, what the keyframe does not show) on disk, each written atomically so an interrupted run can resume where it stopped.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FloatImage, Image } from '../../../native-models/src/image';
import { OFFSET_STEPS, type MatchField } from '../../../native-models/src/synthesis';
import { writeFileAtomic } from '../fs/atomic';
import { frameFileName } from '../project/paths';

/**
 * One chain step in one raw file: a 20-byte header (magic, width, height, image channels, 0), then the
 * image bytes, the error map (float32), the positions (two float32), the patch matches (two int32
 * per pixel), the uncovered mask (one byte: 255 where the keyframe does not show the pixel) and the
 * matches' sub-pixel offsets (two int8 per pixel, in 1/OFFSET_STEPS px), all little-endian. Scratch:
 * rebuilt when missing or damaged, removed with its segment.
 */
const STEP_MAGIC = 0x34535252; // "RRS4" (RRS1 had no uncovered mask, RRS2 no offsets, RRS3 images of the plain final vote: recomputed)
const STEP_HEADER = 20;

export interface ChainStep {
  image: Image;
  error: FloatImage;
  positions: FloatImage;
  matches: MatchField;
  /** 255 where the pixel was hidden in some frame between the keyframe and this one (disoccluded), else 0. */
  uncovered: Image;
}

export function encodeChainStep(step: ChainStep): Uint8Array {
  const { image, error, positions, matches, uncovered } = step;
  const { width, height } = image;
  const n = width * height;
  for (const [what, m, channels] of [['error map', error, 1], ['positions', positions, 2], ['matches', matches, 2], ['uncovered mask', uncovered, 1]] as const) {
    if (m.width !== width || m.height !== height || m.data.length !== n * channels) throw new RangeError(`chain step: ${what} is ${m.width}×${m.height} with ${m.data.length} values, the image ${width}×${height}`);
  }
  if (image.data.length !== n * image.channels) throw new RangeError(`chain step: image has ${image.data.length} bytes for ${width}×${height}×${image.channels}`);
  const offsets = new Int8Array(n * 2);
  if (matches.offsets) {
    if (matches.offsets.length !== n * 2) throw new RangeError(`chain step: match offsets have ${matches.offsets.length} values for ${width}×${height}`);
    for (let i = 0; i < n * 2; i++) offsets[i] = Math.round(matches.offsets[i] * OFFSET_STEPS);
  }
  const parts = [image.data, error.data, positions.data, matches.data, uncovered.data, offsets].map((a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  const out = new Uint8Array(STEP_HEADER + parts.reduce((k, a) => k + a.length, 0));
  out.set(new Uint8Array(new Uint32Array([STEP_MAGIC, width, height, image.channels, 0]).buffer), 0);
  let at = STEP_HEADER;
  for (const a of parts) { out.set(a, at); at += a.length; }
  return out;
}

/** Undefined for bytes that are not a whole step (damaged or cut short: the caller recomputes). */
export function decodeChainStep(buf: Uint8Array): ChainStep | undefined {
  if (buf.length < STEP_HEADER) return undefined;
  const [magic, width, height, channels] = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + STEP_HEADER));
  if (magic !== STEP_MAGIC || channels < 1 || channels > 4) return undefined;
  const n = width * height;
  if (buf.length !== STEP_HEADER + n * (channels + 4 + 8 + 8 + 1 + 2)) return undefined;
  let at = buf.byteOffset + STEP_HEADER;
  const take = (bytes: number) => { const b = buf.buffer.slice(at, at + bytes); at += bytes; return b; };
  const image: Image = { width, height, channels, data: new Uint8Array(take(n * channels)) };
  const error: FloatImage = { width, height, channels: 1, data: new Float32Array(take(n * 4)) };
  const positions: FloatImage = { width, height, channels: 2, data: new Float32Array(take(n * 8)) };
  const matches: MatchField = { width, height, data: new Int32Array(take(n * 8)) };
  const uncovered: Image = { width, height, channels: 1, data: new Uint8Array(take(n)) };
  const steps = new Int8Array(take(n * 2));
  if (steps.some((v) => v !== 0)) matches.offsets = Float32Array.from(steps, (v) => v / OFFSET_STEPS);
  return { image, error, positions, matches, uncovered };
}

/** A folder of results for one propagation direction of one segment. */
export class ChainStore {
  constructor(readonly dir: string) {}
  stepPath(frame: number): string { return path.join(this.dir, frameFileName(frame, 'step')); }
  async ensure(): Promise<void> { await fsp.mkdir(this.dir, { recursive: true }); }

  /**
   * A frame is finished once its step file exists. The matches are kept because the next frame's
   * synthesis starts from them: a resumed chain must continue from exactly what an uninterrupted one
   * had in memory, or its frames differ.
   */
  has(frame: number): boolean {
    return fs.existsSync(this.stepPath(frame));
  }

  /**
   * Raw and without fsync: the step is rebuildable, the rename keeps a killed run from leaving half a
   * file, and a file a power cut left short fails its length check and is recomputed.
   */
  async save(frame: number, step: ChainStep): Promise<void> {
    await writeFileAtomic(this.stepPath(frame), encodeChainStep(step), { durable: false });
  }

  async load(frame: number): Promise<ChainStep | undefined> {
    let buf: Buffer;
    try { buf = await fsp.readFile(this.stepPath(frame)); } catch { return undefined; }
    return decodeChainStep(buf);
  }
}
