// The standard Stable Diffusion 1.5 model configs (diffusers config.json field names), used for
// single-file checkpoints, which carry none. Callers may override any field (tests pass the fixture's).

/** A diffusers/transformers config.json object; graph builders read the fields they need. */
export type ModelConfig = Record<string, unknown>;

/** The parts of a Stable Diffusion model that are loaded (and converted) separately. */
export type Component = 'unet' | 'vae' | 'text_encoder' | 'controlnet';

const crossAttnBlocks = ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'];

/** The UNet's encoder half as SD1.5 configures it; the ControlNet is a copy of that half. */
const sd15Encoder = {
  flip_sin_to_cos: true,
  freq_shift: 0,
  down_block_types: crossAttnBlocks,
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  block_out_channels: [320, 640, 1280, 1280],
  layers_per_block: 2,
  downsample_padding: 1,
  mid_block_scale_factor: 1,
  act_fn: 'silu',
  norm_num_groups: 32,
  norm_eps: 1e-5,
  cross_attention_dim: 768,
  transformer_layers_per_block: 1,
  attention_head_dim: 8,
  use_linear_projection: false,
  upcast_attention: false,
  resnet_time_scale_shift: 'default',
};

export const SD15_UNET_CONFIG: ModelConfig = {
  _class_name: 'UNet2DConditionModel',
  sample_size: 64,
  in_channels: 4,
  out_channels: 4,
  center_input_sample: false,
  ...sd15Encoder,
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
};

export const SD15_VAE_CONFIG: ModelConfig = {
  _class_name: 'AutoencoderKL',
  in_channels: 3,
  out_channels: 3,
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
  up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
  block_out_channels: [128, 256, 512, 512],
  layers_per_block: 2,
  act_fn: 'silu',
  latent_channels: 4,
  norm_num_groups: 32,
  sample_size: 512,
  scaling_factor: 0.18215,
  use_quant_conv: true,
  use_post_quant_conv: true,
  mid_block_add_attention: true,
};

export const SD15_TEXT_ENCODER_CONFIG: ModelConfig = {
  architectures: ['CLIPTextModel'],
  model_type: 'clip_text_model',
  vocab_size: 49408,
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  max_position_embeddings: 77,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  projection_dim: 768,
};

export const SD15_CONTROLNET_CONFIG: ModelConfig = {
  _class_name: 'ControlNetModel',
  in_channels: 4,
  conditioning_channels: 3,
  ...sd15Encoder,
  controlnet_conditioning_channel_order: 'rgb',
  conditioning_embedding_out_channels: [16, 32, 96, 256],
  global_pool_conditions: false,
};

export const SD15_CONFIGS = {
  unet: SD15_UNET_CONFIG,
  vae: SD15_VAE_CONFIG,
  text_encoder: SD15_TEXT_ENCODER_CONFIG,
  controlnet: SD15_CONTROLNET_CONFIG,
} as const;

/** A whole number from a config, with the field named in the error when it is missing or wrong. */
export function configInt(config: ModelConfig, key: string): number {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`model config field "${key}" should be a whole number, got ${JSON.stringify(v)}`);
  return v;
}

/** A list from a config (block types, channel counts). */
export function configList<T = unknown>(config: ModelConfig, key: string): T[] {
  const v = config[key];
  if (!Array.isArray(v)) throw new Error(`model config field "${key}" should be a list, got ${JSON.stringify(v)}`);
  return v as T[];
}
