// FRESCO mode's switches and parameters (ALGORITHM.md §6) with the method's defaults. This is the shape
// proposed for the project schema's `fresco` object; until the schema has it, callers pass it in.

export interface FrescoSettings {
  /** Keyframes per batch, prefix included (every later batch starts with the first keyframe and the previous batch's last). */
  batchSize: number;
  /** Spatial-guided attention: queries mixed by the input frame's self-similarity (first step, two finest up blocks). */
  spatialAttention: boolean;
  spatialScale: number;
  /** Efficient cross-frame attention: keys/values from all of the first frame plus the newly revealed tokens of the others (every step). */
  crossFrameAttention: boolean;
  /** Temporal-guided attention along flow trajectories (the two finest up blocks) while t ≥ temporalUntilTimestep. */
  temporalAttention: boolean;
  temporalUntilTimestep: number;
  /** FreSCo-aware optimisation of the up-block input features. */
  featureOptimisation: boolean;
  /** Up blocks whose input features are optimised (0 = the mid-block output, the coarsest). */
  optimisedUpBlocks: number[];
  /**
   * Adam iterations per step, learning rate and loss weights, for the scale-free losses of
   * feature-optimisation.ts (warp loss and step size relative to the features' mean magnitude).
   */
  iterations: number;
  learningRate: number;
  warpWeight: number;
  similarityWeight: number;
  /** The optimisation runs on steps s < optimiseUntil·S (15 of 20 steps). */
  optimiseUntil: number;
  /** Background smoothing; needs a saliency model (ONNX). */
  backgroundSmoothing: boolean;
  /** Steps (as fractions of S, 16 and 17 of 20) at which the background is smoothed. */
  smoothingSteps: number[];
}

export function defaultFrescoSettings(): FrescoSettings {
  return {
    batchSize: 8,
    spatialAttention: true,
    spatialScale: 0.2,
    crossFrameAttention: true,
    temporalAttention: true,
    temporalUntilTimestep: 350,
    featureOptimisation: true,
    optimisedUpBlocks: [0, 1],
    iterations: 20,
    learningRate: 0.01,
    warpWeight: 1,
    similarityWeight: 10,
    optimiseUntil: 0.75,
    backgroundSmoothing: false,
    smoothingSteps: [0.8, 0.85],
  };
}

/** Settings with every FRESCO component off: the batch renders like independent keyframes sharing noise. */
export function frescoComponentsOff(base = defaultFrescoSettings()): FrescoSettings {
  return { ...base, spatialAttention: false, crossFrameAttention: false, temporalAttention: false, featureOptimisation: false, backgroundSmoothing: false };
}
