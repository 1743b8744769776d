// Collects old cache entries (issue 15, "old entries are collected by size with a clear limit"). The
// entries are everything the cache keeps under a key of its inputs (output-keys.ts):
//   output   clip.cache/output/<key>/               a segment's propagated frames
//   flow     clip.cache/flow/<key>/                 a set of flows (one source, one estimator)
//   measure  clip.cache/metrics/warp-error/<key>.json  a flicker measurement of one state of the output
// When they hold more than the limit together, the entries the current document does not use (nor any
// key the caller keeps, e.g. the undo history's) are removed, least recently used first, until the
// cache fits. Current keys never go, whatever the size. An entry without its record of inputs that
// changed recently is being written by a job and is skipped. Run it after a propagation finishes,
// never during one.
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';
import { projectPaths } from './paths';
import { segmentsOf } from './keyframes';
import { flickerMeasureKey, isComplete, measuresDir, projectFlowKey, segmentOutputKey } from './output-keys';
import { FLOW_SET, readFlowInputs } from '../flow/flow-cache';

import { CACHE_LIMIT_GB } from '../../../preload/api';

export const GB = 1024 ** 3;
/** The limit's range in the settings and on the command line (GB): defined once, in the editor's contract. */
export { CACHE_LIMIT_GB };
/** An incomplete entry changed within this time is taken to be written by a running job. */
export const WRITING_GRACE_MS = 60 * 60 * 1000;

export type CacheKind = 'output' | 'flow' | 'measure';

export interface CacheEntry {
  kind: CacheKind;
  key: string;
  /** The folder or file, relative to the project's cache folder. */
  path: string;
  bytes: number;
  /** Newest modification time of the entry or a file in it (ms). */
  lastUsedMs: number;
  current: boolean;
  /** Its record of inputs is there (an output's `inputs.json`, a flow set's `flow-cache.json`; a measurement always). */
  complete: boolean;
  writing: boolean;
}

export interface CacheReport {
  dir: string;
  limitBytes: number;
  totalBytes: number;
  entries: CacheEntry[];
  /** Entries removed (or, for a dry run, that would be). */
  removed: CacheEntry[];
  /** Bytes left after collection. */
  bytesAfter: number;
}

/** Output keys the document uses now. */
export function currentOutputKeys(p: Project): Set<string> {
  return new Set(segmentsOf(p).map((s) => segmentOutputKey(p, s)));
}

/**
 * Every key document `p` uses: its segments' outputs and its flow set (and, with the project file, its
 * current flicker measurement). Pass the keys of documents undo or redo can return to as `keep`.
 */
export function keysOf(p: Project, projectFile?: string): Set<string> {
  const keys = currentOutputKeys(p);
  keys.add(projectFlowKey(p));
  if (projectFile) keys.add(flickerMeasureKey(projectFile, p));
  return keys;
}

/** The keys of documents undo or redo can return to (`ProjectStore.historyDocuments`): pass them as `keep`. */
export function keysToKeep(documents: Iterable<Project>): Set<string> {
  const keys = new Set<string>();
  for (const d of documents) for (const k of keysOf(d)) keys.add(k);
  return keys;
}

// Asynchronous walk: the editor runs the collection in its main process, where a cache of thousands of
// frames must not hold up the calls of the window meanwhile.
async function measure(entry: string): Promise<{ bytes: number; newest: number }> {
  const st = await fs.promises.lstat(entry);
  if (!st.isDirectory()) return { bytes: st.size, newest: st.mtimeMs };
  let bytes = 0;
  let newest = st.mtimeMs;
  for (const e of await fs.promises.readdir(entry, { withFileTypes: true })) {
    const f = path.join(entry, e.name);
    if (e.isDirectory()) {
      const sub = await measure(f);
      bytes += sub.bytes;
      newest = Math.max(newest, sub.newest);
    } else {
      const s = await fs.promises.lstat(f).catch(() => undefined);
      if (!s) continue; // removed meanwhile
      bytes += s.size;
      newest = Math.max(newest, s.mtimeMs);
    }
  }
  return { bytes, newest };
}

