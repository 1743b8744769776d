// What a rendered keyframe leaves for the keyframes after it (docs/METHOD.md §3.0, §3.6), on disk so that
// memory stays bounded and a restarted app can still render later keyframes: per absolute step, the
// decoder self-attention input tokens of every layer and CFG branch (fp16 by default), x̂₀ and its
// per-channel statistics. One folder per cache, named by the key of the parameters that produced it.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { float32ToHalf, halfToFloat32 } from '../../../native-models/src/weights/half';
import type { ChannelStats } from './latent';

export type CachePrecision = 'fp16' | 'fp32';

const count = z.number().int().min(0);

/** A cache's meta.json, written last (its presence marks the cache finished); checked when read. */
const cacheMeta = z.object({
  /** Hash of everything that produced the cache (see render-records.ts). */
  key: z.string(),
  steps: count,
  /** First absolute step index recorded. */
  startStep: count,
  latent: z.object({ channels: count, height: count, width: count }),
  /** Token count and width of each decoder self-attention layer (tokens are [2, tokens, channels]). */
  layers: z.array(z.object({ tokens: count, channels: count })),
  precision: z.enum(['fp16', 'fp32']),
  /** Which parts were recorded: a "previous"-only cache has tokens but no x̂₀. */
  hasX0: z.boolean(),
  /** x̂₀ statistics per recorded step (index = step − startStep). */
  stats: z.array(z.object({ mean: z.array(z.number()), std: z.array(z.number()) })),
});
export type CacheMeta = z.infer<typeof cacheMeta>;

const stepName = (step: number, kind: 'tokens' | 'x0') => `step-${String(step).padStart(4, '0')}.${kind}`;

function encodeFloats(data: Float32Array, precision: CachePrecision): Uint8Array {
  const bytes = precision === 'fp16' ? float32ToHalf(data) : data;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeFloats(buf: Buffer, precision: CachePrecision): Float32Array {
  const width = precision === 'fp16' ? 2 : 4;
  // Large reads get their own aligned buffer; copy only when the view would be misaligned.
  const aligned = buf.byteOffset % width === 0 ? buf : Buffer.from(buf);
  if (precision === 'fp32') return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  return halfToFloat32(new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2));
}

/** Writes still in flight are capped, so a fast GPU cannot queue up gigabytes of tokens in memory. */
const MAX_PENDING_WRITES = 2;

/** Writes a cache step by step into `<dir>.partial`; `finish` makes it visible under `dir` in one rename. */
export class CacheWriter {
  private readonly partial: string;
  private readonly stats: ChannelStats[] = [];
  private layers: CacheMeta['layers'] = [];
  private first = -1;
  private hasX0 = false;
  private readonly pending: Promise<void>[] = [];

  /** `layerChannels`: the width of each decoder self-attention layer, in order. */
  constructor(readonly dir: string, private readonly key: string, private readonly steps: number, private readonly precision: CachePrecision,
    private readonly latent: CacheMeta['latent'], private readonly layerChannels: number[]) {
    this.partial = `${dir}.partial`;
    fs.rmSync(this.partial, { recursive: true, force: true });
    fs.mkdirSync(this.partial, { recursive: true });
  }

  /**
   * Records step `step` (absolute): every layer's tokens for both branches, and optionally x̂₀ and its
   * stats. The file is written in the background while the next step runs; the promise settles once at
   * most MAX_PENDING_WRITES writes are still in flight.
   */
  async addStep(step: number, tokens: Float32Array[] | undefined, x0?: { value: Float32Array; stats: ChannelStats }): Promise<void> {
    if (this.first < 0) this.first = step;
    if (step !== this.first + this.stats.length) throw new Error(`cache steps must be consecutive (got ${step} after ${this.first + this.stats.length - 1})`);
    if (tokens) {
      if (this.layers.length === 0) this.layers = tokens.map((t, i) => ({ tokens: t.length / (2 * this.layerChannels[i]), channels: this.layerChannels[i] }));
      const total = tokens.reduce((a, t) => a + t.length, 0);
      const all = new Float32Array(total);
      let at = 0;
      for (const t of tokens) { all.set(t, at); at += t.length; }
      const write = fs.promises.writeFile(path.join(this.partial, stepName(step, 'tokens')), encodeFloats(all, this.precision));
      write.catch(() => undefined); // reported when awaited below or in finish(), not as an unhandled rejection
      this.pending.push(write);
    }
    if (x0) {
      this.hasX0 = true;
      fs.writeFileSync(path.join(this.partial, stepName(step, 'x0')), encodeFloats(x0.value, 'fp32'));
    }
    this.stats.push(x0?.stats ?? { mean: [], std: [] });
    while (this.pending.length > MAX_PENDING_WRITES) await this.pending.shift();
  }

