// The diffusion models a keyframe render needs (CLIP text encoder, UNet in its plain / record / inject
// variants, ControlNet, VAE), opened from the user's model selection and run through the model runtime:
// prompt conditioning, one CFG noise prediction with optional ControlNet and cross-frame tokens, VAE
// encode and decode. Counts UNet calls for the benchmarks.
import * as ort from '../../../native-models/src/runtime/onnxruntime';
import { UserError, type ProgressFn } from '../../../native-models/src/errors';
import { ModelRuntime, type LoadedModel } from '../../../native-models/src/runtime/model-runtime';
import { loadComponentWeights, type LoraSpec, type ModelConfig, type WeightSource } from '../../../native-models/src/weights/model-weights';
import { crossFrameLayers, describeGraph, looseLayers, strictLayers, type GraphSpec, type UNetVariant } from '../../../native-models/src/graphs';
import { unetConfig, vaeConfig } from '../../../native-models/src/graphs/config';
import { ClipTokenizer } from '../../../native-models/src/tokenizer';
import type { Planar } from './latent';

/** Absolute paths of the models a render uses. */
export interface ModelFiles {
  /** SD1.5-family checkpoint: a single .safetensors file or a diffusers folder. */
  checkpoint: string;
  /** Optional VAE override (file or folder). */
  vae?: string | null;
  /** Optional ControlNet (file or folder). */
  controlnet?: string | null;
  loras: LoraSpec[];
  /** 1 = last layer (standard), 2 = penultimate layer with the final LayerNorm ("CLIP skip 2"). */
  clipSkip: number;
  /** Folder with vocab.json and merges.txt. */
  tokenizer: string;
  /** Config fields that replace the model's (tests with the tiny fixture models pass theirs). */
  configs?: Partial<Record<'unet' | 'vae' | 'text_encoder' | 'controlnet', ModelConfig>>;
}

/** Inputs of one noise prediction for both CFG branches ([uncond, cond]). */
export interface NoiseRequest {
  /** x_t, [1, C, h, w]: the same latent goes to both branches. */
  sample: Float32Array;
  timestep: number;
  /** [2, 77, D] from encodePrompt. */
  context: Float32Array;
  /** ControlNet conditioning image [3, H, W] in [0, 1] and its strength, when used. */
  control?: { image: Planar; strength: number };
  /** Cross-frame reference tokens per injected layer, [2, M, C] each (branch-major). */
  reference?: Map<number, Float32Array>;
  /** Also return each decoder self-attention layer's input tokens. */
  record?: boolean;
}

export interface NoiseResult {
  /** ε per branch: [uncond, cond], each C·h·w long. */
  uncond: Float32Array;
  cond: Float32Array;
  /** recorded_tokens.i per layer, [2, tokens, channels], when requested. */
  tokens?: Float32Array[];
}

/** Size of one decoder self-attention layer's tokens at a given latent size. */
export interface TokenLayout { tokens: number; channels: number }

export class DiffusionModels {
  /** UNet evaluations so far (one per CFG batch), for the benchmark figures. */
  unetCalls = 0;
  /** VAE passes so far, for the benchmark figures. */
  vaeEncodes = 0;
  vaeDecodes = 0;
  /** Things the user should know about (truncated prompts, LoRA modules that matched nothing). */
  readonly warnings = new Set<string>();
  readonly latentChannels: number;
  readonly scalingFactor: number;
  /** Decoder self-attention layers, and which of them strict and loose cross-frame attention inject. */
  readonly layerCount: number;
  readonly strict: number[];
  readonly loose: number[];
  private readonly layerModules: string[];

  private constructor(
    private readonly runtime: ModelRuntime,
    private readonly files: ModelFiles,
    private readonly tokenizer: ClipTokenizer,
    private readonly weights: { unet: WeightSource; vae: WeightSource; text: WeightSource; controlnet?: WeightSource },
    private readonly progress: ProgressFn,
  ) {
    const layers = crossFrameLayers(unetConfig(weights.unet.config), weights.unet);
    this.layerModules = layers.map((l) => l.module);
    this.layerCount = layers.length;
    this.strict = strictLayers(layers);
    this.loose = looseLayers(layers);
    const vae = vaeConfig(weights.vae.config);
    this.latentChannels = vae.latentChannels;
    this.scalingFactor = vae.scalingFactor;
    for (const w of [weights.unet, weights.text, weights.vae, weights.controlnet].flatMap((s) => s?.warnings ?? [])) this.warnings.add(w);
  }

