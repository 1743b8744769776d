// Reading frames and storing per-frame propagation intermediates (chain results, error maps, advected
// positions) on disk, each written atomically so an interrupted run can resume where it stopped.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FloatImage, Image } from '../../../native-models/src/image';
import type { MatchField } from '../../../native-models/src/synthesis';
import { readRgb, writePng } from '../media/image-files';
import { writeFileAtomic } from '../fs/atomic';
import { frameFileName } from '../project/paths';

/** Raw float maps: a 16-byte header (magic, width, height, channels) and little-endian float32 data. */
const MAGIC = 0x52524631; // "RRF1"

export async function writeFloatMap(file: string, map: FloatImage): Promise<void> {
  const header = new Uint32Array([MAGIC, map.width, map.height, map.channels]);
  const body = new Uint8Array(map.data.buffer, map.data.byteOffset, map.data.byteLength);
  const buf = new Uint8Array(16 + body.length);
  buf.set(new Uint8Array(header.buffer), 0);
  buf.set(body, 16);
  await writeFileAtomic(file, buf);
}

export async function readFloatMap(file: string): Promise<FloatImage | undefined> {
  let buf: Buffer;
  try { buf = await fsp.readFile(file); } catch { return undefined; }
  if (buf.length < 16) return undefined;
  const header = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 16));
  const [magic, width, height, channels] = header;
  if (magic !== MAGIC || buf.length !== 16 + width * height * channels * 4) return undefined; // damaged: recompute
  const data = new Float32Array(width * height * channels);
  new Uint8Array(data.buffer).set(buf.subarray(16));
  return { width, height, channels, data };
}

/** Match fields: a 16-byte header (magic, width, height, 2) and little-endian int32 (x, y) pairs. */
const MATCH_MAGIC = 0x52524d31; // "RRM1"

export async function writeMatchField(file: string, m: MatchField): Promise<void> {
  const buf = new Uint8Array(16 + m.data.byteLength);
  buf.set(new Uint8Array(new Uint32Array([MATCH_MAGIC, m.width, m.height, 2]).buffer), 0);
  buf.set(new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength), 16);
  await writeFileAtomic(file, buf);
}

export async function readMatchField(file: string): Promise<MatchField | undefined> {
  let buf: Buffer;
  try { buf = await fsp.readFile(file); } catch { return undefined; }
  if (buf.length < 16) return undefined;
  const [magic, width, height, channels] = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + 16));
  if (magic !== MATCH_MAGIC || channels !== 2 || buf.length !== 16 + width * height * 8) return undefined; // damaged: recompute
  const data = new Int32Array(width * height * 2);
  new Uint8Array(data.buffer).set(buf.subarray(16));
  return { width, height, data };
}

/** A folder of results for one propagation direction of one segment. */
export class ChainStore {
  constructor(readonly dir: string) {}
  imagePath(frame: number): string { return path.join(this.dir, frameFileName(frame)); }
  errorPath(frame: number): string { return path.join(this.dir, frameFileName(frame, 'err')); }
  positionsPath(frame: number): string { return path.join(this.dir, frameFileName(frame, 'pos')); }
  matchesPath(frame: number): string { return path.join(this.dir, frameFileName(frame, 'nnf')); }
  async ensure(): Promise<void> { await fsp.mkdir(this.dir, { recursive: true }); }

  /**
   * A frame is finished once all four files exist (the positions file is written last). The matches
   * are kept because the next frame's synthesis starts from them: a resumed chain must continue from
   * exactly what an uninterrupted one had in memory, or its frames differ.
   */
  has(frame: number): boolean {
    return fs.existsSync(this.positionsPath(frame)) && fs.existsSync(this.imagePath(frame)) && fs.existsSync(this.errorPath(frame)) && fs.existsSync(this.matchesPath(frame));
  }

  async save(frame: number, image: Image, error: FloatImage, positions: FloatImage, matches: MatchField): Promise<void> {
    await writePng(this.imagePath(frame), image);
    await writeFloatMap(this.errorPath(frame), error);
    await writeMatchField(this.matchesPath(frame), matches);
    await writeFloatMap(this.positionsPath(frame), positions);
  }

  async load(frame: number): Promise<{ image: Image; error: FloatImage; positions: FloatImage; matches: MatchField } | undefined> {
    if (!this.has(frame)) return undefined;
    const [image, error, positions, matches] = await Promise.all([readRgb(this.imagePath(frame)), readFloatMap(this.errorPath(frame)), readFloatMap(this.positionsPath(frame)), readMatchField(this.matchesPath(frame))]);
    if (!error || !positions || !matches) return undefined;
    return { image, error, positions, matches };
  }
}
