// Kohya-format LoRA files: reading, matching their modules to a model's real weights, and merging
// W' = W + multiplier * (alpha / rank) * (up @ down) into linear, 1x1 and kxk conv weights at load time.
import { UserError } from '../errors';
import { SafetensorsFile } from './safetensors';
import { weightKernels } from './native-kernels';

/** One low-rank update found in a LoRA file. */
export interface LoraModule {
  /** kohya name without suffix, e.g. `lora_unet_down_blocks_0_attentions_0_proj_in` */
  key: string;
  down: string;
  up: string;
  rank: number;
  /** `.alpha` value, or rank when the file has none (kohya sd-scripts and A1111 do the same). */
  alpha: number;
}

export interface LoraFile { file: SafetensorsFile; modules: Map<string, LoraModule> }

/** A merge to apply to one weight when it is read. */
export interface LoraPatch { lora: SafetensorsFile; module: LoraModule; multiplier: number }

const SUFFIX = /^(.+)\.(lora_down\.weight|lora_up\.weight|alpha)$/;

/** Opens a LoRA and checks that it is kohya LoRA for an SD1.5-family model; the message says what it is otherwise. */
export async function openLora(path: string): Promise<LoraFile> {
  const file = await SafetensorsFile.open(path);
  try {
    const modules = new Map<string, LoraModule>();
    const parts = new Map<string, { down?: string; up?: string; alpha?: string }>();
    for (const name of file.tensors.keys()) {
      if (/^lora_te[12]_/.test(name)) throw new UserError('is a LoRA for SDXL (two text encoders); only SD1.5-family LoRAs can be used', path);
      if (/\.(hada_|lokr_)/.test(name)) throw new UserError('is a LyCORIS LoHa/LoKr network; only plain LoRA (lora_down/lora_up) is supported', path);
      if (/\.lora_[AB]\.weight$/.test(name)) throw new UserError('is a PEFT/diffusers-format LoRA; only kohya-format LoRA (lora_unet_*/lora_te_*) is supported', path);
      const m = SUFFIX.exec(name);
      if (!m || !/^lora_(unet|te)_/.test(m[1])) continue; // e.g. dora_scale or metadata-like entries: not ours to use
      const p = parts.get(m[1]) ?? {};
      if (m[2] === 'lora_down.weight') p.down = name; else if (m[2] === 'lora_up.weight') p.up = name; else p.alpha = name;
      parts.set(m[1], p);
    }
    for (const [key, p] of parts) {
      if (!p.down || !p.up) throw new UserError(`LoRA module "${key}" lacks its ${p.down ? 'lora_up' : 'lora_down'} weight`, path);
      const rank = file.info(p.down).shape[0];
      const upShape = file.info(p.up).shape;
      if (!rank || upShape.length < 2 || upShape[1] !== rank || upShape.slice(2).some((d) => d !== 1)) {
        throw new UserError(`LoRA module "${key}" has mismatched shapes (down ${JSON.stringify(file.info(p.down).shape)}, up ${JSON.stringify(upShape)})`, path);
      }
      let alpha = rank;
      if (p.alpha) {
        const a = await file.readFloat32(p.alpha);
        if (a.length !== 1 || !Number.isFinite(a[0])) throw new UserError(`LoRA module "${key}" has an invalid alpha`, path);
        alpha = a[0];
      }
      modules.set(key, { key, down: p.down, up: p.up, rank, alpha });
    }
    if (modules.size === 0) throw new UserError('contains no kohya LoRA modules (lora_unet_* / lora_te_* with lora_down/lora_up weights)', path);
    return { file, modules };
  } catch (err) {
    await file.close();
    throw err;
  }
}

/** kohya module-name prefix per model component; other components take no LoRA. */
export const LORA_PREFIX: Partial<Record<string, string>> = { unet: 'lora_unet_', text_encoder: 'lora_te_' };