  static async open(runtime: ModelRuntime, files: ModelFiles, progress: ProgressFn = () => {}): Promise<DiffusionModels> {
    if (files.clipSkip !== 1 && files.clipSkip !== 2) throw new UserError(`CLIP skip ${files.clipSkip} is not supported (use 1 or 2)`);
    const opened: WeightSource[] = [];
    const open = async (source: string, component: 'unet' | 'vae' | 'text_encoder' | 'controlnet', loras: LoraSpec[] = []) => {
      const w = await loadComponentWeights(source, component, { loras, config: files.configs?.[component] });
      opened.push(w);
      return w;
    };
    try {
      const tokenizer = await ClipTokenizer.load(files.tokenizer);
      const unet = await open(files.checkpoint, 'unet', files.loras);
      const text = await open(files.checkpoint, 'text_encoder', files.loras);
      const vae = await open(files.vae || files.checkpoint, 'vae');
      const controlnet = files.controlnet ? await open(files.controlnet, 'controlnet') : undefined;
      return new DiffusionModels(runtime, files, tokenizer, { unet, vae, text, controlnet }, progress);
    } catch (err) {
      await Promise.all(opened.map((w) => w.close()));
      throw err;
    }
  }

  get hasControlNet(): boolean { return this.weights.controlnet !== undefined; }

  /** The UNet (with the project's LoRAs merged) and ControlNet weights, for FRESCO's batched UNet to share. */
  get unetWeights(): WeightSource { return this.weights.unet; }
  get controlnetWeights(): WeightSource | undefined { return this.weights.controlnet; }

