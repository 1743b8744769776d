// Says what a model file or folder is (SD1.5 checkpoint, diffusers folder, ControlNet, VAE, LoRA) from
// its tensor names and shapes alone, and why it cannot be used when it is another family (SDXL, SD2).
import fs from 'node:fs';
import path from 'node:path';
import { UserError, problemOf } from '../errors';
import { PICKLE_PROBLEM, SafetensorsFile, type TensorInfo } from './safetensors';
import type { Component } from './sd15-config';

export type ModelKind = 'sd15-checkpoint' | 'diffusers-folder' | 'controlnet' | 'vae' | 'lora' | 'unknown';

export interface ModelDescription {
  kind: ModelKind;
  file: string;
  /** How the weights are named inside. */
  layout?: 'single-file' | 'diffusers' | 'kohya';
  /** Components present (checkpoints and diffusers folders). */
  components: Component[];
  /** One line for lists, e.g. "SD1.5 checkpoint (UNet, VAE, text encoder)". */
  summary: string;
  /** Set when the model cannot be used, saying why (another family, wrong format, damaged). */
  problem?: string;
  /** The problem's figures for the log (e.g. the length a damaged header claims), not for the line the user reads. */
  detail?: string;
}

const has = (names: string[], prefix: string) => names.some((n) => n.startsWith(prefix));

/** Width of the text the model's cross-attention reads: 768 for SD1.5, 1024 for SD2, 2048 for SDXL. */
function contextWidth(tensors: Map<string, TensorInfo>): number | undefined {
  for (const [name, t] of tensors) if (/attn2\.to_k\.weight$/.test(name) && t.shape.length === 2) return t.shape[1];
  return undefined;
}

/** Why weights with these names and shapes are not SD1.5-family, or undefined. */
export function familyProblem(tensors: Map<string, TensorInfo>): string | undefined {
  const names = [...tensors.keys()];
  if (has(names, 'conditioner.embedders') || names.some((n) => /(^|\.)(label_emb|add_embedding)\./.test(n))) {
    return 'this is an SDXL model; only Stable Diffusion 1.5-family models are supported';
  }
  if (has(names, 'cond_stage_model.model.')) return 'this is a Stable Diffusion 2.x model (OpenCLIP text encoder); only SD1.5-family models are supported';
  const width = contextWidth(tensors);
  if (width !== undefined && width !== 768 && width >= 1024) {
    return `its cross-attention reads ${width}-wide text (${width === 1024 ? 'SD2.x' : 'SDXL'}); only SD1.5-family models (768) are supported`;
  }
  return undefined;
}

/**
 * Why a UNet taking `channels` input channels cannot be used: SD1.5's takes the 4 latent channels; inpainting
 * models add a mask and a masked-image latent (9), instruct-pix2pix models an image latent (8).
 */
export function unetInputProblem(channels: number): string | undefined {
  if (channels === 4) return undefined;
  const what = channels === 9 ? 'an inpainting model: latent, mask and masked-image channels' : channels === 8 ? 'an instruct-pix2pix model: latent and image channels' : 'not a plain text-to-image model';
  return `its UNet takes ${channels} input channels (${what}); only plain 4-channel SD1.5-family models can re-render video`;
}

/**
 * Why weights with these names and shapes cannot be rendered with (another family, an inpainting or instruct
 * UNet), or undefined. The one check that import (describeSafetensors) and the render loader both run.
 */
export function weightsProblem(tensors: Map<string, TensorInfo>): string | undefined {
  const family = familyProblem(tensors);
  if (family) return family;
  const isUnet = [...tensors.keys()].some((n) => n.startsWith('model.diffusion_model.') || n.startsWith('up_blocks.'));
  const convIn = tensors.get('model.diffusion_model.input_blocks.0.0.weight') ?? (isUnet ? tensors.get('conv_in.weight') : undefined);
  return convIn && convIn.shape.length === 4 ? unetInputProblem(convIn.shape[1]) : undefined;
}