  async finish(): Promise<CacheMeta> {
    await Promise.all(this.pending.splice(0));
    const meta: CacheMeta = {
      key: this.key, steps: this.steps, startStep: Math.max(0, this.first), latent: this.latent, layers: this.layers,
      precision: this.precision, hasX0: this.hasX0, stats: this.stats,
    };
    fs.writeFileSync(path.join(this.partial, 'meta.json'), JSON.stringify(meta));
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.renameSync(this.partial, this.dir);
    return meta;
  }

  async discard(): Promise<void> {
    await Promise.allSettled(this.pending.splice(0));
    fs.rmSync(this.partial, { recursive: true, force: true });
  }
}

/** A finished cache, read one step at a time; the next step's tokens are read ahead while a step runs. */
export class CacheReader {
  private readonly reads = new Map<number, Promise<Float32Array[] | undefined>>();

  private constructor(readonly dir: string, readonly meta: CacheMeta) {}

  /**
   * The cache in `dir`, or undefined when there is none, it was never finished, or its meta.json is damaged
   * (not valid JSON, or not a cache's description): a cache is rebuilt, never trusted half-read.
   */
  static open(dir: string): CacheReader | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
    } catch {
      return undefined;
    }
    const meta = cacheMeta.safeParse(doc);
    return meta.success ? new CacheReader(dir, meta.data) : undefined;
  }

  has(step: number): boolean {
    return step >= this.meta.startStep && step < this.meta.startStep + this.meta.stats.length;
  }

  /** Tokens of every layer at `step`, each [2, tokens, channels]; starts reading step + 1. */
  async tokens(step: number): Promise<Float32Array[] | undefined> {
    const read = this.reads.get(step) ?? this.read(step);
    this.reads.clear(); // keep at most the read-ahead in memory
    if (this.has(step + 1)) {
      const ahead = this.read(step + 1);
      ahead.catch(() => undefined); // a failed read-ahead is reported if and when that step is asked for
      this.reads.set(step + 1, ahead);
    }
    return read;
  }

  private async read(step: number): Promise<Float32Array[] | undefined> {
    if (!this.has(step) || this.meta.layers.length === 0) return undefined;
    const all = decodeFloats(await fs.promises.readFile(path.join(this.dir, stepName(step, 'tokens'))), this.meta.precision);
    const out: Float32Array[] = [];
    let at = 0;
    for (const l of this.meta.layers) {
      const n = 2 * l.tokens * l.channels;
      out.push(all.subarray(at, at + n));
      at += n;
    }
    return out;
  }

  x0(step: number): Float32Array | undefined {
    if (!this.has(step) || !this.meta.hasX0) return undefined;
    return decodeFloats(fs.readFileSync(path.join(this.dir, stepName(step, 'x0'))), 'fp32');
  }

  stats(step: number): ChannelStats | undefined {
    if (!this.has(step) || !this.meta.hasX0) return undefined;
    return this.meta.stats[step - this.meta.startStep];
  }
}

/**
 * Reference tokens of layer i for cross-frame attention: per CFG branch, the anchor's tokens followed by
 * the previous keyframe's (K and V come from [h_first; h_prev], §3.1).
 */
export function concatReference(first: Float32Array, prev: Float32Array): Float32Array {
  const half1 = first.length / 2, half2 = prev.length / 2;
  const out = new Float32Array(first.length + prev.length);
  out.set(first.subarray(0, half1), 0);
  out.set(prev.subarray(0, half2), half1);
  out.set(first.subarray(half1), half1 + half2);
  out.set(prev.subarray(half2), 2 * half1 + half2);
  return out;
}