  /** Frees the weight files; sessions stay in the runtime for the next render. */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.weights).map((w) => w?.close()));
  }

  /** Sessions by graph name: the runtime fingerprints the weight files on every load, so ask it once. */
  private readonly sessions = new Map<string, Promise<LoadedModel>>();

  /** Sessions this object got, once resolved: the runtime may have released one since (see held). */
  private readonly resolved = new Map<string, LoadedModel>();

  private async load(spec: GraphSpec, weights: WeightSource): Promise<LoadedModel> {
    const name = describeGraph(spec);
    const had = this.resolved.get(name);
    // The runtime keeps one full-UNet variant of a model at a time: a replaced one is loaded again.
    if (had && !this.runtime.holds(had)) { this.sessions.delete(name); this.resolved.delete(name); }
    let s = this.sessions.get(name);
    if (!s) {
      s = this.runtime.load(spec, weights, (f, m) => this.progress(0, m ?? `loading models ${Math.round(f * 100)}%`));
      s.then((m) => this.resolved.set(name, m), () => this.sessions.delete(name));
      this.sessions.set(name, s);
    }
    return s;
  }

  /** Whether the graph `spec` is loaded and still held by the runtime. */
  private held(spec: GraphSpec): boolean {
    const m = this.resolved.get(describeGraph(spec));
    return !!m && this.runtime.holds(m);
  }

  private unet(variant: UNetVariant): Promise<LoadedModel> {
    return this.load({ part: 'unet', variant }, this.weights.unet);
  }

  /** Prompt and negative prompt → conditioning [2, 77, D] in CFG order (negative first). */
  async encodePrompt(prompt: string, negative: string): Promise<{ context: Float32Array; warnings: string[] }> {
    const model = await this.load({ part: 'text_encoder' }, this.weights.text);
    const a = this.tokenizer.tokenize(negative), b = this.tokenizer.tokenize(prompt);
    const ids = BigInt64Array.from([...a.inputIds, ...b.inputIds].map((n) => BigInt(n)));
    const output = this.files.clipSkip === 2 ? 'penultimate_final_ln' : 'last_hidden_state';
    const r = await model.run({ input_ids: new ort.Tensor('int64', ids, [2, a.inputIds.length]) }, [output]);
    const warnings = [b.warning && `prompt: ${b.warning}`, a.warning && `negative prompt: ${a.warning}`].filter((w): w is string => !!w);
    for (const w of warnings) this.warnings.add(w);
    return { context: r[output].data as Float32Array, warnings };
  }

  /** One UNet evaluation of both CFG branches, with ControlNet residuals and cross-frame tokens as asked. */
  async predictNoise(req: NoiseRequest, height: number, width: number): Promise<NoiseResult> {
    const c = this.latentChannels;
    const n = c * height * width;
    const sample = new Float32Array(2 * n);
    sample.set(req.sample, 0);
    sample.set(req.sample, n);
    const d = req.context.length / (2 * 77);
    const feeds: Record<string, ort.Tensor> = {
      sample: new ort.Tensor('float32', sample, [2, c, height, width]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([BigInt(req.timestep)]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', req.context, [2, 77, d]),
    };
    const useControl = !!req.control && this.hasControlNet;
    if (useControl) {
      const net = await this.load({ part: 'controlnet' }, this.weights.controlnet!);
      const img = req.control!.image;
      const cond = new Float32Array(2 * img.data.length);
      cond.set(img.data, 0);
      cond.set(img.data, img.data.length);
      const residuals = await net.run({
        ...feeds,
        controlnet_cond: new ort.Tensor('float32', cond, [2, 3, img.height, img.width]),
        conditioning_scale: new ort.Tensor('float32', Float32Array.from([req.control!.strength]), [1]),
      });
      for (const [name, t] of Object.entries(residuals)) feeds[name] = t;
    }
    const inject = req.reference ? [...req.reference.keys()].sort((a, b) => a - b) : [];
    const record = !!req.record;
    // A record variant already in memory also serves plain steps (its extra outputs are not fetched),
    // so mixing recorded and plain steps does not switch sessions (the runtime holds one UNet variant).
    const recordLoaded = this.held({ part: 'unet', variant: { controlNet: useControl, record: true, inject: [] } });
    const unet = await this.unet({ controlNet: useControl, record: record || inject.length > 0 || recordLoaded, inject });
    for (const i of inject) {
      const ref = req.reference!.get(i)!;
      const channels = this.layerChannels(i);
      feeds[`reference_tokens.${i}`] = new ort.Tensor('float32', ref, [2, ref.length / (2 * channels), channels]);
    }
    const outputs = ['noise_pred', ...(record ? Array.from({ length: this.layerCount }, (_, i) => `recorded_tokens.${i}`) : [])];
    const r = await unet.run(feeds, outputs);
    this.unetCalls++;
    const eps = r.noise_pred.data as Float32Array;
    return {
      uncond: eps.subarray(0, n),
      cond: eps.subarray(n, 2 * n),
      tokens: record ? Array.from({ length: this.layerCount }, (_, i) => r[`recorded_tokens.${i}`].data as Float32Array) : undefined,
    };
  }

  /** Channels of decoder self-attention layer i (the width of its up block). */
  layerChannels(i: number): number {
    return this.weights.unet.shape(`${this.layerModules[i]}.to_q.weight`)[0];
  }

  /** Image [3, H, W] in [−1, 1] → latent z₀ = scaling · mean of the encoder's distribution. */
  async encode(image: Planar): Promise<Float32Array> {
    const model = await this.load({ part: 'vae_encoder' }, this.weights.vae);
    const r = await model.run({ image: new ort.Tensor('float32', image.data, [1, 3, image.height, image.width]) }, ['mean']);
    this.vaeEncodes++;
    const mean = r.mean.data as Float32Array;
    return Float32Array.from(mean, (v) => v * this.scalingFactor);
  }

  /** Latent [C, h, w] → image [3, 8h, 8w] in about [−1, 1]. */
  async decode(latent: Float32Array, height: number, width: number): Promise<Planar> {
    const model = await this.load({ part: 'vae_decoder' }, this.weights.vae);
    const scaled = Float32Array.from(latent, (v) => v / this.scalingFactor);
    const r = await model.run({ latent: new ort.Tensor('float32', scaled, [1, this.latentChannels, height, width]) }, ['image']);
    this.vaeDecodes++;
    const dims = r.image.dims as number[];
    return { channels: 3, height: dims[2], width: dims[3], data: r.image.data as Float32Array };
  }
}
