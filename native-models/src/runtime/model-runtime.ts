// The inference worker's model sessions: builds (or takes from the disk cache) the graph for the first
// execution provider that works, reports load progress and the chosen provider, and releases sessions
// when models are switched.
import * as ort from './onnxruntime';
import { UserError, type ProgressFn } from '../errors';
import { buildGraph, describeGraph, type ConfiguredWeights, type GraphSpec } from '../graphs';
import { shapeOf } from '../graphs/ops';
import { compiledGraph, findCompiledGraph, type CompiledGraphKey } from './graph-cache';
import { createSessionInOrder, flavourFor, PROVIDER_ORDER, type GraphFlavour, type ProviderAttempt, type ProviderName } from './providers';

/** Weights that can say who they are (WeightSource from weights/model-weights.ts is one). */
export interface IdentifiedWeights extends ConfiguredWeights {
  fingerprint(): Promise<string>;
}

export interface RuntimeOptions {
  /** Folder for compiled graphs (the models folder's cache). */
  cacheDir: string;
  /** Providers to try, in order; default PROVIDER_ORDER. */
  providers?: readonly ProviderName[];
  /** CPU operator threads; ORT's default when absent. */
  threads?: number;
}

/** A model ready to run, with the provider it runs on. */
export interface LoadedModel {
  readonly name: string;
  readonly provider: ProviderName;
  /** Providers passed over on the way, with ORT's reason (for the log and the UI). */
  readonly skipped: readonly ProviderAttempt[];
  /** True when the compiled graph came from the disk cache (no weights were converted). */
  readonly fromCache: boolean;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, outputs?: readonly string[]): Promise<Record<string, ort.Tensor>>;
}

interface Entry {
  model: LoadedModel;
  session: ort.InferenceSession;
  /** Weights fingerprint and graph part: full UNet variants of one set of weights replace each other. */
  weights: string;
  part: GraphSpec['part'];
  /** Runs in flight; a replaced session is released when the last one ends. */
  running: number;
  releaseWhenIdle: boolean;
}

/**
 * The provider's flavour, except that a VAE whose config asks for `force_upcast` (SD1.5's does: its
 * decoder overflows float16 at full resolution) stays float32 on every provider.
 */
function flavourOf(provider: ProviderName, graph: GraphSpec, weights: ConfiguredWeights): GraphFlavour {
  const flavour = flavourFor(provider);
  const isVae = graph.part === 'vae_encoder' || graph.part === 'vae_decoder';
  return isVae && weights.config.force_upcast !== false ? { ...flavour, precision: 'fp32' } : flavour;
}

/** Bytes of every weight of `weights` in `precision` (what a graph of all of them writes), when it can list them. */
function weightBytes(weights: ConfiguredWeights & { names?(): string[] }, precision: 'fp32' | 'fp16'): number {
  const size = precision === 'fp16' ? 2 : 4;
  let total = 0;
  for (const name of weights.names?.() ?? []) total += shapeOf(weights, name).reduce((a, b) => a * b, 1) * size;
  return total || Infinity;
}

export class ModelRuntime {
  private readonly sessions = new Map<string, Entry>();
  /** Providers that already failed in this process are not tried again for later models. */
  private readonly failed = new Map<ProviderName, string>();
  private readonly fingerprints = new WeakMap<IdentifiedWeights, Promise<string>>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();

  constructor(private readonly options: RuntimeOptions) {}

  /** Models currently holding a session. */
  loaded(): LoadedModel[] {
    return [...this.sessions.values()].map((e) => e.model);
  }

