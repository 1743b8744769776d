// UNet2DConditionModel as an ONNX graph, with optional ControlNet residual inputs and the cross-frame
// attention variants of docs/METHOD.md §3.1 (record / inject in the decoder self-attention layers).
// Graph inputs and outputs are documented in ./README.md.
import { GraphBuilder, type GraphOptions } from '../onnx/graph';
import type { ModelDef } from '../onnx/model';
import { downsample, resnet, timestepEmbedding, transformer2d, upsample, type CrossFrameHook } from './blocks';
import type { UNetConfig } from './config';
import { conv, groupNorm, linear, shapeOf, silu, type Weights } from './ops';

export interface UNetVariant {
  /** Adds inputs controlnet_down.0..N-1 and controlnet_mid, added to the skips and mid-block output. */
  controlNet?: boolean;
  /** Adds outputs recorded_tokens.i: the norm1 output of every decoder self-attention layer i. */
  record?: boolean;
  /** Decoder self-attention layers whose keys/values come from inputs reference_tokens.i. */
  inject?: readonly number[];
}

/** One decoder self-attention layer that cross-frame attention can use. */
export interface CrossFrameLayer {
  index: number;
  /** diffusers module path of the attn1, e.g. up_blocks.1.attentions.0.transformer_blocks.0.attn1 */
  module: string;
  upBlock: number;
}

function isCrossAttention(blockType: string): boolean {
  return blockType.startsWith('CrossAttn');
}

/** The decoder self-attention layers in execution order (9 for SD1.5). */
export function crossFrameLayers(cfg: UNetConfig, w: Weights): CrossFrameLayer[] {
  const layers: CrossFrameLayer[] = [];
  cfg.upBlockTypes.forEach((type, i) => {
    if (!isCrossAttention(type)) return;
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      for (let b = 0; w.has(`up_blocks.${i}.attentions.${j}.transformer_blocks.${b}.attn1.to_q.weight`); b++) {
        layers.push({ index: layers.length, module: `up_blocks.${i}.attentions.${j}.transformer_blocks.${b}.attn1`, upBlock: i });
      }
    }
  });
  return layers;
}

/** Strict mode: every decoder self-attention layer. */
export function strictLayers(layers: CrossFrameLayer[]): number[] {
  return layers.map((l) => l.index);
}

/** Loose mode: all but the lowest-resolution attention up block (the 1280-channel layers in SD1.5). */
export function looseLayers(layers: CrossFrameLayer[]): number[] {
  const first = Math.min(...layers.map((l) => l.upBlock));
  return layers.filter((l) => l.upBlock !== first).map((l) => l.index);
}

export interface UNetEncoderOutput {
  /** The skip tensors in order (conv_in output, each down layer, each downsampler). */
  skips: string[];
  mid: string;
}

/**
 * The part the UNet and ControlNet share: time embedding, conv_in, down blocks, mid block.
 * `afterConvIn` lets ControlNet add its conditioning embedding to the conv_in output.
 */
export function unetEncoder(
  g: GraphBuilder, w: Weights, cfg: UNetConfig, sample: string, timestep: string, context: string,
  afterConvIn?: (h: string) => string,
): UNetEncoderOutput & { timeEmbedding: string } {
  const timeChannels = shapeOf(w, 'time_embedding.linear_1.weight')[1];
  const timeProj = timestepEmbedding(g, timestep, sample, timeChannels, cfg.flipSinToCos, cfg.freqShift);
  const temb = linear(g, w, 'time_embedding.linear_2', silu(g, linear(g, w, 'time_embedding.linear_1', timeProj)));
  // Every resnet applies SiLU then its own projection; the SiLU is shared.
  const timeEmbedding = silu(g, temb);
  const res = { groups: cfg.groups, eps: cfg.eps, timeEmbedding };

  let h = conv(g, w, 'conv_in', sample);
  if (afterConvIn) h = afterConvIn(h);
  const skips = [h];
  cfg.downBlockTypes.forEach((type, i) => {
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      h = resnet(g, w, `down_blocks.${i}.resnets.${j}`, h, res);
      if (isCrossAttention(type)) {
        h = transformer2d(g, w, `down_blocks.${i}.attentions.${j}`, h, { heads: cfg.headsPerBlock[i], context, groups: cfg.groups, linearProjection: cfg.linearProjection });
      }
      skips.push(h);
    }
    if (w.has(`down_blocks.${i}.downsamplers.0.conv.weight`)) {
      h = downsample(g, w, `down_blocks.${i}.downsamplers.0`, h, cfg.downsamplePadding);
      skips.push(h);
    }
  });
  const midHeads = cfg.headsPerBlock[cfg.headsPerBlock.length - 1];
  h = resnet(g, w, 'mid_block.resnets.0', h, res);
  h = transformer2d(g, w, 'mid_block.attentions.0', h, { heads: midHeads, context, groups: cfg.groups, linearProjection: cfg.linearProjection });
  h = resnet(g, w, 'mid_block.resnets.1', h, res);
  return { skips, mid: h, timeEmbedding };
}

