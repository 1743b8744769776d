// Collects old segment outputs (issue 15, "old entries are collected by size with a clear limit"):
// when a project's output cache (clip.cache/output/<key>/) holds more than the limit, the folders whose
// key no segment of the current document uses (nor any key the caller keeps, e.g. the undo history's)
// are removed, least recently used first, until the cache fits. Current keys never go, whatever the
// size. A folder without its completion marker that changed recently is being written by a job and
// is skipped. Run it after a propagation finishes, never during one.
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';
import { projectPaths } from './paths';
import { segmentsOf } from './keyframes';
import { isComplete, segmentOutputKey } from './output-keys';

export const GB = 1024 ** 3;
/** The limit's range in the settings and on the command line (GB). */
export const CACHE_LIMIT_GB = { min: 1, max: 10_000, default: 20 } as const;
/** An incomplete folder changed within this time is taken to be written by a running job. */
export const WRITING_GRACE_MS = 60 * 60 * 1000;

export interface CacheEntry {
  key: string;
  bytes: number;
  /** Newest modification time of the folder or a file in it (ms). */
  lastUsedMs: number;
  current: boolean;
  complete: boolean;
  writing: boolean;
}

export interface CacheReport {
  dir: string;
  limitBytes: number;
  totalBytes: number;
  entries: CacheEntry[];
  /** Keys removed (or, for a dry run, that would be). */
  removed: CacheEntry[];
  /** Bytes left after collection. */
  bytesAfter: number;
}

/** Output keys the document uses now. */
export function currentOutputKeys(p: Project): Set<string> {
  return new Set(segmentsOf(p).map((s) => segmentOutputKey(p, s)));
}

function measure(dir: string): { bytes: number; newest: number } {
  let bytes = 0;
  let newest = fs.statSync(dir).mtimeMs;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) {
      const sub = measure(f);
      bytes += sub.bytes;
      newest = Math.max(newest, sub.newest);
    } else {
      const st = fs.lstatSync(f, { throwIfNoEntry: false });
      if (!st) continue; // removed meanwhile
      bytes += st.size;
      newest = Math.max(newest, st.mtimeMs);
    }
  }
  return { bytes, newest };
}

/** What the output cache of `projectFile` holds, newest use last. */
export function listOutputCache(projectFile: string, p: Project, keep: Iterable<string> = [], now = Date.now()): CacheEntry[] {
  const dir = projectPaths(projectFile).outputDir;
  const kept = new Set([...currentOutputKeys(p), ...keep]);
  let names: fs.Dirent[] = [];
  try {
    names = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const entries: CacheEntry[] = [];
  for (const e of names) {
    if (!e.isDirectory()) continue;
    let m: { bytes: number; newest: number };
    try {
      m = measure(path.join(dir, e.name));
    } catch {
      continue; // removed meanwhile
    }
    const complete = isComplete(projectFile, e.name);
    entries.push({ key: e.name, bytes: m.bytes, lastUsedMs: m.newest, current: kept.has(e.name), complete, writing: !complete && now - m.newest < WRITING_GRACE_MS });
  }
  return entries.sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.key.localeCompare(b.key));
}

export function limitBytesOf(limitGb: number): number {
  if (!Number.isFinite(limitGb) || limitGb < CACHE_LIMIT_GB.min || limitGb > CACHE_LIMIT_GB.max) {
    throw new RangeError(`cache limit ${limitGb} GB is outside ${CACHE_LIMIT_GB.min}…${CACHE_LIMIT_GB.max} GB`);
  }
  return limitGb * GB;
}

/**
 * Removes old entries, least recently used first, while the cache exceeds `limitBytes`. Never removes a
 * current or kept key, nor a folder being written. `dryRun` only reports.
 */
export async function collectOutputCache(
  projectFile: string,
  p: Project,
  opts: { limitBytes: number; keep?: Iterable<string>; dryRun?: boolean; now?: number },
): Promise<CacheReport> {
  const dir = projectPaths(projectFile).outputDir;
  const entries = listOutputCache(projectFile, p, opts.keep ?? [], opts.now);
  const totalBytes = entries.reduce((n, e) => n + e.bytes, 0);
  let bytes = totalBytes;
  const removed: CacheEntry[] = [];
  for (const e of entries) {
    if (bytes <= opts.limitBytes) break;
    if (e.current || e.writing) continue;
    if (!opts.dryRun) await fs.promises.rm(path.join(dir, e.key), { recursive: true, force: true });
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
