// The project's flow cache: consecutive-frame flows (i→i+1 and i+1→i) computed once from the
// source frames, stored compactly (compact-flow.ts), and thrown away when the source or the estimator
// changes.
import fs from 'node:fs';
import path from 'node:path';
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
  return { id: `native-dis/v1/${options.preset ?? 'balanced'}`, computePair: (a, b) => computeFlow(a, b, options) };
}

export interface FlowCacheOptions {
  /** Folder for the cached flows (a project's `projectPaths(file).flowDir`). */
  dir: string;
  /** Source frames `NNNNN.png`, 0-based. */
  framesDir: string;
  /**
   * What the frames were made from, e.g. a hash of the source video and the working size. When it
   * differs from the key recorded in `dir`, every cached flow there is deleted.
   */
  sourceKey: string;
  estimator?: FlowEstimator;
}

const KEY_FILE = 'flow-cache.json';
/** How the flows are stored; part of the key, so a cache in an older format is cleared. */
const STORAGE = 'rrq1';

/** Our flow files, this format's and the float32 .flo files of earlier versions. */
const FLOW_FILE = /^\d{5,}\.(fwd|bwd)\.(flo|qflo)$/;

/** File names of the flows between frame i and i+1. */
export function flowFileNames(i: number): { forward: string; backward: string } {
  const stem = frameFileName(i, '').slice(0, -1);
  return { forward: `${stem}.fwd.qflo`, backward: `${stem}.bwd.qflo` };
}

export class FlowCache {
  private readonly pending = new Map<number, Promise<FlowPair>>();

  private constructor(readonly dir: string, readonly framesDir: string, readonly estimator: FlowEstimator) {}

  /** Opens (creating if needed) the cache folder, clearing it if it was made from another source or estimator. */
  static async open(options: FlowCacheOptions): Promise<FlowCache> {
    const estimator = options.estimator ?? nativeFlowEstimator();
    const key = { sourceKey: options.sourceKey, estimator: estimator.id, storage: STORAGE };
    await fs.promises.mkdir(options.dir, { recursive: true });
    const keyFile = path.join(options.dir, KEY_FILE);
    let recorded: unknown;
    try {
      recorded = JSON.parse(await fs.promises.readFile(keyFile, 'utf8'));
    } catch {
      recorded = undefined;
    }
    if (JSON.stringify(recorded) !== JSON.stringify(key)) {
      for (const name of await fs.promises.readdir(options.dir)) {
        if (FLOW_FILE.test(name) || name.startsWith('.')) await fs.promises.rm(path.join(options.dir, name), { force: true, recursive: true });
      }
      await writeFileAtomic(keyFile, JSON.stringify(key) + '\n');
    }
    return new FlowCache(options.dir, options.framesDir, estimator);
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
    // Rebuildable, so no fsync: the atomic rename keeps a killed run from leaving half a file, and a
    // file damaged by a power cut fails decoding and is recomputed.
    const fwd = encodeFlow(computed.forward), bwd = encodeFlow(computed.backward);
    await writeFileAtomic(fwdFile, fwd, { durable: false });
    await writeFileAtomic(bwdFile, bwd, { durable: false });
    return { forward: decodeFlow(fwd, fwdFile), backward: decodeFlow(bwd, bwdFile) };
  }
}
