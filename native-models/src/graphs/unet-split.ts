// The UNet split at the decoder's up-block inputs, for FRESCO (docs/METHOD.md §6): "unet_encoder" makes the
// skip tensors, the first up block's input and the time embedding; "unet_decoder" runs a range of up blocks
// from a (possibly optimised) up-block input, with FRESCO's attention in chosen layers. Composed, the parts
// compute exactly the `unet` graph. IO is documented in ./README.md.
import { GraphBuilder, type GraphOptions } from '../onnx/graph';
import type { ModelDef } from '../onnx/model';
import type { CrossFrameHook } from './blocks';
import type { UNetConfig } from './config';
import { frescoSelfAttention } from './fresco-attention';
import { conv, groupNorm, shapeOf, silu, type Weights } from './ops';
import { crossFrameLayers, skipCount, unetDecoderBlocks, unetEncoder } from './unet';

export interface UNetDecoderVariant {
  /** Up blocks first … end−1 (end defaults to all of them; then the output is noise_pred). */
  first: number;
  end?: number;
  /** Outputs recorded_tokens.i for the decoder self-attention layers in the range. */
  record?: boolean;
  /** Layers with spatial-guided attention: inputs spatial_guide_tokens.i and spatial_guidance_scale. */
  spatial?: readonly number[];
  /** Layers with temporal-guided attention: inputs trajectory_index.i, trajectory_bias.i. */
  temporal?: readonly number[];
  /** Layers with efficient cross-frame attention: input cross_frame_index.i. */
  crossFrame?: readonly number[];
}

function contextWidth(w: Weights): number {
  return shapeOf(w, 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight')[1];
}

/** sample, timestep, encoder_hidden_states (+ ControlNet residuals) → skip.k, up_input.0, time_embedding. */
export function buildUNetEncoder(w: Weights, cfg: UNetConfig, controlNet: boolean, options: GraphOptions): ModelDef {
  const g = new GraphBuilder('unet_encoder', options);
  const sample = g.input('sample', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['timestep_count']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'tokens', contextWidth(w)]);
  const encoded = unetEncoder(g, w, cfg, sample, timestep, context);
  let { skips, mid } = encoded;
  if (controlNet) {
    skips = skips.map((s, i) => g.op('Add', [s, g.input(`controlnet_down.${i}`, 'float32', ['batch', `channels_${i}`, `h_${i}`, `w_${i}`])]));
    mid = g.op('Add', [mid, g.input('controlnet_mid', 'float32', ['batch', 'channels_mid', 'h_mid', 'w_mid'])]);
  }
  skips.forEach((s, i) => g.output(s, `skip.${i}`, ['batch', `skip_channels_${i}`, `skip_h_${i}`, `skip_w_${i}`]));
  g.output(mid, 'up_input.0', ['batch', 'up_channels_0', 'up_h_0', 'up_w_0']);
  g.output(encoded.timeEmbedding, 'time_embedding', ['batch', 'time_channels']);
  return g.toModel({ model: 'unet_encoder', variant: controlNet ? 'controlnet' : 'plain' });
}

/** The skip indices up blocks first … end−1 read (including the one the last upsampler is sized by). */
export function decoderSkips(cfg: UNetConfig, w: Weights, first: number, end: number): number[] {
  const total = skipCount(cfg, w);
  const per = cfg.layersPerBlock + 1;
  const list: number[] = [];
  for (let c = first * per; c < Math.min(end * per + 1, total); c++) list.push(total - 1 - c);
  return list;
}

