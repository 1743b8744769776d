// Reads a model component's configuration from its tensor names and shapes, for single-file weights,
// which carry no config.json: channel widths, blocks per level, which levels have attention, context
// width, text-encoder depth and width, VAE widths. A few settings leave no trace in the weights
// (GroupNorm groups, attention heads); those come, in this order, from a diffusers config beside the file
// that agrees with the weights (the Hugging Face repositories that ship a single file next to unet/,
// vae/, … folders), from the known family the structure matches (SD1.5), or from a stated guess.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import type { Component } from './sd15-config';
import { SD15_CONFIGS, type ModelConfig } from './sd15-config';

/** Shape of a tensor by its diffusers name, undefined when absent. */
export type ShapeOf = (name: string) => number[] | undefined;

/** A config read from the weights, and what of it could not be read there. */
export interface InferredConfig {
  config: ModelConfig;
  /** Where the settings the weights do not record came from. */
  unrecorded: 'config beside the file' | 'SD1.5 family' | 'guessed';
  /** One line for the user when settings were guessed (undefined otherwise). */
  warning?: string;
}

/** Settings a component's weights do not record, and that a config beside the file or the family supplies. */
const UNRECORDED: Record<Component, string[]> = {
  unet: ['sample_size', 'norm_num_groups', 'attention_head_dim', 'num_attention_heads', 'norm_eps', 'flip_sin_to_cos', 'freq_shift', 'upcast_attention'],
  controlnet: ['norm_num_groups', 'attention_head_dim', 'num_attention_heads', 'norm_eps', 'flip_sin_to_cos', 'freq_shift', 'upcast_attention', 'controlnet_conditioning_channel_order'],
  vae: ['sample_size', 'norm_num_groups', 'scaling_factor', 'force_upcast'],
  text_encoder: ['num_attention_heads', 'hidden_act', 'layer_norm_eps'],
};

/** Structural fields inferred from the weights that a config beside the file must agree with to be used. */
const STRUCTURAL: Record<Component, string[]> = {
  unet: ['block_out_channels', 'layers_per_block', 'down_block_types', 'up_block_types', 'cross_attention_dim', 'in_channels', 'out_channels', 'use_linear_projection'],
  controlnet: ['block_out_channels', 'layers_per_block', 'down_block_types', 'cross_attention_dim', 'in_channels', 'conditioning_embedding_out_channels', 'use_linear_projection'],
  vae: ['block_out_channels', 'layers_per_block', 'latent_channels', 'in_channels', 'out_channels'],
  text_encoder: ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'vocab_size', 'max_position_embeddings'],
};