/** How many skip tensors the encoder makes: conv_in, every down layer, every downsampler. */
export function skipCount(cfg: UNetConfig, w: Weights): number {
  let n = 1;
  cfg.downBlockTypes.forEach((_, i) => { n += cfg.layersPerBlock + (w.has(`down_blocks.${i}.downsamplers.0.conv.weight`) ? 1 : 0); });
  return n;
}

/** What the decoder blocks read besides their input: skip tensors by encoder index, time, text, attention hooks. */
export interface DecoderInputs {
  skip: (index: number) => string;
  timeEmbedding: string;
  context: string;
  crossFrame?: (blockPrefix: string) => CrossFrameHook | undefined;
}

/**
 * Up blocks first … end−1 applied to `h` (the input of up block `first`): each layer concatenates the
 * next skip (consumed last-made first), then resnet (+ transformer); then the block's upsampler, sized
 * like the skip the next layer will take. Returns the input of up block `end`.
 */
export function unetDecoderBlocks(g: GraphBuilder, w: Weights, cfg: UNetConfig, h: string, d: DecoderInputs, first: number, end: number): string {
  const total = skipCount(cfg, w);
  const upHeads = [...cfg.headsPerBlock].reverse();
  let consumed = first * (cfg.layersPerBlock + 1);
  for (let i = first; i < end; i++) {
    const type = cfg.upBlockTypes[i];
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      const index = total - 1 - consumed++;
      if (index < 0) throw new Error('UNet config: the up blocks use more skip connections than the down blocks make');
      h = resnet(g, w, `up_blocks.${i}.resnets.${j}`, g.op('Concat', [h, d.skip(index)], { axis: { i: 1 } }), { groups: cfg.groups, eps: cfg.eps, timeEmbedding: d.timeEmbedding });
      if (isCrossAttention(type)) {
        h = transformer2d(g, w, `up_blocks.${i}.attentions.${j}`, h, { heads: upHeads[i], context: d.context, groups: cfg.groups, linearProjection: cfg.linearProjection, crossFrame: d.crossFrame });
      }
    }
    const next = total - 1 - consumed;
    if (w.has(`up_blocks.${i}.upsamplers.0.conv.weight`)) h = upsample(g, w, `up_blocks.${i}.upsamplers.0`, h, next >= 0 ? d.skip(next) : undefined);
  }
  return h;
}

/** Builds the UNet graph: sample, timestep, encoder_hidden_states (+ variant inputs) → noise_pred. */
export function buildUNet(w: Weights, cfg: UNetConfig, variant: UNetVariant, options: GraphOptions): ModelDef {
  const g = new GraphBuilder('unet', options);
  const contextWidth = shapeOf(w, 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight')[1];
  const sample = g.input('sample', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['timestep_count']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'tokens', contextWidth]);

  const encoded = unetEncoder(g, w, cfg, sample, timestep, context);
  let { skips, mid } = encoded;
  if (variant.controlNet) {
    skips = skips.map((s, i) => g.op('Add', [s, g.input(`controlnet_down.${i}`, 'float32', ['batch', `channels_${i}`, `h_${i}`, `w_${i}`])]));
    mid = g.op('Add', [mid, g.input('controlnet_mid', 'float32', ['batch', 'channels_mid', 'h_mid', 'w_mid'])]);
  }

  const layers = crossFrameLayers(cfg, w);
  const inject = new Set(variant.inject ?? []);
  for (const i of inject) if (!layers[i]) throw new Error(`UNet has ${layers.length} decoder self-attention layers; cannot inject layer ${i}`);
  const hookFor = (blockPrefix: string): CrossFrameHook | undefined => {
    const layer = layers.find((l) => l.module === `${blockPrefix}.attn1`);
    if (!layer) return undefined;
    const channels = shapeOf(w, `${layer.module}.to_q.weight`)[1];
    return {
      record: variant.record ? (tokens) => g.output(tokens, `recorded_tokens.${layer.index}`, ['batch', `tokens_${layer.index}`, channels]) : undefined,
      reference: inject.has(layer.index) ? g.input(`reference_tokens.${layer.index}`, 'float32', ['batch', `reference_tokens_${layer.index}`, channels]) : undefined,
    };
  };

  const h = unetDecoderBlocks(g, w, cfg, mid, {
    skip: (k) => skips[k], timeEmbedding: encoded.timeEmbedding, context, crossFrame: hookFor,
  }, 0, cfg.upBlockTypes.length);
  const out = conv(g, w, 'conv_out', silu(g, groupNorm(g, w, 'conv_norm_out', h, cfg.groups, cfg.eps)));
  g.output(out, 'noise_pred', ['batch', shapeOf(w, 'conv_out.weight')[0], 'height', 'width']);
  return g.toModel({ model: 'unet', variant: describeVariant(variant) });
}

export function describeVariant(v: UNetVariant): string {
  const parts = [v.controlNet ? 'controlnet' : '', v.record ? 'record' : '', v.inject?.length ? `inject[${[...v.inject].sort((a, b) => a - b).join(',')}]` : ''];
  return parts.filter(Boolean).join('+') || 'plain';
}