/** up_input.<first>, the skips it reads, time_embedding, encoder_hidden_states (+ FRESCO inputs) → up_input.<end> or noise_pred. */
export function buildUNetDecoder(w: Weights, cfg: UNetConfig, v: UNetDecoderVariant, options: GraphOptions): ModelDef {
  const blocks = cfg.upBlockTypes.length;
  const end = v.end ?? blocks;
  if (!(v.first >= 0 && v.first < end && end <= blocks)) throw new Error(`UNet decoder: up blocks ${v.first}…${end - 1} are not within 0…${blocks - 1}`);
  const g = new GraphBuilder('unet_decoder', options);
  const input = g.input(`up_input.${v.first}`, 'float32', ['batch', `up_channels_${v.first}`, 'up_h', 'up_w']);
  const skipNames = new Map<number, string>();
  for (const k of decoderSkips(cfg, w, v.first, end)) skipNames.set(k, g.input(`skip.${k}`, 'float32', ['batch', `skip_channels_${k}`, `skip_h_${k}`, `skip_w_${k}`]));
  const timeEmbedding = g.input('time_embedding', 'float32', ['batch', 'time_channels']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'tokens', contextWidth(w)]);

  const layers = crossFrameLayers(cfg, w);
  const inRange = new Set(layers.filter((l) => l.upBlock >= v.first && l.upBlock < end).map((l) => l.index));
  for (const list of [v.spatial, v.temporal, v.crossFrame]) {
    for (const i of list ?? []) if (!inRange.has(i)) throw new Error(`UNet decoder: layer ${i} is not a decoder self-attention layer of up blocks ${v.first}…${end - 1}`);
  }
  const spatial = new Set(v.spatial ?? []), temporal = new Set(v.temporal ?? []), crossFrame = new Set(v.crossFrame ?? []);
  const scale = spatial.size ? g.input('spatial_guidance_scale', 'float32', [1]) : undefined;
  const upHeads = [...cfg.headsPerBlock].reverse();
  const hookFor = (blockPrefix: string): CrossFrameHook | undefined => {
    const layer = layers.find((l) => l.module === `${blockPrefix}.attn1`);
    if (!layer) return undefined;
    const i = layer.index;
    const channels = shapeOf(w, `${layer.module}.to_q.weight`)[1];
    const fresco = spatial.has(i) || temporal.has(i) || crossFrame.has(i);
    return {
      record: v.record ? (tokens) => g.output(tokens, `recorded_tokens.${i}`, ['batch', `tokens_${i}`, channels]) : undefined,
      selfAttention: fresco ? (tokens, prefix) => frescoSelfAttention(g, w, prefix, tokens, upHeads[layer.upBlock], {
        spatialGuide: spatial.has(i) ? g.input(`spatial_guide_tokens.${i}`, 'float32', ['batch', `tokens_${i}`, channels]) : undefined,
        spatialScale: scale,
        trajectory: temporal.has(i) ? {
          index: g.input(`trajectory_index.${i}`, 'int64', [`branch_tokens_${i}`, 'trajectory_length']),
          bias: g.input(`trajectory_bias.${i}`, 'float32', [`branch_tokens_${i}`, 'trajectory_length']),
        } : undefined,
        crossFrameIndex: crossFrame.has(i) ? g.input(`cross_frame_index.${i}`, 'int64', [`cross_frame_tokens_${i}`]) : undefined,
      }) : undefined,
    };
  };

  const h = unetDecoderBlocks(g, w, cfg, input, { skip: (k) => skipNames.get(k)!, timeEmbedding, context, crossFrame: hookFor }, v.first, end);
  if (end < blocks) {
    g.output(h, `up_input.${end}`, ['batch', `up_channels_${end}`, 'out_h', 'out_w']);
  } else {
    const out = conv(g, w, 'conv_out', silu(g, groupNorm(g, w, 'conv_norm_out', h, cfg.groups, cfg.eps)));
    g.output(out, 'noise_pred', ['batch', shapeOf(w, 'conv_out.weight')[0], 'height', 'width']);
  }
  return g.toModel({ model: 'unet_decoder', variant: describeDecoderVariant(v) });
}

export function describeDecoderVariant(v: UNetDecoderVariant): string {
  const list = (name: string, l?: readonly number[]) => (l?.length ? `${name}[${[...l].sort((a, b) => a - b).join(',')}]` : '');
  return [`up${v.first}-${v.end ?? 'end'}`, v.record ? 'record' : '', list('spatial', v.spatial), list('temporal', v.temporal), list('crossframe', v.crossFrame)].filter(Boolean).join('+');
}
