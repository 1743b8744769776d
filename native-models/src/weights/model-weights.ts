// Loads one model component's weights (UNet, VAE, text encoder, ControlNet) from a single-file checkpoint
// or a diffusers folder, under diffusers names, with LoRAs merged; tensors are read lazily, one at a time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { SafetensorsFile } from './safetensors';
import { SD15_CONFIGS, type Component, type ModelConfig } from './sd15-config';
import { controlnetKeyFromLdm, textEncoderKeyFromLdm, unetKeyFromLdm, unetModuleFromLdmLoraName, vaeKeyFromDiffusers, vaeKeyFromLdm, type KeyMapping } from './checkpoint-keys';
import { applyLoraPatches, openLora, planLoraMerge, type LoraFile, type LoraPatch } from './lora';
import { componentWeightFile, describeSafetensors, unetInputProblem, weightsProblem, WEIGHT_FILES } from './detect-model';
import { inferConfig, ldmMappingHints } from './infer-config';

export { detectModelFile, type ModelDescription, type ModelKind } from './detect-model';
export type { Component, ModelConfig } from './sd15-config';

export interface Tensor { shape: number[]; data: Float32Array }

/** Weights of one model component in DIFFUSERS naming (unet: diffusers UNet2DConditionModel keys,
 *  vae: AutoencoderKL keys with mid-block attention as [C,C] linear weights, text_encoder: transformers
 *  CLIPTextModel keys `text_model.*`, controlnet: diffusers ControlNetModel keys), merged LoRAs applied. */
export interface WeightSource {
  readonly component: Component;
  /** The model config (diffusers config.json fields): the folder's, or read from a single file's weights, with caller overrides. */
  readonly config: ModelConfig;
  /** Non-fatal findings the UI can show, e.g. LoRA modules that matched nothing. */
  readonly warnings: string[];
  names(): string[];
  has(name: string): boolean;
  /** Shape without reading the data. */
  shape(name: string): number[];
  /** Reads the tensor now (float32), LoRA merged; each call reads the file again, so keep what you need. */
  get(name: string): Tensor;
  /** Identity of these exact weights + LoRA set, for caching compiled graphs (see fingerprintFiles). */
  fingerprint(): Promise<string>;
  /** Releases the open files. */
  close(): Promise<void>;
}

export interface LoraSpec { file: string; multiplier: number }

export interface LoadOptions {
  loras?: LoraSpec[];
  /** Config fields that replace the folder's or the SD1.5 defaults (tests pass the fixture's). */
  config?: ModelConfig;
}

interface Entry { file: SafetensorsFile; key: string; squeeze: boolean }

class LoadedWeights implements WeightSource {
  constructor(
    readonly component: Component,
    readonly config: ModelConfig,
    readonly warnings: string[],
    private readonly source: string,
    private readonly entries: Map<string, Entry>,
    private readonly files: SafetensorsFile[],
    private readonly patches: Map<string, LoraPatch[]>,
    private readonly loras: Array<{ lora: LoraFile; multiplier: number }>,
  ) {}

  names(): string[] { return [...this.entries.keys()]; }
  has(name: string): boolean { return this.entries.has(name); }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new UserError(`has no ${this.component} weight "${name}"; is it a complete SD1.5-family model?`, this.source);
    return e;
  }

  shape(name: string): number[] {
    const e = this.entry(name);
    const shape = e.file.info(e.key).shape;
    return e.squeeze && shape.length === 4 && shape[2] === 1 && shape[3] === 1 ? shape.slice(0, 2) : shape.slice();
  }

  get(name: string): Tensor {
    const e = this.entry(name);
    const shape = this.shape(name);
    const data = e.file.readFloat32Sync(e.key);
    const patches = this.patches.get(name);
    if (patches) applyLoraPatches(data, shape, patches);
    return { shape, data };
  }

  async fingerprint(): Promise<string> {
    const hash = crypto.createHash('sha256').update(`${this.component}\n${JSON.stringify(this.config)}\n`);
    for (const f of this.files) hash.update(await fingerprintFile(f.file));
    for (const { lora, multiplier } of this.loras) hash.update(`lora ${multiplier}\n`).update(await fingerprintFile(lora.file.file));
    return hash.digest('hex');
  }

  async close(): Promise<void> {
    await Promise.all([...this.files, ...this.loras.map((l) => l.lora.file)].map((f) => f.close()));
  }
}

