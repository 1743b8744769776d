// Compiled-graph disk cache: a built ONNX model is stored under a key made of the weights' fingerprint
// (file identity + LoRA set), the graph variant, precision and operator flavour, so loading the same
// model again skips reading and converting gigabytes of weights. The converted weights themselves are
// stored once per weights and shared by every graph variant and precision (weight-store.ts); an fp16
// checkpoint's weights stay fp16 there, cast to float32 as a CPU session loads them. Each build first
// removes what killed builds and older builders left (sweepGraphCache).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ModelDef, TensorSink } from '../onnx/model';
import { partialName, writeModel } from '../onnx/model';
import { placeInStore, StoreWriter, weightStoreStem } from './weight-store';

/** Bump when a builder change alters what graphs compute or their inputs/outputs. */
export const GRAPH_BUILDER_VERSION = 5;

export interface CompiledGraphKey {
  /** Fingerprint of the weights and merged LoRAs (WeightSource.fingerprint()). */
  weights: string;
  /** Graph and variant, e.g. "unet-controlnet+record". */
  graph: string;
  precision: 'fp32' | 'fp16';
  fusedOps: boolean;
}

/** Stable file stem: readable part plus a hash of the whole key. */
export function compiledGraphName(key: CompiledGraphKey): string {
  const hash = crypto.createHash('sha256').update(JSON.stringify({ ...key, builder: GRAPH_BUILDER_VERSION })).digest('hex').slice(0, 20);
  const flavour = `${key.precision}${key.fusedOps ? '-fused' : ''}`;
  return `${key.graph.replace(/[^a-z0-9+_.-]/gi, '_').slice(0, 60)}-${flavour}-${hash}`;
}

/** A cache entry's marker (`<stem>.json`, written after its model): what it was built from and its files. */
const cacheEntryInfo = z.object({
  key: z.object({ weights: z.string(), graph: z.string(), precision: z.enum(['fp32', 'fp16']), fusedOps: z.boolean() }),
  builder: z.number().int(),
  /** Plain file names inside the cache folder (never a path: removal deletes exactly these). */
  files: z.array(z.string().regex(/^[^/\\]+$/).refine((f) => f !== '.' && f !== '..')),
  createdAt: z.string(),
});
type CacheEntryInfo = z.infer<typeof cacheEntryInfo>;

/** The marker `file`, or undefined when it is missing, damaged or not one of ours (the entry is rebuilt). */
function readEntryInfo(file: string): CacheEntryInfo | undefined {
  try {
    return cacheEntryInfo.safeParse(JSON.parse(fs.readFileSync(file, 'utf8'))).data;
  } catch {
    return undefined;
  }
}

/** The cached model file when it is complete (its marker was written last), else undefined. */
export function findCompiledGraph(cacheDir: string, key: CompiledGraphKey): string | undefined {
  const stem = path.join(cacheDir, compiledGraphName(key));
  const info = readEntryInfo(`${stem}.json`);
  if (!info || info.builder !== GRAPH_BUILDER_VERSION) return undefined;
  if (!info.files.every((f) => fs.existsSync(path.join(cacheDir, f)))) return undefined;
  return `${stem}.onnx`;
}

/**
 * Returns the cached model for `key`, building and writing it first when absent. `build` gets the sink its
 * graph builder streams the weights into (the store shared by every graph of these weights and precision),
 * so building holds one weight at a time; `writeProgress` gets the bytes of weights placed so far. The
 * marker file is written after the model, so an interrupted write is rebuilt next time rather than loaded
 * half-done.
 */
export async function compiledGraph(cacheDir: string, key: CompiledGraphKey, build: (sink: TensorSink) => ModelDef, writeProgress?: (bytes: number) => void): Promise<{ file: string; built: boolean }> {
  const found = findCompiledGraph(cacheDir, key);
  if (found) return { file: found, built: false };
  const stem = path.join(cacheDir, compiledGraphName(key));
  const store = weightStoreStem(key.weights);
  await fs.promises.mkdir(cacheDir, { recursive: true });
  sweepGraphCache(cacheDir);
  const writer = new StoreWriter(cacheDir, store, writeProgress);
  let model: ModelDef;
  let streamed: string[];
  try {
    model = build(writer);
    streamed = await writer.finish();
  } catch (err) {
    writer.abort();
    throw err;
  }
  // Anything large a builder made outside the sink goes to the store too.
  const written = await writeModel(model, `${stem}.onnx`, { sharedData: (tensors) => placeInStore(cacheDir, store, tensors) });
  const files = [...new Set([...written, ...streamed.map((f) => path.join(cacheDir, f))].map((f) => path.basename(f)))];
  const info: CacheEntryInfo = { key, builder: GRAPH_BUILDER_VERSION, files, createdAt: new Date().toISOString() };
  await fs.promises.writeFile(partialName(`${stem}.json`), JSON.stringify(info, null, 1));
  await fs.promises.rename(partialName(`${stem}.json`), `${stem}.json`);
  return { file: `${stem}.onnx`, built: true };
}

/** A temporary file left this long without a write is stale even when its writer's pid is alive (reused). */
const STALE_PARTIAL_MS = 60 * 60 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Removes what no build will finish or read from the cache folder: temporary files (`<file>.<pid>.partial`)
 * whose writer is gone (or untouched for an hour; also those of earlier versions, named without a pid),
 * and entries of an older graph builder (never loaded again) with their files that no current entry
 * uses — the converted weights of earlier versions included. Another process's build in progress is left
 * alone. Returns the bytes freed.
 */
export function sweepGraphCache(cacheDir: string): number {
  let names: string[];
  try { names = fs.readdirSync(cacheDir); } catch { return 0; }
  let freed = 0;
  const remove = (name: string) => {
    try {
      const file = path.join(cacheDir, name);
      const st = fs.lstatSync(file);
      if (!st.isFile()) return;
      fs.rmSync(file);
      freed += st.size;
    } catch { /* gone already */ }
  };
  const now = Date.now();
  for (const name of names.filter((n) => n.endsWith('.partial'))) {
    const pid = /\.(\d+)\.partial$/.exec(name)?.[1];
    let mtime: number;
    try { mtime = fs.statSync(path.join(cacheDir, name)).mtimeMs; } catch { continue; }
    if (now - mtime > STALE_PARTIAL_MS || (pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid)))) remove(name);
  }
  const current = new Set<string>();
  const outdated: Array<{ marker: string; info: CacheEntryInfo }> = [];
  for (const name of names.filter((n) => n.endsWith('.json') && !n.includes('.index.'))) {
    const info = readEntryInfo(path.join(cacheDir, name));
    if (!info) continue; // not an entry marker (or damaged): left alone
    if (info.builder === GRAPH_BUILDER_VERSION) for (const f of info.files) current.add(f);
    else outdated.push({ marker: name, info });
  }
  for (const { marker, info } of outdated) {
    remove(marker);
    for (const f of info.files) if (!current.has(f)) remove(f);
  }
  return freed;
}

/** Deletes every cached graph built from `weights` (used when the user removes a model). */
export function removeCompiledGraphs(cacheDir: string, weights: string): number {
  let removed = 0;
  if (!fs.existsSync(cacheDir)) return 0;
  for (const name of fs.readdirSync(cacheDir).filter((n) => n.endsWith('.json'))) {
    const info = readEntryInfo(path.join(cacheDir, name));
    if (info?.key.weights !== weights) continue; // not one of ours, or another model's: left alone
    fs.rmSync(path.join(cacheDir, name));
    for (const f of info.files) fs.rmSync(path.join(cacheDir, f), { force: true });
    removed++;
  }
  return removed;
}
