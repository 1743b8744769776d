// Converted weights shared by every compiled graph of one set of weights (every precision): the plain UNet, its
// ControlNet / record / inject variants and FRESCO's split halves hold the same tensors, so each tensor is
// stored once on disk and every graph's ONNX file points into the shared data files (ONNX external data).
//
// Data files are immutable: a graph that needs tensors no file has yet writes one new data file holding just
// those (temp name, then rename), then its index (the marker that makes it visible). Two processes building
// at once may each write a file with the same tensors (stored twice, never corrupted).
//
// A graph build streams its weights into the store (StoreWriter, the builder's TensorSink): each weight is
// hashed and, when new, appended to the data file as it is made, so a build holds one weight at a time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { packTensors, partialName, writeAtomically, type ExternalLayout, type ExternalPlace, type TensorData, type TensorSink } from '../onnx/model';

/** One data file's index: its data file (a plain name in the same folder) and tensor key → byte offset. */
const storeIndex = z.object({ data: z.string().regex(/^[^/\\]+\.data$/), tensors: z.record(z.string(), z.number().int().min(0)) });
type StoreIndex = z.infer<typeof storeIndex>;

/** Identity of a tensor's content: type, shape and a hash of its bytes (names differ between graphs). */
export function tensorKey(t: TensorData): string {
  const hash = crypto.createHash('sha1').update(t.bytes).digest('hex');
  return `${t.dataType}|${t.dims.join('x')}|${hash}`;
}

/**
 * The file-name stem of the store for these weights: one for every precision, since a tensor's key holds its
 * type (an fp16 checkpoint's weights are the same half tensors in fp32 and fp16 graphs).
 */
export function weightStoreStem(weights: string): string {
  return `weights-${weights.slice(0, 24)}`;
}

/** Data file offsets are aligned like packTensors' (64 bytes). */
const ALIGN = 64;

/** A fresh, unique name for a new data file of the store `stem`. */
function newDataName(stem: string): string {
  return `${stem}.${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}.data`;
}

/**
 * Streams one graph's weights into the store `stem` of `dir` as the builder makes them: a tensor already
 * stored (by any earlier graph of these weights) is referenced, a new one is appended to this writer's data
 * file at once and forgotten. `finish` makes the new file visible (rename, then its index); `abort` removes it.
 */
export class StoreWriter implements TensorSink {
  private readonly known = new Map<string, { location: string; offset: number; index: string }>();
  private readonly added = new Map<string, number>();
  private readonly used = new Set<string>();
  private readonly data: string;
  private fd: number | undefined;
  private at = 0;
  private bytes = 0;

  constructor(private readonly dir: string, stem: string, private readonly progress: (bytes: number) => void = () => {}) {
    for (const index of readIndexes(dir, stem)) {
      const indexName = index.data.replace(/\.data$/, '.index.json');
      for (const [key, offset] of Object.entries(index.tensors)) if (!this.known.has(key)) this.known.set(key, { location: index.data, offset, index: indexName });
    }
    this.data = newDataName(stem);
  }

  place(t: TensorData): ExternalPlace {
    const key = tensorKey(t);
    const length = t.bytes.length;
    this.bytes += length;
    const hit = this.known.get(key);
    if (hit) {
      this.used.add(hit.location).add(hit.index);
      this.progress(this.bytes);
      return { location: hit.location, offset: hit.offset, length };
    }
    let offset = this.added.get(key);
    if (offset === undefined) {
      this.fd ??= fs.openSync(partialName(path.join(this.dir, this.data)), 'w');
      offset = Math.ceil(this.at / ALIGN) * ALIGN;
      for (let done = 0; done < length;) done += fs.writeSync(this.fd, t.bytes, done, length - done, offset + done);
      this.at = offset + length;
      this.added.set(key, offset);
    }
    this.progress(this.bytes);
    return { location: this.data, offset, length };
  }

  /** Closes the data file, renames it into place and writes its index; returns every store file the graph uses. */
  async finish(): Promise<string[]> {
    if (this.fd !== undefined) {
      const fd = this.fd;
      this.fd = undefined;
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      await fs.promises.rename(partialName(path.join(this.dir, this.data)), path.join(this.dir, this.data));
      const indexName = this.data.replace(/\.data$/, '.index.json');
      const index: StoreIndex = { data: this.data, tensors: Object.fromEntries(this.added) };
      await writeAtomically(path.join(this.dir, indexName), [Buffer.from(JSON.stringify(index))], () => {});
      this.used.add(this.data).add(indexName);
    }
    return [...this.used];
  }

  /** Drops what this writer wrote (a build that failed). */
  abort(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
    fs.rmSync(partialName(path.join(this.dir, this.data)), { force: true });
  }
}

/** Every complete index of the store `stem` in `dir`. */
function readIndexes(dir: string, stem: string): StoreIndex[] {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return []; }
  const found: StoreIndex[] = [];
  for (const name of names.filter((n) => n.startsWith(`${stem}.`) && n.endsWith('.index.json'))) {
    let doc: unknown;
    try { doc = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')); } catch { continue; }
    // A damaged index (or one whose data file is gone) is ignored: its tensors are written again.
    const index = storeIndex.safeParse(doc);
    if (index.success && fs.existsSync(path.join(dir, index.data.data))) found.push(index.data);
  }
  return found;
}

/**
 * Places `tensors` in the store `stem` of `dir`: those already stored are referenced, the rest go to a new
 * data file. Returns the external-data layout for the graph and every store file it now depends on.
 */
export async function placeInStore(dir: string, stem: string, tensors: TensorData[], progress: (bytes: number) => void = () => {}): Promise<{ layout: ExternalLayout; files: string[] }> {
  const known = new Map<string, { location: string; offset: number; index: string }>();
  for (const index of readIndexes(dir, stem)) {
    const indexName = index.data.replace(/\.data$/, '.index.json');
    for (const [key, offset] of Object.entries(index.tensors)) if (!known.has(key)) known.set(key, { location: index.data, offset, index: indexName });
  }
  const places = new Map<TensorData, { location: string; offset: number }>();
  const files = new Set<string>();
  const missing: Array<{ t: TensorData; key: string }> = [];
  const missingKeys = new Map<string, TensorData>();
  const keys = new Map<TensorData, string>();
  let done = 0;
  for (const t of tensors) {
    const key = tensorKey(t);
    keys.set(t, key);
    const hit = known.get(key);
    if (hit) {
      places.set(t, { location: hit.location, offset: hit.offset });
      files.add(hit.location).add(hit.index);
      done += t.bytes.length;
      progress(done);
    } else if (!missingKeys.has(key)) {
      missingKeys.set(key, t);
      missing.push({ t, key });
    }
  }
  if (missing.length) {
    const data = newDataName(stem);
    const indexName = data.replace(/\.data$/, '.index.json');
    const packed = packTensors(missing.map((m) => m.t));
    await writeAtomically(path.join(dir, data), packed.chunks, (bytes) => progress(done + bytes));
    const index: StoreIndex = { data, tensors: Object.fromEntries(missing.map((m) => [m.key, packed.offsets.get(m.t)!])) };
    await writeAtomically(path.join(dir, indexName), [Buffer.from(JSON.stringify(index))], () => {});
    for (const t of tensors) {
      if (places.has(t)) continue;
      const first = missingKeys.get(keys.get(t)!)!;
      places.set(t, { location: data, offset: packed.offsets.get(first)! });
    }
    files.add(data).add(indexName);
  }
  return { layout: { places }, files: [...files] };
}