/** Classifies an opened .safetensors file. */
export function describeSafetensors(st: SafetensorsFile): ModelDescription {
  const file = st.file;
  const names = [...st.tensors.keys()];
  const base = { file, components: [] as Component[] };
  if (names.some((n) => /^lora_(unet|te[12]?)_/.test(n) || /\.(lora_[AB]|hada_w1_a|lokr_w1)/.test(n))) {
    const problem = names.some((n) => /^lora_te[12]_/.test(n)) ? 'this is an SDXL LoRA; only SD1.5-family LoRAs are supported'
      : names.some((n) => /\.(hada_|lokr_)/.test(n)) ? 'LyCORIS LoHa/LoKr networks are not supported, only plain LoRA'
        : names.some((n) => /\.lora_[AB]\./.test(n)) ? 'PEFT/diffusers-format LoRAs are not supported, only kohya format' : undefined;
    return { ...base, kind: 'lora', layout: 'kohya', summary: 'LoRA', problem };
  }
  const family = familyProblem(st.tensors);
  const bareControlNet = has(names, 'input_hint_block.') && has(names, 'zero_convs.');
  if (has(names, 'control_model.') || has(names, 'controlnet_cond_embedding.') || bareControlNet) {
    return { ...base, kind: 'controlnet', layout: has(names, 'controlnet_cond_embedding.') ? 'diffusers' : 'single-file', components: ['controlnet'], summary: 'ControlNet', problem: family };
  }
  if (has(names, 'model.diffusion_model.') || has(names, 'conditioner.embedders')) {
    const components: Component[] = ['unet'];
    if (has(names, 'first_stage_model.')) components.push('vae');
    if (has(names, 'cond_stage_model.')) components.push('text_encoder');
    const problem = weightsProblem(st.tensors);
    const parts = components.map((c) => ({ unet: 'UNet', vae: 'VAE', text_encoder: 'text encoder', controlnet: 'ControlNet' })[c]).join(', ');
    return { ...base, kind: 'sd15-checkpoint', layout: 'single-file', components, summary: `${problem ? 'Stable Diffusion' : 'SD1.5'} checkpoint (${parts})`, problem };
  }
  if (has(names, 'encoder.down.') || has(names, 'encoder.down_blocks.') || (has(names, 'first_stage_model.') && !has(names, 'model.'))) {
    return { ...base, kind: 'vae', layout: has(names, 'encoder.down_blocks.') ? 'diffusers' : 'single-file', components: ['vae'], summary: 'VAE' };
  }
  return { ...base, kind: 'unknown', summary: 'unknown weights', problem: family ?? 'not a Stable Diffusion 1.5 checkpoint, ControlNet, VAE or LoRA (no known weight names inside)' };
}

/** The weight file stem of each diffusers component folder (transformers names the text encoder's `model`). */
export const WEIGHT_FILES: Record<Component, string> = { unet: 'diffusion_pytorch_model', vae: 'diffusion_pytorch_model', controlnet: 'diffusion_pytorch_model', text_encoder: 'model' };

/** The weights the loader reads in a diffusers component folder, in its order: full precision, fp16, then a shard index. */
export function componentWeightFile(dir: string, component: Component): string | undefined {
  const stem = WEIGHT_FILES[component];
  const names = [`${stem}.safetensors`, `${stem}.fp16.safetensors`, `${stem}.safetensors.index.json`, `${stem}.safetensors.index.fp16.json`];
  return names.map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
}

/** Pipeline classes whose folders hold an SD1.5-family UNet, VAE and text encoder the loader can render with. */
const SD_PIPELINES = /^StableDiffusion(Img2Img|ControlNet|ControlNetImg2Img|Instruct|)Pipeline$/;

/** What a pipeline folder lacks of the components every render reads (config.json and .safetensors weights each). */
function missingComponents(dir: string): string | undefined {
  const missing = (['unet', 'vae', 'text_encoder'] as Component[]).filter((c) => !fs.existsSync(path.join(dir, c, 'config.json')) || !componentWeightFile(path.join(dir, c), c));
  if (!missing.length) return undefined;
  return `the folder lacks the ${missing.map((c) => `${c}/`).join(', ')} ${missing.length === 1 ? 'component' : 'components'} a render needs (each a config.json and .safetensors weights)`;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>; } catch { return undefined; }
}