  /**
   * Loads `graph` built from `weights`, reusing a loaded session or a cached compiled graph when the
   * same weights (and LoRA set) were used before. Progress goes 0 → 1 with a message per stage.
   * Cheap when the model is already loaded, so callers may call it before every run.
   */
  async load(graph: GraphSpec, weights: IdentifiedWeights, progress: ProgressFn = () => {}): Promise<LoadedModel> {
    const name = describeGraph(graph);
    let fingerprint = this.fingerprints.get(weights);
    if (!fingerprint) {
      progress(0, `identifying ${name} weights`);
      fingerprint = weights.fingerprint();
      this.fingerprints.set(weights, fingerprint);
    }
    const weightsId = await fingerprint;
    const id = `${weightsId}/${name}`;
    const existing = this.sessions.get(id);
    if (existing) return existing.model;
    if (graph.part === 'unet') await this.replaceUNets(weightsId);
    // Two callers asking for the same model at once share one build and one session.
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.open(id, name, graph, weights, weightsId, progress).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async open(id: string, name: string, graph: GraphSpec, weights: IdentifiedWeights, fingerprint: string, progress: ProgressFn): Promise<LoadedModel> {
    const requested = this.options.providers ?? PROVIDER_ORDER;
    const knownFailures = requested.filter((p) => this.failed.has(p)).map((p) => ({ provider: p, error: this.failed.get(p)! }));
    let fromCache = false;
    const { session, provider, skipped: skippedNow } = await createSessionInOrder(requested.filter((p) => !this.failed.has(p)), async (p) => {
      const flavour = flavourOf(p, graph, weights);
      const key: CompiledGraphKey = { weights: fingerprint, graph: name, ...flavour };
      if (!findCompiledGraph(this.options.cacheDir, key)) progress(0.1, `building the ${name} graph (${flavour.precision}) for ${p}`);
      // Weights are converted and written as the graph is built; progress is against all of the component's
      // weights in this precision (a graph of part of the UNet ends below 100% until it is done).
      const total = weightBytes(weights, flavour.precision);
      let shown = -1;
      const saving = (fraction: number) => {
        const percent = Math.round(Math.min(1, fraction) * 100);
        if (percent !== shown) progress(0.1 + 0.5 * (percent / 100), `saving the ${name} graph (${percent}%)`);
        shown = percent;
      };
      const { file, built } = await compiledGraph(this.options.cacheDir, key, (sink) => buildGraph(graph, weights, { ...flavour, sink }), (bytes) => saving(bytes / total));
      if (built) saving(1);
      fromCache = !built;
      progress(0.6, `starting ${name} on ${p}`);
      return file;
    }, { threads: this.options.threads, convolutionLayout: graph.part === 'vae_encoder' || graph.part === 'vae_decoder' });
    // A provider that starts but cannot run this model (an operator it lacks, out of memory) is
    // not tried again in this process; the next model goes straight to the one that worked.
    for (const s of skippedNow) this.failed.set(s.provider, s.error);
    const skipped = [...knownFailures, ...skippedNow].sort((a, b) => requested.indexOf(a.provider) - requested.indexOf(b.provider));

    const entry: Entry = { model: undefined as unknown as LoadedModel, session, weights: fingerprint, part: graph.part, running: 0, releaseWhenIdle: false };
    const model: LoadedModel = {
      name, provider, skipped, fromCache,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run: async (feeds, outputs) => {
        if (this.sessions.get(id) !== entry) throw new Error(`${name} was released`);
        const missing = session.inputNames.filter((n) => !(n in feeds));
        if (missing.length) throw new UserError(`${name} needs inputs ${missing.join(', ')}`);
        entry.running++;
        try {
          return await (outputs ? session.run(feeds, outputs as string[]) : session.run(feeds));
        } finally {
          entry.running--;
          if (entry.releaseWhenIdle && entry.running === 0) await this.release(model);
        }
      },
    };
    entry.model = model;
    this.sessions.set(id, entry);
    progress(1, `${name} ready on ${provider}`);
    return model;
  }

  /**
   * Whether `model` still holds its session (a replaced or released one must be loaded again). */
  holds(model: LoadedModel): boolean {
    for (const entry of this.sessions.values()) if (entry.model === model && !entry.releaseWhenIdle) return true;
    return false;
  }

  /**
   * Before a full-UNet variant of `weights` is loaded, the other full-UNet variants of the same weights are
   * released (once their runs in flight end): each holds every UNet weight, so two would map the whole
   * model twice (twice the resident memory of the weights, npm run bench -- models). A render uses one
   * variant at a time (the anchor's record variant, then later keyframes' inject variant); switching
   * back creates the session again from the cached graph. FRESCO's split parts (unet_encoder,
   * unet_decoder) are used together at every step and are left alone.
   */
  private async replaceUNets(weights: string): Promise<void> {
    for (const entry of [...this.sessions.values()]) {
      if (entry.part !== 'unet' || entry.weights !== weights || entry.releaseWhenIdle) continue;
      if (entry.running > 0) entry.releaseWhenIdle = true;
      else await this.release(entry.model);
    }
  }

  /** Frees one model's session (its memory on the device goes back at once). */
  async release(model: LoadedModel): Promise<void> {
    for (const [id, entry] of this.sessions) {
      if (entry.model !== model) continue;
      this.sessions.delete(id);
      await entry.session.release();
    }
  }

  /** Frees every session, e.g. when the user switches checkpoints. */
  async releaseAll(): Promise<void> {
    const entries = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(entries.map((e) => e.session.release()));
  }
}

/** Which provider ran the loaded models and which were passed over with the reason, for render summaries. */
export function providerReport(runtime: ModelRuntime): { provider?: ProviderName; skippedProviders?: Array<{ provider: ProviderName; reason: string }> } {
  const first = runtime.loaded()[0];
  return first ? { provider: first.provider, skippedProviders: first.skipped.map((s) => ({ provider: s.provider, reason: s.error })) } : {};
}
