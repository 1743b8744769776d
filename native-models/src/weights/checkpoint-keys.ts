// Translates original (CompVis/LDM, lllyasviel ControlNet) weight names into diffusers names. Block
// indices are derived from the model config (layers per block, number of blocks), never from SD1.5 tables.
import { configInt, configList, type ModelConfig } from './sd15-config';

/** Where a diffusers-named weight comes from, and whether a [C,C,1,1] kernel must become a [C,C] matrix. */
export interface KeyMapping { name: string; squeeze?: boolean }

const RESNET_UNET: Record<string, string> = {
  'in_layers.0': 'norm1', 'in_layers.2': 'conv1', 'emb_layers.1': 'time_emb_proj',
  'out_layers.0': 'norm2', 'out_layers.3': 'conv2', skip_connection: 'conv_shortcut',
};

/** `a.b.rest` -> replace the first one or two dotted parts using a table. */
function renameHead(rest: string, table: Record<string, string>): string | undefined {
  const parts = rest.split('.');
  const two = parts.slice(0, 2).join('.');
  if (table[two] !== undefined) return [table[two], ...parts.slice(2)].join('.');
  if (table[parts[0]] !== undefined) return [table[parts[0]], ...parts.slice(1)].join('.');
  return undefined;
}

/** Splits `12.1.rest` into [12, 1, 'rest']. */
function indices(key: string): [number, number, string] | undefined {
  const m = /^(\d+)\.(\d+)\.(.+)$/.exec(key);
  return m ? [Number(m[1]), Number(m[2]), m[3]] : undefined;
}

/**
 * UNet keys shared by the UNet and the ControlNet encoder half: time embedding, input blocks and
 * middle block. `key` is without the `model.diffusion_model.` / `control_model.` prefix.
 */
function encoderHalfKey(key: string, config: ModelConfig): string | undefined {
  const layers = configInt(config, 'layers_per_block');
  if (key.startsWith('time_embed.')) return renameHead(key.slice('time_embed.'.length), { 0: 'time_embedding.linear_1', 2: 'time_embedding.linear_2' });
  if (key.startsWith('input_blocks.')) {
    const idx = indices(key.slice('input_blocks.'.length));
    if (!idx) return undefined;
    const [i, k, rest] = idx;
    if (i === 0) return k === 0 ? `conv_in.${rest}` : undefined;
    // Each down block is `layers` (resnet [+ attention]) entries, then one downsampler entry.
    const block = Math.floor((i - 1) / (layers + 1));
    const j = (i - 1) % (layers + 1);
    if (j === layers) return k === 0 && rest.startsWith('op.') ? `down_blocks.${block}.downsamplers.0.conv.${rest.slice(3)}` : undefined;
    if (k === 0) { const r = renameHead(rest, RESNET_UNET); return r && `down_blocks.${block}.resnets.${j}.${r}`; }
    if (k === 1) return `down_blocks.${block}.attentions.${j}.${rest}`;
    return undefined;
  }
  if (key.startsWith('middle_block.')) {
    const m = /^(\d+)\.(.+)$/.exec(key.slice('middle_block.'.length));
    if (!m) return undefined;
    // The middle block alternates resnet, attention, resnet.
    const k = Number(m[1]);
    if (k % 2 === 1) return `mid_block.attentions.${(k - 1) / 2}.${m[2]}`;
    const r = renameHead(m[2], RESNET_UNET);
    return r && `mid_block.resnets.${k / 2}.${r}`;
  }
  return undefined;
}

/** Original UNet key (after `model.diffusion_model.`) -> diffusers UNet2DConditionModel key. */
export function unetKeyFromLdm(key: string, config: ModelConfig): KeyMapping | undefined {
  const layers = configInt(config, 'layers_per_block');
  const shared = encoderHalfKey(key, config);
  if (shared) return { name: shared };
  if (key.startsWith('out.')) {
    const r = renameHead(key.slice(4), { 0: 'conv_norm_out', 2: 'conv_out' });
    return r ? { name: r } : undefined;
  }
  if (key.startsWith('output_blocks.')) {
    const idx = indices(key.slice('output_blocks.'.length));
    if (!idx) return undefined;
    const [i, k, rest] = idx;
    // Each up block has layers + 1 entries; the upsampler rides in the last entry as `.conv`.
    const block = Math.floor(i / (layers + 1));
    const j = i % (layers + 1);
    if (k === 0) { const r = renameHead(rest, RESNET_UNET); return r ? { name: `up_blocks.${block}.resnets.${j}.${r}` } : undefined; }
    if (rest.startsWith('conv.')) return { name: `up_blocks.${block}.upsamplers.0.conv.${rest.slice(5)}` };
    return { name: `up_blocks.${block}.attentions.${j}.${rest}` };
  }
  return undefined;
}

