// Reading a conformance manifest ("sd15-conformance-fixtures/1", e.g. ../shared/fixtures/sd-tiny), its
// case files, and comparing results by maximum absolute difference against each output's tolerance.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { SafetensorsFile } from '../weights/safetensors';

export interface ManifestTensor {
  tensor?: string;
  json_field?: string;
  shape?: number[];
  dtype?: string;
  tolerance?: number;
  fp16_tolerance?: number;
  debug?: boolean;
}

export interface ManifestCase {
  name: string;
  kind: string;
  file: string;
  models: string[];
  layouts: string[];
  params?: Record<string, unknown>;
  inputs: Record<string, ManifestTensor>;
  outputs: Record<string, ManifestTensor>;
}

export interface LayoutEntry {
  weights?: string;
  config?: string;
  path?: string;
}

export interface Manifest {
  file: string;
  dir: string;
  format: string;
  name: string;
  layouts: Record<string, Record<string, LayoutEntry | unknown>>;
  models: Record<string, { config?: Record<string, unknown> }>;
  files?: Record<string, unknown>;
  cases: ManifestCase[];
}

export async function readManifest(file: string): Promise<Manifest> {
  let raw: unknown;
  try { raw = JSON.parse(await fs.promises.readFile(file, 'utf8')); } catch (err) {
    throw new UserError(`cannot be read as JSON (${(err as Error).message})`, file);
  }
  const m = raw as Partial<Manifest>;
  if (typeof m !== 'object' || !m || !Array.isArray(m.cases) || typeof m.layouts !== 'object' || typeof m.models !== 'object') {
    throw new UserError('is not a conformance manifest (expected "cases", "layouts" and "models")', file);
  }
  if (m.format && !String(m.format).startsWith('sd15-conformance-fixtures/')) {
    throw new UserError(`has format "${m.format}", expected sd15-conformance-fixtures/1`, file);
  }
  for (const c of m.cases) {
    if (typeof c?.name !== 'string' || typeof c.kind !== 'string' || typeof c.file !== 'string' || typeof c.outputs !== 'object') {
      throw new UserError(`has a case without name, kind, file or outputs (${JSON.stringify(c).slice(0, 80)})`, file);
    }
    c.inputs ??= {};
    c.models ??= [];
    c.layouts ??= ['none'];
  }
  return { ...(m as Manifest), file, dir: path.dirname(path.resolve(file)), name: m.name ?? path.basename(file) };
}

/** A layout's entry for one model component (weights file, config file), or undefined. */
export function layoutEntry(manifest: Manifest, layout: string, component: string): LayoutEntry | undefined {
  const entry = manifest.layouts[layout]?.[component];
  return entry && typeof entry === 'object' ? (entry as LayoutEntry) : undefined;
}

/** The component's config: the layout's config file when it names one, else the manifest's models.*.config. */
export function componentConfig(manifest: Manifest, layout: string, component: string): Record<string, unknown> {
  const entry = layoutEntry(manifest, layout, component);
  if (entry?.config) return JSON.parse(fs.readFileSync(path.join(manifest.dir, entry.config), 'utf8'));
  const config = manifest.models[component]?.config;
  if (!config) throw new UserError(`has no config for ${component} (models.${component}.config)`, manifest.file);
  return config;
}

/** The tokenizer folder: a layout's `tokenizer.path`, the folder of a listed vocab.json, or ./tokenizer. */
export function tokenizerDir(manifest: Manifest): string {
  for (const layout of Object.values(manifest.layouts)) {
    const t = (layout as Record<string, unknown>).tokenizer as LayoutEntry | undefined;
    if (t?.path) return path.join(manifest.dir, t.path);
  }
  const vocab = Object.keys(manifest.files ?? {}).find((f) => path.basename(f) === 'vocab.json');
  return path.join(manifest.dir, vocab ? path.dirname(vocab) : 'tokenizer');
}

/** A case file's tensors, read by name, as float32 or int64. */
export class CaseTensors {
  private constructor(readonly file: SafetensorsFile) {}

  static async open(file: string): Promise<CaseTensors> {
    return new CaseTensors(await SafetensorsFile.open(file));
  }

  has(name: string): boolean { return this.file.tensors.has(name); }

  shape(name: string): number[] { return this.file.info(name).shape; }

  float32(name: string): Float32Array { return this.file.readFloat32Sync(name); }

  async int64(name: string): Promise<BigInt64Array> { return this.file.readBigInt64(name); }

  async close(): Promise<void> { await this.file.close(); }
}

export function maxAbsDiff(expected: ArrayLike<number | bigint>, actual: ArrayLike<number | bigint>): number {
  if (expected.length !== actual.length) return Infinity;
  let m = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(Number(expected[i]) - Number(actual[i]));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
