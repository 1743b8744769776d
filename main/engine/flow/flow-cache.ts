// The project's flow cache: consecutive-frame flows (i→i+1 and i+1→i) computed once from the source
// frames and stored compactly (compact-flow.ts), keyed by what made them (issue 15): each set of flows
// lives in `<flow dir>/<key>/`, the key a hash of the source frames' identity (the source video or its
// relinked copy, its frames and working size: the project's `sourceKey`), the estimator and its
// settings, and the storage format; pair i of a set is its files `NNNNN.fwd.qflo` / `NNNNN.bwd.qflo`.
// Another source or estimator opens another set; switching back finds the old one where it was (the
// cache collector removes sets no longer used, by size). The set's inputs are written beside its flows.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { computeFlow, occlusionMask, type ComputeFlowOptions, type FlowPair } from '../../../native-models/src/flow';
import type { Image } from '../../../native-models/src/image';
import { CancelToken, UserError, type ProgressFn } from '../../../native-models/src/errors';
import { writeFileAtomic } from '../fs/atomic';
import { frameFileName } from '../project/paths';
import { readRgb } from '../media/image-files';
import { decodeFlow, encodeFlow } from './compact-flow';

/** Anything that turns two frames into their forward and backward flows. */
export interface FlowEstimator {
  /** Identifies the method and its settings; part of the cache key. */
  readonly id: string;
  computePair(a: Image, b: Image): Promise<FlowPair>;
}

/** The built-in native estimator (no model weights needed). */
export function nativeFlowEstimator(options: ComputeFlowOptions = {}): FlowEstimator {
  return { id: `native-dis/v4/${options.preset ?? 'balanced'}`, computePair: (a, b) => computeFlow(a, b, options) };
}

export interface FlowCacheOptions {
  /** Folder for the cached flow sets (a project's `projectPaths(file).flowDir`). */
  dir: string;
  /** Source frames `NNNNN.png`, 0-based. */
  framesDir: string;
  /** What the frames were made from, e.g. the source video and the working size: part of the key. */
  sourceKey: string;
  estimator?: FlowEstimator;
}

/** A set's inputs, written in its folder (and, in the layout before keyed sets, in the flow folder itself). */
const KEY_FILE = 'flow-cache.json';
/** How the flows are stored; part of the key, so flows in an older format are never read. */
const STORAGE = 'rrq1';

const flowInputs = z.object({ sourceKey: z.string(), estimator: z.string(), storage: z.string() }).strict();
export type FlowInputs = z.infer<typeof flowInputs>;

/** The key of the flows the estimator `estimatorId` makes from the frames of `sourceKey`: 16 hex digits. */
export function flowSetKey(sourceKey: string, estimatorId: string): string {
  return keyOf({ sourceKey, estimator: estimatorId, storage: STORAGE });
}

function keyOf(inputs: FlowInputs): string {
  return crypto.createHash('sha256').update(JSON.stringify([inputs.sourceKey, inputs.estimator, inputs.storage])).digest('hex').slice(0, 16);
}

/** A flow set's folder name: its key. */
export const FLOW_SET = /^[0-9a-f]{16}$/;

