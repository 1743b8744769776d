// The one interface every keyframe method (Rerender, independent, FRESCO) implements, and the request and
// summary of a keyframe render. A method plans the run as units (a keyframe, or a FRESCO batch) and
// renders one unit at a time; the shared runner (render-project.ts, renderSnapshot) does the rest: it
// opens the runtime and the diffusion models, reports progress and ETA, writes each finished image as a
// result, commits it to the run's snapshot, records failures, and tears everything down.
import type { Image } from '../../../native-models/src/image';
import type { ModelRuntime } from '../../../native-models/src/runtime/model-runtime';
import type { CancelToken, ProgressFn } from '../../../native-models/src/errors';
import type { FrescoSettings, Keyframe, ModelSelection, Project, RenderOverrides } from '../../../preload/project-schema';
import type { FrescoBatchReport } from '../fresco/fresco-render';
import type { DiffusionModels, ModelFiles } from './diffusion-models';
import type { CachePrecision } from './keyframe-cache';
import type { KeyframeFailure, KeyframeResult, RenderedKeyframe } from './keyframe-commit';
import type { RenderEnv } from './keyframe-render';
import type { Dependency, Staleness } from './render-records';

export interface RenderRequest {
  projectFile: string;
  /** One keyframe by frame index (created when the frame has none), some by id (in timeline order), or every diffusion keyframe. */
  target: { frame: number } | { ids: string[] } | 'all';
  /** Parameter changes: stored as the keyframe's overrides for one frame, as project defaults for all. */
  overrides?: RenderOverrides;
  /** Model selection changes, stored in the project. */
  models?: Partial<ModelSelection>;
  mode?: Project['mode'];
  /** FRESCO switches and parameters, stored in the project (FRESCO mode). */
  fresco?: Partial<FrescoSettings>;
  /**
   * FRESCO: render only this batch (keyframe ids in timeline order, and those that get its new images) of
   * the plan for `target`: one job of a render farm (fresco-method.ts, frescoUnits).
   */
  frescoBatch?: { keyframes: string[]; keep: string[] };
  /** ONNX salient-object model for FRESCO's background smoothing. */
  saliencyModel?: string | null;
  /** Models folder (default: $RERENDER_MODELS or ~/.rerender/models). */
  modelsDir?: string;
  /** Tokenizer folder, when the checkpoint carries none. */
  tokenizer?: string;
  /** ONNX detector for soft-edge or depth ControlNets, for this run (default: the project's choice). */
  detector?: string;
  /** A runtime kept across jobs (the inference worker's); one is made for the call otherwise. */
  runtime?: ModelRuntime;
  cachePrecision?: CachePrecision;
  /** Where a model path the project stores is on this machine (a farm worker's mapping); default: in `modelsDir`. */
  modelPath?: (stored: string) => string;
  /** Model config replacements (tests with the tiny fixture models in single-file form). */
  modelConfigs?: ModelFiles['configs'];
  cancel?: CancelToken;
  progress?: ProgressFn;
}

export interface RenderSummary {
  rendered: RenderedKeyframe[];
  /** The finished renders, for the project's owner to commit (the job never writes the project file). */
  results: KeyframeResult[];
  /** Keyframes whose render failed or was cancelled, with the status to show. */
  failures: KeyframeFailure[];
  /** Results that could not be taken as they were (their keyframe changed meanwhile). */
  notes?: string[];
  /** Keyframes now out of date, with the reason shown to the user. */
  stale: Staleness[];
  /** Propagated segments that used a re-rendered keyframe. */
  staleSegments: string[];
  /** The execution provider the UNet ran on. */
  provider?: string;
  /** Providers tried before it and why each could not run (no GPU adapter, CUDA libraries missing, …). */
  skippedProviders?: Array<{ provider: string; reason: string }>;
  /** Truncated prompts, LoRA modules that matched nothing, options asked for but unavailable. */
  warnings: string[];
  /** FRESCO mode: what each batch did (cross-frame keys, optimisation losses). */
  fresco?: { batches: FrescoBatchReport[] };
}

/** A failed or cancelled render's error carries what finished before it, for the owner to commit. */
export function withPartial(err: unknown, summary: RenderSummary): unknown {
  if (err && typeof err === 'object') (err as { partial?: RenderSummary }).partial = summary;
  return err;
}

export function partialOf(err: unknown): RenderSummary | undefined {
  return (err as { partial?: RenderSummary } | undefined)?.partial;
}

/** One unit of a plan: rendered together; `keyframes` are the ones that get its new images. */
export interface MethodUnit {
  keyframes: Keyframe[];
  /** What the progress line names while the unit renders ("keyframe at frame 12", "FRESCO batch 2 of 3 …"). */
  label: string;
}

export interface MethodPlan<U extends MethodUnit = MethodUnit> {
  units: U[];
  /** Sampler steps (UNet evaluations) of the whole run, the colour reference included: progress and ETA. */
  steps: number;
}

/** What a method gets once the shared models are open. */
export interface MethodContext {
  request: RenderRequest & { detector?: string };
  runtime: ModelRuntime;
  files: ModelFiles;
  models: DiffusionModels;
  /** The diffusion models with cancel, cache precision and the step counter of the run's progress. */
  env: RenderEnv;
  /** Names what the progress line shows until the first unit starts (a preliminary render). */
  stage(label: string): void;
  /** Added to the summary's warnings. */
  warnings: string[];
}

/** One finished image of a unit, with what its render record says about it. */
export interface UnitImage {
  keyframe: Keyframe;
  image: Image;
  seed: number;
  settingsKey: string;
  /** The caches this render wrote, when later keyframes read them. */
  cacheDir?: string;
  dependsOn: Dependency[];
}

/** A method's open resources for one run. */
export interface MethodRun<U extends MethodUnit = MethodUnit> {
  /** Renders one unit against `project` (the snapshot with every earlier unit's results committed). */
  render(unit: U, project: Project): Promise<UnitImage[]>;
  /** UNet calls so far (the per-keyframe figures of the summary). */
  unetCalls(): number;
  /** Method-specific parts of the summary (FRESCO's batch reports). */
  report?(): Partial<RenderSummary>;
  /** After each unit's images are written (the Rerender method drops caches no record names). */
  written?(images: UnitImage[]): void;
  close(): Promise<void>;
}

export interface KeyframeMethod<U extends MethodUnit = MethodUnit, P extends MethodPlan<U> = MethodPlan<U>> {
  /** The units to render `targets` (diffusion keyframes, in timeline order) of `project`, and their steps. */
  plan(project: Project, targets: Keyframe[], request: RenderRequest, warnings: string[]): P;
  /** Opens what the method needs beyond the shared models (FRESCO: its batched UNet, the saliency model). */
  open(ctx: MethodContext, plan: P, project: Project): Promise<MethodRun<U>>;
}