/**
 * Matches every module of each LoRA to a weight of the component. kohya names replace `.` by `_`, which
 * is ambiguous (`to_q`, `proj_in`), so the table is built from the component's real weight names.
 * Returns the patches per weight name and a warning per module that matched nothing.
 */
export function planLoraMerge(
  component: string,
  weightNames: Iterable<string>,
  shapeOf: (name: string) => number[],
  loras: Array<{ lora: LoraFile; multiplier: number }>,
  /** Second chance for a name in another naming scheme: returns the module path in the model's naming. */
  alias?: (kohyaName: string) => string | undefined,
): { patches: Map<string, LoraPatch[]>; warnings: string[] } {
  const patches = new Map<string, LoraPatch[]>();
  const warnings: string[] = [];
  const prefix = LORA_PREFIX[component];
  if (!prefix) return { patches, warnings };
  const table = new Map<string, string>();
  for (const name of weightNames) if (name.endsWith('.weight')) table.set(prefix + name.slice(0, -7).replace(/\./g, '_'), name);
  for (const { lora, multiplier } of loras) {
    const mine = [...lora.modules.values()].filter((m) => m.key.startsWith(prefix));
    let matched = 0;
    for (const module of mine) {
      const aliased = alias?.(module.key.slice(prefix.length));
      const target = table.get(module.key) ?? (aliased === undefined ? undefined : table.get(prefix + aliased.replace(/\./g, '_')));
      if (!target) { warnings.push(`${lora.file.file}: LoRA module "${module.key}" matches no ${component} weight; it was skipped`); continue; }
      const shape = shapeOf(target);
      const down = lora.file.info(module.down).shape;
      const up = lora.file.info(module.up).shape;
      const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
      if (up[0] !== shape[0] || down.slice(1).reduce((a, b) => a * b, 1) !== perRow) {
        throw new UserError(`LoRA module "${module.key}" does not fit ${component} weight "${target}" ${JSON.stringify(shape)} (down ${JSON.stringify(down)}, up ${JSON.stringify(up)}); is the LoRA for another model family?`, lora.file.file);
      }
      matched++;
      const list = patches.get(target) ?? [];
      list.push({ lora: lora.file, module, multiplier });
      patches.set(target, list);
    }
    if (mine.length > 0 && matched === 0) {
      throw new UserError(`none of its ${mine.length} ${component} modules matches this model; is the LoRA for another model family?`, lora.file.file);
    }
  }
  return { patches, warnings };
}

/** Adds every patch to `weight` (row-major, first dimension = output channels), in place. */
export function applyLoraPatches(weight: Float32Array, shape: number[], patches: LoraPatch[]): void {
  const rows = shape[0];
  const cols = weight.length / rows;
  const downs = patches.map((p) => p.lora.readFloat32Sync(p.module.down));
  const ups = patches.map((p) => p.lora.readFloat32Sync(p.module.up));
  const native = weightKernels();
  if (native) {
    // Full-size SD1.5 LoRAs are billions of multiply-adds: the addon spreads them over the cores.
    patches.forEach((p, i) => native.mergeLowRankSync(weight, ups[i], downs[i], p.module.rank, p.multiplier * (p.module.alpha / p.module.rank)));
    return;
  }
  const acc = new Float64Array(cols);
  for (let o = 0; o < rows; o++) {
    acc.fill(0);
    patches.forEach((p, pi) => {
      const r = p.module.rank;
      const scale = p.multiplier * (p.module.alpha / r);
      const up = ups[pi];
      const down = downs[pi];
      for (let k = 0; k < r; k++) {
        const u = up[o * r + k] * scale;
        if (u === 0) continue;
        const base = k * cols;
        for (let j = 0; j < cols; j++) acc[j] += u * down[base + j];
      }
    });
    const row = o * cols;
    for (let j = 0; j < cols; j++) weight[row + j] += acc[j];
  }
}