async function namesIn(dir: string): Promise<fs.Dirent[]> {
  return fs.promises.readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** What the cache of `projectFile` holds, least recently used first. */
export async function listCache(projectFile: string, p: Project, keep: Iterable<string> = [], now = Date.now()): Promise<CacheEntry[]> {
  const paths = projectPaths(projectFile);
  const kept = new Set([...keysOf(p, projectFile), ...keep]);
  const candidates: Array<{ kind: CacheKind; key: string; file: string; complete: () => boolean }> = [];
  for (const e of await namesIn(paths.outputDir)) {
    if (e.isDirectory()) candidates.push({ kind: 'output', key: e.name, file: path.join(paths.outputDir, e.name), complete: () => isComplete(projectFile, e.name) });
  }
  for (const e of await namesIn(paths.flowDir)) {
    // Flows of the layout before keyed sets lie in the folder itself: the next open moves them into their set.
    const file = path.join(paths.flowDir, e.name);
    if (e.isDirectory()) candidates.push({ kind: 'flow', key: e.name, file, complete: () => FLOW_SET.test(e.name) && readFlowInputs(file) !== undefined });
  }
  const measures = measuresDir(projectFile);
  for (const e of await namesIn(measures)) {
    if (e.isFile() && e.name.endsWith('.json')) candidates.push({ kind: 'measure', key: e.name.slice(0, -5), file: path.join(measures, e.name), complete: () => true });
  }
  // The one measurement file of the layout before keyed measurements: of no known output, so old.
  const flat = path.join(paths.cacheDir, 'metrics', 'warp-error.json');
  if (fs.existsSync(flat)) candidates.push({ kind: 'measure', key: 'warp-error', file: flat, complete: () => true });

  const entries: CacheEntry[] = [];
  for (const c of candidates) {
    let m: { bytes: number; newest: number };
    try {
      m = await measure(c.file);
    } catch {
      continue; // removed meanwhile
    }
    const complete = c.complete();
    entries.push({
      kind: c.kind, key: c.key, path: path.relative(paths.cacheDir, c.file).split(path.sep).join('/'), bytes: m.bytes, lastUsedMs: m.newest,
      current: c.file !== flat && kept.has(c.key), complete, writing: !complete && now - m.newest < WRITING_GRACE_MS,
    });
  }
  return entries.sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path));
}

export function limitBytesOf(limitGb: number): number {
  if (!Number.isFinite(limitGb) || limitGb < CACHE_LIMIT_GB.min || limitGb > CACHE_LIMIT_GB.max) {
    throw new RangeError(`cache limit ${limitGb} GB is outside ${CACHE_LIMIT_GB.min}…${CACHE_LIMIT_GB.max} GB`);
  }
  return limitGb * GB;
}

/**
 * Removes old entries, least recently used first, while the cache exceeds `limitBytes`. Never removes a
 * current or kept key, nor an entry being written. `dryRun` only reports.
 */
export async function collectCache(
  projectFile: string,
  p: Project,
  opts: { limitBytes: number; keep?: Iterable<string>; dryRun?: boolean; now?: number },
): Promise<CacheReport> {
  const dir = projectPaths(projectFile).cacheDir;
  const entries = await listCache(projectFile, p, opts.keep ?? [], opts.now);
  const totalBytes = entries.reduce((n, e) => n + e.bytes, 0);
  let bytes = totalBytes;
  const removed: CacheEntry[] = [];
  for (const e of entries) {
    if (bytes <= opts.limitBytes) break;
    if (e.current || e.writing) continue;
    if (!opts.dryRun) await fs.promises.rm(path.join(dir, e.path), { recursive: true, force: true });
    removed.push(e);
    bytes -= e.bytes;
  }
  return { dir, limitBytes: opts.limitBytes, totalBytes, entries, removed, bytesAfter: bytes };
}

export function formatBytes(n: number): string {
  if (n >= GB) return `${(n / GB).toFixed(2)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} B`;
}
