// One entry point from (model part, variant, weights with their config) to an ONNX model; the runtime,
// the fixtures check and the benchmarks all build graphs through it.
import type { GraphOptions } from '../onnx/graph';
import type { ModelDef } from '../onnx/model';
import type { ModelConfig } from '../weights/sd15-config';
import { textEncoderConfig, unetConfig, vaeConfig } from './config';
import { buildControlNet } from './controlnet';
import type { Weights } from './ops';
import { buildTextEncoder } from './text-encoder';
import { buildUNet, describeVariant, type UNetVariant } from './unet';
import { buildUNetDecoder, buildUNetEncoder, describeDecoderVariant, type UNetDecoderVariant } from './unet-split';
import { buildVaeDecoder, buildVaeEncoder } from './vae';

export type { UNetVariant } from './unet';
export type { UNetDecoderVariant } from './unet-split';
export { decoderSkips } from './unet-split';
export { crossFrameLayers, looseLayers, strictLayers } from './unet';

/** Weights plus the config (diffusers config.json fields) that describes them. */
export interface ConfiguredWeights extends Weights {
  readonly config: ModelConfig;
}

export type GraphSpec =
  | { part: 'text_encoder' }
  | { part: 'unet'; variant?: UNetVariant }
  | { part: 'unet_encoder'; controlNet?: boolean }
  | { part: 'unet_decoder'; variant: UNetDecoderVariant }
  | { part: 'controlnet' }
  | { part: 'vae_encoder' }
  | { part: 'vae_decoder' };

/** A short stable name for a graph spec, used in cache keys and file names. */
export function describeGraph(spec: GraphSpec): string {
  if (spec.part === 'unet') return `unet-${describeVariant(spec.variant ?? {})}`;
  if (spec.part === 'unet_encoder') return spec.controlNet ? 'unet_encoder-controlnet' : 'unet_encoder';
  if (spec.part === 'unet_decoder') return `unet_decoder-${describeDecoderVariant(spec.variant)}`;
  return spec.part;
}

export function buildGraph(spec: GraphSpec, weights: ConfiguredWeights, options: GraphOptions): ModelDef {
  switch (spec.part) {
    case 'text_encoder': return buildTextEncoder(weights, textEncoderConfig(weights.config), options);
    case 'unet': return buildUNet(weights, unetConfig(weights.config), spec.variant ?? {}, options);
    case 'unet_encoder': return buildUNetEncoder(weights, unetConfig(weights.config), !!spec.controlNet, options);
    case 'unet_decoder': return buildUNetDecoder(weights, unetConfig(weights.config), spec.variant, options);
    case 'controlnet': return buildControlNet(weights, unetConfig(weights.config, 'ControlNet'), options);
    case 'vae_encoder': return buildVaeEncoder(weights, vaeConfig(weights.config), options);
    case 'vae_decoder': return buildVaeDecoder(weights, vaeConfig(weights.config), options);
  }
}