/**
 * A content fingerprint of a weight file that does not read all of a 4 GB checkpoint: size, header, and
 * 64 samples of 64 KiB spread over the data. Two fine-tunes share a header but not their bytes.
 */
export async function fingerprintFile(file: string): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const hash = crypto.createHash('sha256').update(`${size}\n`);
    const chunk = Buffer.alloc(64 * 1024);
    const samples = 64;
    for (let i = 0; i < samples; i++) {
      const position = Math.floor(((size - chunk.length) * i) / (samples - 1));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, Math.max(0, position));
      hash.update(chunk.subarray(0, bytesRead));
      if (size <= chunk.length) break;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

type Naming = { prefix: string; map: (key: string, config: ModelConfig) => KeyMapping | undefined };

const identity = (key: string): KeyMapping => ({ name: key });

/** Which key prefix and naming this file uses for the component; undefined when it holds none of it. */
function namingOf(st: SafetensorsFile, component: Component): Naming | undefined {
  const names = [...st.tensors.keys()];
  const has = (p: string) => names.some((n) => n.startsWith(p));
  switch (component) {
    case 'unet':
      if (has('model.diffusion_model.')) return { prefix: 'model.diffusion_model.', map: unetKeyFromLdm };
      if (st.tensors.has('conv_in.weight') && has('up_blocks.')) return { prefix: '', map: identity };
      return undefined;
    case 'vae':
      if (has('first_stage_model.')) return { prefix: 'first_stage_model.', map: vaeKeyFromLdm };
      if (has('encoder.down.') || has('decoder.up.')) return { prefix: '', map: vaeKeyFromLdm };
      if (has('encoder.down_blocks.')) return { prefix: '', map: vaeKeyFromDiffusers };
      return undefined;
    case 'text_encoder':
      if (has('cond_stage_model.transformer.')) return { prefix: 'cond_stage_model.transformer.', map: textEncoderKeyFromLdm };
      if (has('text_model.')) return { prefix: '', map: (k) => (k.endsWith('position_ids') ? undefined : identity(k)) };
      return undefined;
    case 'controlnet':
      if (has('control_model.')) return { prefix: 'control_model.', map: controlnetKeyFromLdm };
      // The original naming saved without its prefix (diffusers' loader accepts these too).
      if (has('input_hint_block.') && has('zero_convs.')) return { prefix: '', map: controlnetKeyFromLdm };
      if (has('controlnet_cond_embedding.')) return { prefix: '', map: identity };
      return undefined;
  }
}

/** The component's folder inside a diffusers pipeline folder, or the folder itself when it is one model. */
function componentFolder(dir: string, component: Component): string {
  const sub = path.join(dir, component);
  if (fs.existsSync(path.join(sub, 'config.json'))) return sub;
  if (fs.existsSync(path.join(dir, 'config.json')) && !fs.existsSync(path.join(dir, 'model_index.json'))) return dir;
  throw new UserError(`has no ${component}/ folder with a config.json (is it a diffusers model folder?)`, dir);
}

/** Weight files of a diffusers component folder: full precision first, then fp16, then shards listed by an index. */
function folderWeightFiles(dir: string, component: Component): string[] {
  const found = componentWeightFile(dir, component);
  if (found && !found.endsWith('.json')) return [found];
  if (found) {
    let map: Record<string, string>;
    try { map = JSON.parse(fs.readFileSync(found, 'utf8')).weight_map; } catch { throw new UserError('is not a valid shard index (expected a "weight_map")', found); }
    return [...new Set(Object.values(map ?? {}))].map((f) => path.join(dir, f));
  }
  const pickles = fs.readdirSync(dir).filter((f) => /\.(bin|ckpt|pt)$/.test(f));
  if (pickles.length) throw new UserError(`has only pickle weights (${pickles.join(', ')}); use a copy with .safetensors weights`, dir);
  throw new UserError(`has no ${WEIGHT_FILES[component]}.safetensors`, dir);
}