/** Distinct values of the number after `prefix` in the names, sorted. */
function indicesAfter(names: Iterable<string>, prefix: string): number[] {
  const found = new Set<number>();
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = /^(\d+)\./.exec(n.slice(prefix.length));
    if (m) found.add(Number(m[1]));
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The few config fields that original (LDM) key names need before they can be mapped to diffusers names:
 * blocks per level (where each level's downsampler sits among the input blocks), the number of VAE levels,
 * and the ControlNet hint block's length. `names` are without the component's prefix.
 */
export function ldmMappingHints(component: Component, names: string[]): ModelConfig {
  const hints: ModelConfig = {};
  if (component === 'unet' || component === 'controlnet') {
    const downsamplers = indicesAfter(names.filter((n) => /^input_blocks\.\d+\.0\.op\./.test(n)), 'input_blocks.');
    const blocks = indicesAfter(names, 'input_blocks.');
    hints.layers_per_block = downsamplers.length ? downsamplers[0] - 1 : Math.max(1, blocks.length - 1);
  }
  if (component === 'controlnet') {
    const convs = indicesAfter(names.filter((n) => /^input_hint_block\.\d+\.weight$/.test(n)), 'input_hint_block.');
    hints.conditioning_embedding_out_channels = Array.from({ length: Math.max(1, convs.length / 2) }, () => 0);
  }
  if (component === 'vae') {
    const levels = indicesAfter(names, 'encoder.down.');
    hints.block_out_channels = Array.from({ length: Math.max(1, levels.length) }, () => 0);
  }
  return hints;
}

function need(shape: ShapeOf, name: string, file: string, dims?: number): number[] {
  const s = shape(name);
  if (!s || (dims !== undefined && s.length < dims)) throw new UserError(`has no usable tensor "${name}", so its configuration cannot be read from the weights (is it a complete model?)`, file);
  return s;
}

/** The UNet's or ControlNet's encoder half, shared by both. */
function encoderHalf(names: string[], shape: ShapeOf, file: string): ModelConfig {
  const levels = indicesAfter(names, 'down_blocks.');
  if (!levels.length) throw new UserError('has no down blocks, so its configuration cannot be read from the weights', file);
  const widths = levels.map((i) => need(shape, `down_blocks.${i}.resnets.0.conv1.weight`, file, 4)[0]);
  const layers = indicesAfter(names, 'down_blocks.0.resnets.').length;
  const downTypes = levels.map((i) => (names.some((n) => n.startsWith(`down_blocks.${i}.attentions.`)) ? 'CrossAttnDownBlock2D' : 'DownBlock2D'));
  const toK = names.find((n) => /attn2\.to_k\.weight$/.test(n));
  const projIn = names.find((n) => /attentions\.\d+\.proj_in\.weight$/.test(n));
  const depth = names.some((n) => /attentions\.\d+\.transformer_blocks\.1\./.test(n)) ? Math.max(...names.map((n) => Number(/attentions\.\d+\.transformer_blocks\.(\d+)\./.exec(n)?.[1] ?? 0))) + 1 : 1;
  const config: ModelConfig = {
    in_channels: need(shape, 'conv_in.weight', file, 4)[1],
    block_out_channels: widths,
    layers_per_block: layers,
    down_block_types: downTypes,
    mid_block_type: names.some((n) => n.startsWith('mid_block.attentions.')) ? 'UNetMidBlock2DCrossAttn' : 'UNetMidBlock2D',
    transformer_layers_per_block: depth,
  };
  if (toK) config.cross_attention_dim = need(shape, toK, file, 2)[1];
  if (projIn) config.use_linear_projection = need(shape, projIn, file).length === 2; // SD2 uses linear projections, SD1 1×1 convs
  return config;
}

/** The structural part of a component's config, from diffusers-named weights. */
export function structureFromWeights(component: Component, names: string[], shape: ShapeOf, file: string): ModelConfig {
  switch (component) {
    case 'unet': {
      const config = encoderHalf(names, shape, file);
      const ups = indicesAfter(names, 'up_blocks.');
      config.up_block_types = ups.map((i) => (names.some((n) => n.startsWith(`up_blocks.${i}.attentions.`)) ? 'CrossAttnUpBlock2D' : 'UpBlock2D'));
      config.out_channels = need(shape, 'conv_out.weight', file, 4)[0];
      return config;
    }
    case 'controlnet': {
      const config = encoderHalf(names, shape, file);
      const blocks = indicesAfter(names, 'controlnet_cond_embedding.blocks.');
      // conv_in, then per step a same-width conv and a stride-2 conv to the next width: the odd blocks.
      config.conditioning_embedding_out_channels = [need(shape, 'controlnet_cond_embedding.conv_in.weight', file, 4)[0],
        ...blocks.filter((b) => b % 2 === 1).map((b) => need(shape, `controlnet_cond_embedding.blocks.${b}.weight`, file, 4)[0])];
      config.conditioning_channels = need(shape, 'controlnet_cond_embedding.conv_in.weight', file, 4)[1];
      return config;
    }
    case 'vae': {
      const levels = indicesAfter(names, 'encoder.down_blocks.');
      if (!levels.length) throw new UserError('has no VAE encoder blocks, so its configuration cannot be read from the weights', file);
      const latent = need(shape, 'decoder.conv_in.weight', file, 4)[1];
      return {
        in_channels: need(shape, 'encoder.conv_in.weight', file, 4)[1],
        out_channels: need(shape, 'decoder.conv_out.weight', file, 4)[0],
        block_out_channels: levels.map((i) => need(shape, `encoder.down_blocks.${i}.resnets.0.conv1.weight`, file, 4)[0]),
        layers_per_block: indicesAfter(names, 'encoder.down_blocks.0.resnets.').length,
        latent_channels: latent,
        use_quant_conv: names.includes('quant_conv.weight'),
        use_post_quant_conv: names.includes('post_quant_conv.weight'),
        mid_block_add_attention: names.some((n) => n.startsWith('encoder.mid_block.attentions.')),
      };
    }
    case 'text_encoder': {
      const tokens = need(shape, 'text_model.embeddings.token_embedding.weight', file, 2);
      const layers = indicesAfter(names, 'text_model.encoder.layers.');
      return {
        vocab_size: tokens[0],
        hidden_size: tokens[1],
        max_position_embeddings: need(shape, 'text_model.embeddings.position_embedding.weight', file, 2)[0],
        num_hidden_layers: layers.length,
        intermediate_size: need(shape, 'text_model.encoder.layers.0.mlp.fc1.weight', file, 2)[0],
        projection_dim: tokens[1],
      };
    }
  }
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Whether `structure` is exactly the SD1.5 component's. */
function isSd15(component: Component, structure: ModelConfig): boolean {
  const family = SD15_CONFIGS[component] as ModelConfig;
  return STRUCTURAL[component].every((k) => same(structure[k], family[k]));
}

/** The diffusers config of this component in the file's own folder (`unet/config.json`, …), if it has one. */
function configBeside(file: string, component: Component): ModelConfig | undefined {
  const candidate = path.join(path.dirname(file), component, 'config.json');
  try {
    const parsed = JSON.parse(fs.readFileSync(candidate, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as ModelConfig : undefined;
  } catch {
    return undefined;
  }
}

/** Largest power of two up to 32 that divides every width with at least two channels per group. */
function guessGroups(widths: number[]): number {
  for (let g = 32; g > 1; g /= 2) if (widths.every((w) => w % g === 0 && w / g >= 2)) return g;
  return 1;
}

/**
 * The full config of a single-file component: SD1.5's defaults, the structure read from the weights,
 * and the unrecorded settings from a config beside the file, the SD1.5 family, or a guess (with a warning).
 */
export function inferConfig(component: Component, names: string[], shape: ShapeOf, file: string): InferredConfig {
  const structure = structureFromWeights(component, names, shape, file);
  const base: ModelConfig = { ...(SD15_CONFIGS[component] as ModelConfig), ...structure };
  const beside = configBeside(file, component);
  if (beside && STRUCTURAL[component].every((k) => structure[k] === undefined || beside[k] === undefined || same(structure[k], beside[k]))) {
    const taken = Object.fromEntries(UNRECORDED[component].filter((k) => beside[k] !== undefined).map((k) => [k, beside[k]]));
    return { config: { ...base, ...taken }, unrecorded: 'config beside the file' };
  }
  if (isSd15(component, structure)) return { config: base, unrecorded: 'SD1.5 family' };
  // Not SD1.5's sizes: a scaled model of the same structure. Groups and heads are not in the weights.
  const guessed: string[] = [];
  const config = { ...base };
  if (component === 'text_encoder') {
    const width = structure.hidden_size as number;
    config.num_attention_heads = width % 64 === 0 ? width / 64 : 1; // CLIP's head size is 64
    guessed.push(`${config.num_attention_heads} attention head${config.num_attention_heads === 1 ? '' : 's'}`);
  } else {
    config.norm_num_groups = guessGroups(structure.block_out_channels as number[]);
    guessed.push(`${config.norm_num_groups} GroupNorm groups`);
  }
  const where = `${component}/config.json`;
  const label = { unet: 'UNet', vae: 'VAE', text_encoder: 'text encoder', controlnet: 'ControlNet' }[component];
  return {
    config, unrecorded: 'guessed',
    warning: `${path.basename(file)}: its ${label} has sizes of no known family (not SD1.5's); ${guessed.join(', ')} assumed, since the weights do not record ${guessed.length > 1 ? 'them' : 'it'}; put the model's ${where} beside the file to give the real value`,
  };
}
