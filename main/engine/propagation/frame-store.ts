// Reading frames and storing per-frame propagation intermediates (chain results, error maps, advected
// positions) on disk, each written atomically so an interrupted run can resume where it stopped.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FloatImage, Image } from '../../../native-models/src/image';
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

/** A folder of results for one propagation direction of one segment. */
export class ChainStore {
  constructor(readonly dir: string) {}
  imagePath(frame: number): string { return path.join(this.dir, frameFileName(frame)); }
  errorPath(frame: number): string { return path.join(this.dir, frameFileName(frame, 'err')); }
  positionsPath(frame: number): string { return path.join(this.dir, frameFileName(frame, 'pos')); }
  async ensure(): Promise<void> { await fsp.mkdir(this.dir, { recursive: true }); }

  /** A frame is finished once all three files exist (the positions file is written last). */
  has(frame: number): boolean {
    return fs.existsSync(this.positionsPath(frame)) && fs.existsSync(this.imagePath(frame)) && fs.existsSync(this.errorPath(frame));
  }

  async save(frame: number, image: Image, error: FloatImage, positions: FloatImage): Promise<void> {
    await writePng(this.imagePath(frame), image);
    await writeFloatMap(this.errorPath(frame), error);
    await writeFloatMap(this.positionsPath(frame), positions);
  }

  async load(frame: number): Promise<{ image: Image; error: FloatImage; positions: FloatImage } | undefined> {
    if (!this.has(frame)) return undefined;
    const [image, error, positions] = await Promise.all([readRgb(this.imagePath(frame)), readFloatMap(this.errorPath(frame)), readFloatMap(this.positionsPath(frame))]);
    if (!error || !positions) return undefined;
    return { image, error, positions };
  }
}
