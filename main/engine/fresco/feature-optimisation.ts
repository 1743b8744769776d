// FreSCo-aware feature optimisation (docs/METHOD.md §6) through the native addon: Adam on a batch of frames'
// up-block input features against an occlusion-masked warp loss and a self-similarity loss, off the JS thread.
import { loadAddon } from '../../../native-models/src/addon';

export interface FeatureLosses {
  /** Mean occlusion-weighted L1 between each frame's features and the previous frame's, followed by the flow. */
  warp: number;
  /** Mean L1 between the features' cosine self-similarity matrix and the input frames'. */
  similarity: number;
}

/** Where each token of frame f came from in frame f−1 (−1: nowhere), and how far to trust it (0 = occluded). */
export interface TokenLinks {
  /** [frames, tokens]; row 0 is unused. */
  source: Int32Array;
  visible: Float32Array;
}

/**
 * The losses are made scale-free before they are weighted: the warp loss is divided by the features' mean
 * magnitude and the learning rate is multiplied by it (the self-similarity loss is on cosines already), so
 * the same weights mean the same at every model width and feature level.
 */
export interface OptimiseOptions {
  iterations: number;
  /** Adam step, relative to the features' mean magnitude. */
  learningRate: number;
  /** Weight of the warp loss measured in units of the features' mean magnitude. */
  warpWeight: number;
  similarityWeight: number;
  /** Give each frame's channels their original mean and deviation back afterwards (default true). */
  renormalise?: boolean;
  threads?: number;
}

export interface OptimiseResult {
  /** The optimised features, [frames, channels, tokens]. */
  features: Float32Array;
  before: FeatureLosses;
  /** After Adam, before renormalising. */
  optimised: FeatureLosses;
  /** What is returned (after renormalising, when on). */
  final: FeatureLosses;
  /** The features' mean magnitude that the scale-free units refer to (learning rate × this = the absolute step). */
  magnitude: number;
}

interface FrescoAddon {
  frescoOptimiseFeatures(features: Float32Array, frames: number, channels: number, tokens: number, guide: Float32Array, guideChannels: number,
    source: Int32Array, visible: Float32Array, options: OptimiseOptions): Promise<Omit<OptimiseResult, 'magnitude'>>;
}

/**
 * Optimises `features` [frames, channels, tokens] (one CFG branch of a batch) so that neighbouring frames
 * agree along the flow and each frame keeps the input frame's structure (`guide` [frames, guideChannels, tokens]).
 */
export async function optimiseFeatures(features: Float32Array, frames: number, channels: number, guide: Float32Array, guideChannels: number, links: TokenLinks, options: OptimiseOptions): Promise<OptimiseResult> {
  const tokens = features.length / (frames * channels);
  if (!Number.isInteger(tokens)) throw new RangeError(`optimiseFeatures: ${features.length} values are not ${frames} frames of ${channels} channels`);
  let magnitude = 0;
  for (const v of features) magnitude += Math.abs(v);
  magnitude = Math.max(magnitude / Math.max(1, features.length), 1e-12);
  const scaled = { ...options, warpWeight: options.warpWeight / magnitude, learningRate: options.learningRate * magnitude };
  const r = await loadAddon<FrescoAddon>().frescoOptimiseFeatures(features, frames, channels, tokens, guide, guideChannels, links.source, links.visible, scaled);
  return { ...r, magnitude };
}

/** Both losses of `features` as they are. */
export async function featureLosses(features: Float32Array, frames: number, channels: number, guide: Float32Array, guideChannels: number, links: TokenLinks): Promise<FeatureLosses> {
  const r = await optimiseFeatures(features, frames, channels, guide, guideChannels, links, { iterations: 0, learningRate: 0, warpWeight: 1, similarityWeight: 1, renormalise: false });
  return r.before;
}
