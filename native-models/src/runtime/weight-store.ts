// Converted weights shared by every compiled graph of one set of weights and precision: the plain UNet, its
// ControlNet / record / inject variants and FRESCO's split halves hold the same tensors, so each tensor is
// stored once on disk and every graph's ONNX file points into the shared data files (ONNX external data).
//
// Data files are immutable: a graph that needs tensors no file has yet writes one new data file holding just
// those (temp name, then rename), then its index (the marker that makes it visible). Two processes building
// at once may each write a file with the same tensors (stored twice, never corrupted).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { packTensors, writeAtomically, type ExternalLayout, type TensorData } from '../onnx/model';

/** One data file's index: its data file (a plain name in the same folder) and tensor key → byte offset. */
const storeIndex = z.object({ data: z.string().regex(/^[^/\\]+\.data$/), tensors: z.record(z.string(), z.number().int().min(0)) });
type StoreIndex = z.infer<typeof storeIndex>;

/** Identity of a tensor's content: type, shape and a hash of its bytes (names differ between graphs). */
export function tensorKey(t: TensorData): string {
  const hash = crypto.createHash('sha1').update(t.bytes).digest('hex');
  return `${t.dataType}|${t.dims.join('x')}|${hash}`;
}

/** The file-name stem of the store for these weights and precision. */
export function weightStoreStem(weights: string, precision: string): string {
  return `weights-${weights.slice(0, 24)}-${precision}`;
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
    const id = `${Date.now().toString(36)}${crypto.randomBytes(3).toString('hex')}`;
    const data = `${stem}.${id}.data`;
    const indexName = `${stem}.${id}.index.json`;
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
