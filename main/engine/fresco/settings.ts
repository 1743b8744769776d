// FRESCO mode's switches and parameters (docs/METHOD.md §6) with the method's defaults, and whether background
// smoothing can run with the chosen saliency model. This is the shape of the project schema's optional
// `fresco` object (preload/project-schema.ts); a project without it uses these defaults.

export type { FrescoSettings } from '../../../preload/project-schema';

import { onnxModelAvailability, type ModelAvailability } from '../../../native-models/src/model-manager';
import type { FrescoSettings } from '../../../preload/project-schema';

export function defaultFrescoSettings(): FrescoSettings {
  return {
    batchSize: 8,
    spatialAttention: true,
    spatialScale: 0.2,
    crossFrameAttention: true,
    temporalAttention: true,
    temporalUntilTimestep: 350,
    featureOptimisation: true,
    // The published code optimises all four up-block inputs. The self-similarity loss costs N²·C per frame
    // and iteration, N = 4096 tokens for the finest block at 512²: about 100 TFLOP per keyframe batch on
    // the CPU, where our optimiser runs. The two coarsest blocks (N = 64, 256) cost seconds and carry the
    // layout; the finer ones can be added per project.
    optimisedUpBlocks: [0, 1],
    iterations: 20,
    // Scale-free units (feature-optimisation.ts), so one default suits every model width and feature
    // level. The published code steps 0.2 in absolute feature units with the self-similarity loss weighted
    // 100 against both flow directions' warp losses; those absolute values overshoot on small features
    // (the sd-tiny fixtures: the warp loss rose eightfold), and their relative equivalent for Stable
    // Diffusion 1.5 depends on its feature magnitudes, which only real weights show.
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

/** Whether background smoothing can be offered, and if not, the reason the inspector shows. */
export function saliencyAvailability(file?: string | null): ModelAvailability {
  return onnxModelAvailability(file, 'saliency model', 'background smoothing needs a salient-object model (ONNX, image in, one-channel map out); choose one in the inspector (Method) or the model manager');
}