async function openAll(files: string[]): Promise<SafetensorsFile[]> {
  const opened: SafetensorsFile[] = [];
  try {
    for (const f of files) opened.push(await SafetensorsFile.open(f));
    return opened;
  } catch (err) {
    await Promise.all(opened.map((f) => f.close()));
    throw err;
  }
}

/** Loads one component from a single .safetensors file or a diffusers folder, merging the given LoRAs. A single
 *  file's config is read from its tensor names and shapes (see infer-config.ts). */
export async function loadComponentWeights(source: string, component: Component, opts: LoadOptions = {}): Promise<WeightSource> {
  let stat: fs.Stats;
  try { stat = await fs.promises.stat(source); } catch { throw new UserError('file not found', source); }
  let files: SafetensorsFile[];
  let config: ModelConfig | undefined;
  if (stat.isDirectory()) {
    const dir = componentFolder(source, component);
    try { config = JSON.parse(await fs.promises.readFile(path.join(dir, 'config.json'), 'utf8')) as ModelConfig; } catch (err) {
      throw new UserError(`config.json cannot be read (${(err as Error).message})`, dir);
    }
    const inputs = component === 'unet' && typeof config.in_channels === 'number' ? unetInputProblem(config.in_channels) : undefined;
    if (inputs) throw new UserError(inputs, dir);
    files = await openAll(folderWeightFiles(dir, component));
  } else {
    files = await openAll([source]);
  }
  const loras: Array<{ lora: LoraFile; multiplier: number }> = [];
  const warnings: string[] = [];
  try {
    const entries = new Map<string, Entry>();
    for (const file of files) {
      const naming = namingOf(file, component);
      if (!naming) {
        const what = describeSafetensors(file);
        throw new UserError(`holds no ${component} weights (it looks like: ${what.summary}${what.problem ? `; ${what.problem}` : ''})`, file.file);
      }
      const problem = weightsProblem(file.tensors);
      if (problem) throw new UserError(problem, file.file);
      const own = [...file.tensors.keys()].filter((k) => k.startsWith(naming.prefix)).map((k) => k.slice(naming.prefix.length));
      // Original key names are mapped with the few sizes their numbering depends on, read from the names.
      const mapping = { ...(SD15_CONFIGS[component] as ModelConfig), ...ldmMappingHints(component, own), ...config, ...opts.config };
      for (const [key, info] of file.tensors) {
        if (!key.startsWith(naming.prefix) || !['F32', 'F16', 'BF16', 'F64'].includes(info.dtype)) continue;
        const mapped = naming.map(key.slice(naming.prefix.length), mapping);
        if (mapped) entries.set(mapped.name, { file, key, squeeze: mapped.squeeze ?? false });
      }
    }
    const shapeOf = (name: string) => {
      const e = entries.get(name)!;
      const s = e.file.info(e.key).shape;
      return e.squeeze && s.length === 4 ? s.slice(0, 2) : s;
    };
    if (!config) {
      const inferred = inferConfig(component, [...entries.keys()], (name) => (entries.has(name) ? shapeOf(name) : undefined), source);
      config = inferred.config;
      if (inferred.warning && !opts.config) warnings.push(inferred.warning);
    }
    config = { ...config, ...opts.config };
    for (const spec of opts.loras ?? []) {
      if (!Number.isFinite(spec.multiplier)) throw new UserError(`LoRA multiplier must be a number, got ${spec.multiplier}`, spec.file);
      loras.push({ lora: await openLora(spec.file), multiplier: spec.multiplier });
    }
    const finalConfig = config;
    const alias = component === 'unet' ? (name: string) => unetModuleFromLdmLoraName(name, finalConfig) : undefined;
    const merge = planLoraMerge(component, entries.keys(), shapeOf, loras, alias);
    return new LoadedWeights(component, finalConfig, [...warnings, ...merge.warnings], source, entries, files, merge.patches, loras);
  } catch (err) {
    await Promise.all([...files, ...loras.map((l) => l.lora.file)].map((f) => f.close()));
    throw err;
  }
}