/** Classifies a diffusers folder (pipeline with model_index.json, or one ControlNet/VAE model folder). */
function describeFolder(dir: string): ModelDescription {
  const base = { file: dir, layout: 'diffusers' as const, components: [] as Component[] };
  const index = readJson(path.join(dir, 'model_index.json'));
  if (index) {
    const cls = String(index._class_name ?? '');
    const components = (['unet', 'vae', 'text_encoder', 'controlnet'] as Component[]).filter((c) => fs.existsSync(path.join(dir, c)));
    const unet = readJson(path.join(dir, 'unet', 'config.json'));
    let problem: string | undefined;
    if (/XL|StableDiffusion3|Flux|Kandinsky/i.test(cls)) problem = `this is a ${cls} folder; only Stable Diffusion 1.5-family models are supported`;
    else if (unet && typeof unet.cross_attention_dim === 'number' && unet.cross_attention_dim !== 768 && unet.cross_attention_dim >= 1024) problem = `its UNet reads ${unet.cross_attention_dim}-wide text (SD2.x or newer); only SD1.5-family models are supported`;
    else if (unet && typeof unet.in_channels === 'number' && unetInputProblem(unet.in_channels)) problem = unetInputProblem(unet.in_channels);
    else if (!cls) problem = 'its model_index.json names no pipeline class (_class_name)';
    else if (!SD_PIPELINES.test(cls)) problem = `its model_index.json names ${cls}, not a Stable Diffusion pipeline`;
    else problem = missingComponents(dir);
    return { ...base, kind: 'diffusers-folder', components, summary: `diffusers pipeline (${cls || 'unknown class'})`, problem };
  }
  const config = readJson(path.join(dir, 'config.json'));
  const cls = String(config?._class_name ?? '');
  if (cls === 'ControlNetModel') {
    const width = config?.cross_attention_dim;
    const problem = typeof width === 'number' && width !== 768 && width >= 1024 ? `this ControlNet reads ${width}-wide text; only SD1.5-family ControlNets are supported` : undefined;
    return { ...base, kind: 'controlnet', components: ['controlnet'], summary: 'ControlNet (diffusers folder)', problem };
  }
  if (cls === 'AutoencoderKL') return { ...base, kind: 'vae', components: ['vae'], summary: 'VAE (diffusers folder)' };
  const part = cls === 'UNet2DConditionModel' ? 'UNet' : (config?.architectures as unknown[] | undefined)?.includes('CLIPTextModel') ? 'text encoder' : undefined;
  if (part) return { ...base, kind: 'unknown', summary: `${part} of a diffusers pipeline`, problem: `a ${part} alone is not a model to render with; use the whole pipeline folder (with model_index.json)` };
  return { ...base, kind: 'unknown', summary: 'folder', problem: 'not a diffusers model folder (no model_index.json, or config.json of a ControlNet or VAE)' };
}

/** What a model file or folder is, and a problem line when it cannot be used. Throws only if it does not exist. */
export async function detectModelFile(file: string): Promise<ModelDescription> {
  let stat: fs.Stats;
  try { stat = await fs.promises.stat(file); } catch { throw new UserError('file not found', file); }
  if (stat.isDirectory()) return describeFolder(file);
  const base = { file, components: [] as Component[] };
  if (/\.(ckpt|pt|pth|bin)$/i.test(file)) {
    return { ...base, kind: 'unknown', summary: 'pickle checkpoint', problem: PICKLE_PROBLEM };
  }
  let st: SafetensorsFile;
  try {
    st = await SafetensorsFile.open(file);
  } catch (err) {
    // The problem is said with the file named once, by whoever reports it (the file is in `file`).
    if (err instanceof UserError) return { ...base, kind: 'unknown', summary: 'unreadable', problem: problemOf(err), ...(err.detail ? { detail: err.detail } : {}) };
    throw err;
  }
  try { return describeSafetensors(st); } finally { await st.close(); }
}