/** The inputs recorded in a set's folder, or undefined when missing or damaged (the set is then not used). */
export function readFlowInputs(setDir: string): FlowInputs | undefined {
  try {
    const r = flowInputs.safeParse(JSON.parse(fs.readFileSync(path.join(setDir, KEY_FILE), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Flows in the layout before keyed sets (files directly in the flow folder, one key file beside them)
 * are moved into the folder of the key they were made with; unreadable ones, or ones in an older
 * storage format, are deleted (they are rebuilt when needed).
 */
async function migrateFlatLayout(dir: string): Promise<void> {
  const names = await fs.promises.readdir(dir);
  const flat = names.filter((n) => FLOW_FILE.test(n));
  if (!flat.length && !names.includes(KEY_FILE)) return;
  const recorded = readFlowInputs(dir);
  const target = recorded && recorded.storage === STORAGE ? path.join(dir, keyOf(recorded)) : undefined;
  if (target) {
    await fs.promises.mkdir(target, { recursive: true });
    if (!readFlowInputs(target)) await writeFileAtomic(path.join(target, KEY_FILE), JSON.stringify(recorded) + '\n');
  }
  for (const name of flat) {
    const from = path.join(dir, name);
    // Another process migrating at the same time may have moved it first.
    if (target && name.endsWith('.qflo')) await fs.promises.rename(from, path.join(target, name)).catch(() => undefined);
    else await fs.promises.rm(from, { force: true });
  }
  await fs.promises.rm(path.join(dir, KEY_FILE), { force: true });
}

/** Our flow files, this format's and the float32 .flo files of earlier versions. */
const FLOW_FILE = /^\d{5,}\.(fwd|bwd)\.(flo|qflo)$/;

/** File names of the flows between frame i and i+1. */
export function flowFileNames(i: number): { forward: string; backward: string } {
  const stem = frameFileName(i, '').slice(0, -1);
  return { forward: `${stem}.fwd.qflo`, backward: `${stem}.bwd.qflo` };
}

export class FlowCache {
  private readonly pending = new Map<number, Promise<FlowPair>>();
  private computations = 0;

  /** `dir` is the set's own folder (`<flow dir>/<key>`). */
  private constructor(readonly dir: string, readonly key: string, readonly framesDir: string, readonly estimator: FlowEstimator) {}

  /**
   * Opens the set of flows for these frames and this estimator (creating its folder if needed). Flows of
   * other sources or estimators stay in their own sets, untouched.
   */
  static async open(options: FlowCacheOptions): Promise<FlowCache> {
    const estimator = options.estimator ?? nativeFlowEstimator();
    const inputs: FlowInputs = { sourceKey: options.sourceKey, estimator: estimator.id, storage: STORAGE };
    const key = keyOf(inputs);
    await fs.promises.mkdir(options.dir, { recursive: true });
    await migrateFlatLayout(options.dir);
    const dir = path.join(options.dir, key);
    await fs.promises.mkdir(dir, { recursive: true });
    if (JSON.stringify(readFlowInputs(dir)) !== JSON.stringify(inputs)) {
      // New, or its record damaged: what is there cannot be trusted to come from these inputs.
      for (const name of await fs.promises.readdir(dir)) {
        if (FLOW_FILE.test(name) || name.startsWith('.')) await fs.promises.rm(path.join(dir, name), { force: true, recursive: true });
      }
      await writeFileAtomic(path.join(dir, KEY_FILE), JSON.stringify(inputs) + '\n');
    }
    // Used now: the cache collector removes the least recently used sets first.
    const now = new Date();
    await fs.promises.utimes(dir, now, now).catch(() => undefined);
    return new FlowCache(dir, key, options.framesDir, estimator);
  }

  /** Pairs this cache computed (not read back from disk) since it was opened. */
  get computed(): number {
    return this.computations;
  }

  /**
   * Flows between frame i and i+1 (forward i→i+1, backward i+1→i): read from the cache or computed and
   * stored; either way rounded to the stored precision, so every run sees the same fields.
   */
  pair(i: number): Promise<FlowPair> {
    if (!Number.isInteger(i) || i < 0) throw new RangeError(`frame index must be a whole number ≥ 0, got ${i}`);
    let p = this.pending.get(i);
    if (!p) {
      p = this.load(i).finally(() => this.pending.delete(i));
      this.pending.set(i, p);
    }
    return p;
  }

  /** Whether both flows of pair i are already on disk. */
  has(i: number): boolean {
    const names = flowFileNames(i);
    return fs.existsSync(path.join(this.dir, names.forward)) && fs.existsSync(path.join(this.dir, names.backward));
  }

  /** Occlusion mask of frame i+1 with respect to frame i (255 = not visible in frame i). */
  async occlusion(i: number): Promise<Image> {
    return occlusionMask(await this.pair(i));
  }

  /** Makes sure the flows of pairs first..last-1 (frames first..last) exist; one pair at a time. */
  async ensureRange(first: number, last: number, progress?: ProgressFn, cancel?: CancelToken): Promise<void> {
    const total = Math.max(0, last - first);
    for (let i = first; i < last; i++) {
      cancel?.throwIfCancelled();
      if (!this.has(i)) await this.pair(i);
      progress?.((i - first + 1) / total, `flow ${i}→${i + 1}`);
    }
  }

  private async load(i: number): Promise<FlowPair> {
    const names = flowFileNames(i);
    const fwdFile = path.join(this.dir, names.forward), bwdFile = path.join(this.dir, names.backward);
    if (fs.existsSync(fwdFile) && fs.existsSync(bwdFile)) {
      try {
        const [fwd, bwd] = await Promise.all([fs.promises.readFile(fwdFile), fs.promises.readFile(bwdFile)]);
        return { forward: decodeFlow(fwd, fwdFile), backward: decodeFlow(bwd, bwdFile) };
      } catch {
        // A damaged cache entry is rebuilt rather than reported: everything here is rebuildable.
      }
    }
    const a = await readRgb(path.join(this.framesDir, frameFileName(i)));
    const b = await readRgb(path.join(this.framesDir, frameFileName(i + 1)));
    if (a.width !== b.width || a.height !== b.height) {
      throw new UserError(`frames ${i} and ${i + 1} differ in size (${a.width}×${a.height} vs ${b.width}×${b.height})`, this.framesDir);
    }
    const computed = await this.estimator.computePair(a, b);
    this.computations++;
    // Rebuildable, so no fsync: the atomic rename keeps a killed run from leaving half a file, and a
    // file damaged by a power cut fails decoding and is recomputed.
    const fwd = encodeFlow(computed.forward), bwd = encodeFlow(computed.backward);
    await writeFileAtomic(fwdFile, fwd, { durable: false });
    await writeFileAtomic(bwdFile, bwd, { durable: false });
    return { forward: decodeFlow(fwd, fwdFile), backward: decodeFlow(bwd, bwdFile) };
  }
}
