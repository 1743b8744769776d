// The project file's schema (version 1): the single definition of what a project holds, validated on load.
// Part of the contract (preload/): the engine, the CLI and the renderer all read projects through it.
import { z } from 'zod';

export const PROJECT_FORMAT = 'rerender-project';
export const PROJECT_VERSION = 1;

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const finite = (min: number, max: number) => z.number().min(min).max(max);
/** A path relative to the project file's folder, never absolute, never climbing out with `..`. */
export const relativePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !/^([a-zA-Z]:)?[\\/]/.test(p), 'must be relative to the project file, not absolute')
  .refine((p) => !p.split(/[\\/]/).includes('..'), 'must stay inside the project folder (no "..")');

export const rational = z.object({ num: int(1, 1_000_000), den: int(1, 1_000_000) });
export type Rational = z.infer<typeof rational>;

export const crop = z.object({ left: int(0, 65536), right: int(0, 65536), top: int(0, 65536), bottom: int(0, 65536) });
export type Crop = z.infer<typeof crop>;

/** An image-sequence source: its PNG or JPEG frames in numeric order, fingerprinted to notice a changed folder. */
export const imageSequence = z.object({
  /** File names of the first and last frame, and how many frames there are. */
  first: z.string().min(1).max(1024),
  last: z.string().min(1).max(1024),
  count: int(1, 10_000_000),
  /** SHA-256 of every frame's file name and size, in order: a frame added, removed or rewritten changes it. */
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ImageSequence = z.infer<typeof imageSequence>;

export const sourceVideo = z.object({
  /** The video (or the image sequence's folder), relative to the project file's folder when inside it, else as the user gave it. */
  path: z.string().min(1).max(4096),
  /** Present when the source is a folder of frames at a rate the user stated (`fps`); such a source has no sound. */
  sequence: imageSequence.optional(),
  /** Display size: square pixels (an anamorphic source's pixel aspect applied), after the rotation. */
  width: int(1, 65536),
  height: int(1, 65536),
  /** The stored pixels' aspect (4:3 for an anamorphic 720×480 shown as 960×480); absent in older projects. */
  pixelAspect: rational.optional(),
  /** Clockwise rotation from the container's display matrix; width/height above are after rotation. */
  rotation: z.union([z.literal(0), z.literal(90), z.literal(180), z.literal(270)]),
  fps: rational,
  variableFrameRate: z.boolean(),
  durationSeconds: finite(0, 1e7),
  hasAudio: z.boolean(),
  /** Size and modification time when imported, to notice a replaced source (a sequence: all its frames' bytes, the newest time). */
  fileSize: int(0, Number.MAX_SAFE_INTEGER),
  modifiedMs: finite(0, 1e15),
});
export type SourceVideo = z.infer<typeof sourceVideo>;

export const workingResolution = z.object({
  mode: z.enum(['short-side', 'long-side']),
  /** Target length of the chosen side before rounding to multiples of 64 (docs/METHOD.md §1). */
  size: int(64, 8192),
  crop: crop.nullable(),
  width: int(64, 16384),
  height: int(64, 16384),
});
export type WorkingResolution = z.infer<typeof workingResolution>;

export const constraintWindow = z.object({ start: finite(0, 1), end: finite(0, 1) });

/** Everything that drives the diffusion of one keyframe; per-keyframe overrides are partial copies. */
export const renderParams = z.object({
  prompt: z.string().max(10_000),
  negativePrompt: z.string().max(10_000),
  seed: int(0, 2 ** 32 - 1),
  steps: int(1, 1000),
  cfg: finite(0, 100),
  strength: finite(0, 1),
  sampler: z.enum(['ddim', 'euler-ancestral', 'dpmpp-2m']),
  controlnet: z.object({
    type: z.enum(['none', 'canny', 'softedge', 'depth']),
    strength: finite(0, 2),
    cannyLow: int(0, 255),
    cannyHigh: int(0, 255),
  }),
  colorPreservation: z.boolean(),
  constraints: z.object({
    crossFrame: constraintWindow,
    shape: constraintWindow,
    pixel: constraintWindow,
    color: constraintWindow,
    fusionStrength: finite(0, 1),
    detailLevel: finite(0, 1),
    smoothBoundary: z.boolean(),
    looseAttention: z.boolean(),
    updatePreviousEvery: int(1, 1000),
    /**
     * A later keyframe finishes pass 1 and decodes it before the pixel composite, then runs pass 2 (the
     * method's order, §3.0). Off (default, absent in older projects): pass 1 stops where pixel-aware fusion
     * starts and its x̂₀ there stands for the decode; the same pass continues with the fusion.
     */
    fullFirstPass: z.boolean().optional(),
  }),
});
export type RenderParams = z.infer<typeof renderParams>;

export const renderOverrides = renderParams.partial().extend({
  controlnet: renderParams.shape.controlnet.partial().optional(),
  constraints: renderParams.shape.constraints.partial().optional(),
});
export type RenderOverrides = z.infer<typeof renderOverrides>;

export const modelSelection = z.object({
  /** Checkpoint file or diffusers folder, a path inside the models folder or absolute. */
  checkpoint: z.string().max(4096).nullable(),
  vae: z.string().max(4096).nullable(),
  controlnet: z.string().max(4096).nullable(),
  loras: z.array(z.object({ file: z.string().min(1).max(4096), multiplier: finite(-10, 10) })).max(32),
  clipSkip: int(1, 12),
  /** ONNX detector making the soft-edge or depth map for those ControlNets (optional: canny needs none). */
  detector: z.string().min(1).max(4096).nullable().optional(),
});
export type ModelSelection = z.infer<typeof modelSelection>;

export const keyframeStatus = z.enum(['empty', 'rendering', 'done', 'stale', 'failed']);
export type KeyframeStatus = z.infer<typeof keyframeStatus>;

/** Where a keyframe's image came from: rendered by diffusion, imported, or saved in the external editor. */
export const keyframeSource = z.enum(['diffusion', 'imported', 'painted']);

export const keyframe = z.object({
  /** Stable identity: survives moving the keyframe to another frame. */
  id: z.string().regex(/^[a-z0-9-]{4,64}$/),
  frame: int(0, 10_000_000),
  source: keyframeSource,
  /** The keyframe's image: assets/ for imported or painted, the cache for rendered ones. */
  image: relativePath.nullable(),
  overrides: renderOverrides,
  status: keyframeStatus,
  /** Bumped whenever the keyframe's image changes, so propagated segments know they are out of date. */
  revision: int(0, Number.MAX_SAFE_INTEGER),
  /** Why the keyframe is stale or failed, in the user's words. */
  note: z.string().max(2000).optional(),
  /**
   * Earlier images the user can go back to (relative image paths with the seed that made them, and where
   * each came from: absent in older projects, where every entry counted as rendered).
   */
  history: z.array(z.object({ image: relativePath, seed: int(0, 2 ** 32 - 1), createdAt: z.string().max(64), source: keyframeSource.optional() })).max(100),
});
export type Keyframe = z.infer<typeof keyframe>;

export const propagationSettings = z.object({
  guideWeights: z.object({ color: finite(0, 1000), edge: finite(0, 1000), temporal: finite(0, 1000), positional: finite(0, 1000) }),
  patchSize: int(3, 15).refine((n) => n % 2 === 1, 'patch size must be odd'),
  uniformity: finite(0, 1e6),
  pyramidLevels: int(-1, 16),
  searchVoteIters: int(1, 100),
  patchMatchIters: int(1, 100),
  gradientFusion: z.boolean(),
  workers: int(1, 64),
});
export type PropagationSettings = z.infer<typeof propagationSettings>;

/**
 * The export formats, the one list (the export dialog, the command line, the job and the exporter read
 * it), in the order the dialog shows them: each with its words and file extension ('' = a folder of PNGs).
 */
export const EXPORT_FORMATS = {
  mp4: { label: 'MP4 (H.264)', ext: '.mp4' },
  webm: { label: 'WebM (VP9)', ext: '.webm' },
  gif: { label: 'GIF', ext: '.gif' },
  prores: { label: 'ProRes 422 HQ (MOV)', ext: '.mov' },
  png: { label: 'PNG frames (folder)', ext: '' },
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;
export const exportFormat = z.enum(Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]]);

/** Limits of an export's width and height in pixels (`--size WxH`): even, as 4:2:0 video needs. */
export const EXPORT_SIDE = { min: 16, max: 16384 } as const;
const exportSide = z.number().int().min(EXPORT_SIDE.min).max(EXPORT_SIDE.max).refine((v) => v % 2 === 0, 'an even number of pixels');
/** An export's size: the source's pixels, the working size, or an explicit W×H (the CLI's --size). */
export const exportSizeChoice = z.union([z.enum(['source', 'working']), z.object({ width: exportSide, height: exportSide }).strict()]);

export const exportSettings = z.object({
  format: exportFormat,
  /** Last export destination, relative to the project folder when inside it. */
  lastPath: z.string().max(4096).nullable(),
  sideBySide: z.boolean(),
});
export type ExportSettings = z.infer<typeof exportSettings>;

/** FRESCO mode's switches and parameters (docs/METHOD.md §6); defaults in main/engine/fresco/settings.ts. */
export const frescoSettings = z.object({
  /** Keyframes per batch, prefix included (later batches start with the first keyframe and the previous batch's last). */
  batchSize: int(3, 64),
  /** Spatial-guided attention: queries mixed by the input frame's self-similarity (first step, two finest up blocks). */
  spatialAttention: z.boolean(),
  spatialScale: finite(0, 10),
  /** Efficient cross-frame attention: keys/values from the first frame plus the newly revealed tokens of the others. */
  crossFrameAttention: z.boolean(),
  /** Temporal-guided attention along flow trajectories while t ≥ temporalUntilTimestep. */
  temporalAttention: z.boolean(),
  temporalUntilTimestep: int(0, 1000),
  /** FreSCo-aware optimisation of the up-block input features. */
  featureOptimisation: z.boolean(),
  /** Up blocks whose input features are optimised (0 = the mid-block output, the coarsest). */
  optimisedUpBlocks: z.array(int(0, 8)).max(8),
  /** Adam iterations per step, learning rate and loss weights (scale-free losses, see feature-optimisation.ts). */
  iterations: int(0, 1000),
  learningRate: finite(0, 10),
  warpWeight: finite(0, 1e6),
  similarityWeight: finite(0, 1e6),
  /** The optimisation runs on steps s < optimiseUntil·S. */
  optimiseUntil: finite(0, 1),
  /** Background smoothing; needs a saliency model (ONNX). */
  backgroundSmoothing: z.boolean(),
  /** The salient-object model (ONNX) for background smoothing: inside the models folder, or absolute; null = none. */
  saliencyModel: z.string().min(1).max(4096).nullable().optional(),
  /** Steps (as fractions of S) at which the background is smoothed. */
  smoothingSteps: z.array(finite(0, 1)).max(100),
});
export type FrescoSettings = z.infer<typeof frescoSettings>;

export const project = z.object({
  format: z.literal(PROJECT_FORMAT),
  version: z.literal(PROJECT_VERSION),
  name: z.string().max(256),
  source: sourceVideo,
  working: workingResolution,
  /**
   * Decoded frames: every output frame has an index in [0, count). Each source frame once (a variable-rate
   * source keeps its frame times), or resampled to `fps` when the user chose it (absent in older projects:
   * those resampled every variable-rate source).
   */
  frames: z.object({ count: int(1, 10_000_000), fps: rational, resampled: z.boolean().optional() }),
  mode: z.enum(['rerender', 'independent', 'fresco']),
  /** FRESCO mode settings; absent means the defaults. */
  fresco: frescoSettings.optional(),
  models: modelSelection,
  render: renderParams,
  keyframes: z.array(keyframe).max(1_000_000),
  propagation: propagationSettings,
  export: exportSettings,
});
export type Project = z.infer<typeof project>;
