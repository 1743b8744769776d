// The model configurations graph builders read (diffusers / transformers config.json fields) and the
// checks that reject models these builders cannot express. SD1.5 defaults live in weights/sd15-config.ts.
import { UserError } from '../errors';
import type { ModelConfig } from '../weights/sd15-config';

type JsonConfig = ModelConfig;

export interface UNetConfig {
  blockOutChannels: number[];
  layersPerBlock: number;
  groups: number;
  eps: number;
  /** Attention heads per down block (diffusers' `attention_head_dim` holds heads in SD1.x). */
  headsPerBlock: number[];
  downBlockTypes: string[];
  upBlockTypes: string[];
  flipSinToCos: boolean;
  freqShift: number;
  linearProjection: boolean;
  downsamplePadding: number;
  inChannels: number;
}

export interface VaeConfig {
  blockOutChannels: number[];
  layersPerBlock: number;
  groups: number;
  latentChannels: number;
  scalingFactor: number;
  forceUpcast: boolean;
}

export interface TextEncoderConfig {
  hiddenSize: number;
  layers: number;
  heads: number;
  eps: number;
  activation: 'quick_gelu' | 'gelu';
  maxPositions: number;
}

function num(c: JsonConfig, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`model config: "${key}" must be a number`);
  return v;
}

function numList(c: JsonConfig, key: string): number[] {
  const v = c[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number')) throw new UserError(`model config: "${key}" must be a list of numbers`);
  return v as number[];
}

function strList(c: JsonConfig, key: string, fallback?: string[]): string[] {
  const v = c[key] ?? fallback;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new UserError(`model config: "${key}" must be a list of names`);
  return v as string[];
}

/** Features of later SD versions (SDXL, SD2 v-models are fine) that these graphs do not build. */
function rejectUnsupported(c: JsonConfig, what: string): void {
  const unsupported = ['addition_embed_type', 'class_embed_type', 'time_cond_proj_dim', 'encoder_hid_dim', 'num_class_embeds'];
  for (const key of unsupported) {
    if (c[key] !== undefined && c[key] !== null) {
      throw new UserError(`${what} config sets "${key}" (${JSON.stringify(c[key])}): this is not a Stable Diffusion 1.5-compatible model (SDXL and similar are not supported)`);
    }
  }
  const tl = c.transformer_layers_per_block;
  if (tl !== undefined && tl !== null && tl !== 1 && !(Array.isArray(tl) && tl.every((x) => x === 1))) {
    throw new UserError(`${what} config has transformer_layers_per_block ${JSON.stringify(tl)}: not an SD1.5-compatible model`);
  }
  // Options SD1.5 leaves at their defaults; a model that changes one computes something else.
  const defaults: Array<[string, unknown]> = [
    ['resnet_time_scale_shift', 'default'], ['act_fn', 'silu'], ['time_embedding_type', 'positional'],
    ['attention_type', 'default'], ['only_cross_attention', false], ['dual_cross_attention', false],
    ['center_input_sample', false], ['resnet_out_scale_factor', 1], ['mid_block_scale_factor', 1],
    ['cross_attention_norm', null], ['global_pool_conditions', false],
  ];
  for (const [key, expected] of defaults) {
    const v = c[key];
    const isDefault = v === undefined || v === expected || (Array.isArray(v) && v.every((x) => x === expected));
    if (!isDefault) {
      throw new UserError(`${what} config sets ${key} = ${JSON.stringify(v)}; only SD1.5's ${JSON.stringify(expected)} is supported`);
    }
  }
}

/** UNet2DConditionModel or ControlNetModel config (they share these fields). */
export function unetConfig(c: JsonConfig, what = 'UNet'): UNetConfig {
  rejectUnsupported(c, what);
  const blockOutChannels = numList(c, 'block_out_channels');
  const downBlockTypes = strList(c, 'down_block_types');
  const heads = c.num_attention_heads ?? c.attention_head_dim ?? 8;
  const headsPerBlock = Array.isArray(heads) ? (heads as number[]) : blockOutChannels.map(() => heads as number);
  if (headsPerBlock.length !== blockOutChannels.length || !headsPerBlock.every((h) => typeof h === 'number')) {
    throw new UserError(`${what} config: attention heads must be a number or one number per block`);
  }
  if (downBlockTypes.length !== blockOutChannels.length) throw new UserError(`${what} config: down_block_types and block_out_channels differ in length`);
  return {
    blockOutChannels,
    layersPerBlock: num(c, 'layers_per_block', 2),
    groups: num(c, 'norm_num_groups', 32),
    eps: num(c, 'norm_eps', 1e-5),
    headsPerBlock,
    downBlockTypes,
    upBlockTypes: strList(c, 'up_block_types', [...downBlockTypes].reverse().map((t) => t.replace('Down', 'Up'))),
    flipSinToCos: c.flip_sin_to_cos === undefined ? true : Boolean(c.flip_sin_to_cos),
    freqShift: num(c, 'freq_shift', 0),
    linearProjection: Boolean(c.use_linear_projection),
    downsamplePadding: num(c, 'downsample_padding', 1),
    inChannels: num(c, 'in_channels', 4),
  };
}

export function vaeConfig(c: JsonConfig): VaeConfig {
  return {
    blockOutChannels: numList(c, 'block_out_channels'),
    layersPerBlock: num(c, 'layers_per_block', 2),
    groups: num(c, 'norm_num_groups', 32),
    latentChannels: num(c, 'latent_channels', 4),
    scalingFactor: num(c, 'scaling_factor', 0.18215),
    forceUpcast: c.force_upcast === undefined ? true : Boolean(c.force_upcast),
  };
}

export function textEncoderConfig(c: JsonConfig): TextEncoderConfig {
  const act = c.hidden_act ?? 'quick_gelu';
  if (act !== 'quick_gelu' && act !== 'gelu') throw new UserError(`text encoder config: unsupported hidden_act "${String(act)}"`);
  return {
    hiddenSize: num(c, 'hidden_size'),
    layers: num(c, 'num_hidden_layers'),
    heads: num(c, 'num_attention_heads'),
    eps: num(c, 'layer_norm_eps', 1e-5),
    activation: act,
    maxPositions: num(c, 'max_position_embeddings', 77),
  };
}
