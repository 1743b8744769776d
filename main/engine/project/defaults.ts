// Default settings of a new project (docs/METHOD.md §3.5 for rendering, §4.1 for propagation).
import { PROJECT_FORMAT, PROJECT_VERSION, type ExportSettings, type ModelSelection, type Project, type PropagationSettings, type RenderParams } from '../../../preload/project-schema';

export function defaultRenderParams(): RenderParams {
  return {
    prompt: '',
    negativePrompt: 'longbody, lowres, bad anatomy, bad hands, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality',
    seed: 0,
    steps: 20,
    cfg: 7.5,
    strength: 0.75,
    sampler: 'ddim',
    controlnet: { type: 'canny', strength: 1, cannyLow: 100, cannyHigh: 200 },
    colorPreservation: false,
    constraints: {
      crossFrame: { start: 0, end: 1 },
      shape: { start: 0, end: 0.1 },
      pixel: { start: 0.5, end: 0.8 },
      color: { start: 0.8, end: 1 },
      fusionStrength: 0.5,
      detailLevel: 0.9,
      smoothBoundary: true,
      looseAttention: true,
      updatePreviousEvery: 1,
      fullFirstPass: false,
    },
  };
}

export function defaultPropagationSettings(): PropagationSettings {
  return {
    guideWeights: { color: 6, edge: 0.5, temporal: 1.5, positional: 2 },
    patchSize: 5,
    uniformity: 3500,
    pyramidLevels: -1,
    searchVoteIters: 12,
    patchMatchIters: 6,
    gradientFusion: true,
    workers: 2,
  };
}

export function defaultModelSelection(): ModelSelection {
  return { checkpoint: null, vae: null, controlnet: null, loras: [], clipSkip: 1 };
}

export function defaultExportSettings(): ExportSettings {
  return { format: 'mp4', lastPath: null, sideBySide: false };
}

/** Keyframe spacing of a new project (docs/METHOD.md §1: every K = 10 frames). */
export const DEFAULT_KEYFRAME_INTERVAL = 10;

/** A new project document around a source and its frames, with every setting at its default. */
export function newProjectDocument(fields: Pick<Project, 'name' | 'source' | 'working' | 'frames'>): Project {
  return {
    format: PROJECT_FORMAT,
    version: PROJECT_VERSION,
    ...fields,
    mode: 'rerender',
    models: defaultModelSelection(),
    render: defaultRenderParams(),
    keyframes: [],
    propagation: defaultPropagationSettings(),
    export: defaultExportSettings(),
  };
}