/** Original ControlNet key (after `control_model.`) -> diffusers ControlNetModel key. */
export function controlnetKeyFromLdm(key: string, config: ModelConfig): KeyMapping | undefined {
  const shared = encoderHalfKey(key, config);
  if (shared) return { name: shared };
  let m = /^zero_convs\.(\d+)\.0\.(.+)$/.exec(key);
  if (m) return { name: `controlnet_down_blocks.${m[1]}.${m[2]}` };
  m = /^middle_block_out\.0\.(.+)$/.exec(key);
  if (m) return { name: `controlnet_mid_block.${m[1]}` };
  m = /^input_hint_block\.(\d+)\.(.+)$/.exec(key);
  if (m) {
    // The hint block is conv, SiLU, conv, SiLU, ...: convs sit at even indices. The embedding has
    // conv_in, two convs per channel step, and conv_out.
    const index = Number(m[1]);
    if (index % 2 !== 0) return undefined;
    const n = index / 2;
    const convs = 2 * configList(config, 'conditioning_embedding_out_channels').length;
    if (n === 0) return { name: `controlnet_cond_embedding.conv_in.${m[2]}` };
    if (n === convs - 1) return { name: `controlnet_cond_embedding.conv_out.${m[2]}` };
    if (n < convs - 1) return { name: `controlnet_cond_embedding.blocks.${n - 1}.${m[2]}` };
  }
  return undefined;
}

const VAE_ATTENTION: Record<string, string> = { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' };
const VAE_RESNET: Record<string, string> = { nin_shortcut: 'conv_shortcut', norm1: 'norm1', norm2: 'norm2', conv1: 'conv1', conv2: 'conv2' };

/** Original VAE key (after `first_stage_model.`) -> diffusers AutoencoderKL key. */
export function vaeKeyFromLdm(key: string, config: ModelConfig): KeyMapping | undefined {
  if (/^(post_)?quant_conv\./.test(key)) return { name: key };
  const m = /^(encoder|decoder)\.(.+)$/.exec(key);
  if (!m) return undefined;
  const [, part, rest] = m;
  const blocks = configList(config, 'block_out_channels').length;
  const simple = renameHead(rest, { conv_in: 'conv_in', conv_out: 'conv_out', norm_out: 'conv_norm_out' });
  if (simple) return { name: `${part}.${simple}` };
  let b = /^(down|up)\.(\d+)\.(block\.(\d+)|downsample|upsample)\.(.+)$/.exec(rest);
  if (b) {
    // The original decoder numbers its levels from the highest resolution, diffusers from the lowest.
    const level = b[1] === 'up' ? blocks - 1 - Number(b[2]) : Number(b[2]);
    const kind = b[1] === 'up' ? 'up_blocks' : 'down_blocks';
    if (b[4] !== undefined) {
      const r = renameHead(b[5], VAE_RESNET);
      return r ? { name: `${part}.${kind}.${level}.resnets.${b[4]}.${r}` } : undefined;
    }
    return { name: `${part}.${kind}.${level}.${b[3] === 'downsample' ? 'downsamplers' : 'upsamplers'}.0.${b[5]}` };
  }
  b = /^mid\.block_(\d+)\.(.+)$/.exec(rest);
  if (b) {
    const r = renameHead(b[2], VAE_RESNET);
    return r ? { name: `${part}.mid_block.resnets.${Number(b[1]) - 1}.${r}` } : undefined;
  }
  b = /^mid\.attn_1\.(.+)$/.exec(rest);
  if (b) {
    const r = renameHead(b[1], VAE_ATTENTION);
    return r ? { name: `${part}.mid_block.attentions.0.${r}`, squeeze: !r.startsWith('group_norm') } : undefined;
  }
  return undefined;
}

const VAE_LEGACY_ATTENTION: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };

/** diffusers VAE key -> current name: folders saved by old diffusers call the attention query/key/value/proj_attn. */
export function vaeKeyFromDiffusers(key: string): KeyMapping {
  const m = /^(.*\.mid_block\.attentions\.0)\.(.+)$/.exec(key);
  if (!m) return { name: key };
  const r = renameHead(m[2], VAE_LEGACY_ATTENTION) ?? m[2];
  return { name: `${m[1]}.${r}`, squeeze: !r.startsWith('group_norm') };
}

/** CLIP key (after `cond_stage_model.transformer.`) -> transformers CLIPTextModel key. */
export function textEncoderKeyFromLdm(key: string): KeyMapping | undefined {
  if (key.endsWith('position_ids')) return undefined;
  // Old transformers versions saved CLIPTextModel without the `text_model.` level.
  return { name: key.startsWith('text_model.') ? key : `text_model.${key}` };
}

const LDM_RESNET_PARTS = /^(in_layers_[02]|emb_layers_1|out_layers_[03]|skip_connection|op|conv|[02])$/;

/**
 * Some kohya LoRAs name UNet modules the original way (`input_blocks_4_1_proj_in`). Returns the diffusers
 * module path for such a name (without `lora_unet_`), or undefined when it is not one.
 */
export function unetModuleFromLdmLoraName(name: string, config: ModelConfig): string | undefined {
  const m = /^(input_blocks_\d+_\d+|output_blocks_\d+_\d+|middle_block_\d+|time_embed|out)_(.+)$/.exec(name);
  if (!m) return undefined;
  const head = m[1].replace(/_(?=\d)/g, '.');
  // Resnet and sampler parts have dotted numeric names in LDM; attention internals keep diffusers' names,
  // so they pass through with their underscores and are compared in underscore form by the caller.
  const rest = LDM_RESNET_PARTS.test(m[2]) ? m[2].replace(/_(?=\d$)/, '.') : m[2];
  const mapped = unetKeyFromLdm(`${head}.${rest}.weight`, config);
  return mapped?.name.replace(/\.weight$/, '');
}
