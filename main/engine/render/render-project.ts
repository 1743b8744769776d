// Rendering a project's keyframes (issue 6): one keyframe (regenerate, leaving every other keyframe's
// files alone) or all of them in timeline order, in "rerender" mode (anchor + constrained later keyframes),
// "independent" mode (each keyframe alone) or "fresco" mode (batches, fresco/render-fresco-project.ts).
// Results and caches go to the project cache; a job returns the results (renderSnapshot) and the project's
// owner commits them (the editor's document, or the command line's renderKeyframes).
import fs from 'node:fs';
import path from 'node:path';
import type { Image } from '../../../native-models/src/image';
import { ModelRuntime, providerReport } from '../../../native-models/src/runtime/model-runtime';
import { checkChosenModels, compiledGraphsDir, projectModelPath, resolveModelsDir } from '../../../native-models/src/model-manager';
import { readRgb, writePng } from '../media/image-files';
import { addKeyframe, effectiveRenderParams, keyframeAt, updateKeyframe } from '../project/keyframes';
import { resolveInProject } from '../project/confinement';
import { projectPaths } from '../project/paths';
import { readProjectFile, writeProjectFile } from '../project/project-file';
import { ensureFrameCache } from '../project/source-video';
import type { FrescoSettings, Keyframe, ModelSelection, Project, RenderOverrides } from '../../../preload/project-schema';
import { stepProgress } from '../jobs/eta';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';
import { defaultFrescoSettings } from '../fresco/settings';
import type { FrescoBatchReport } from '../fresco/fresco-render';
import { renderFrescoKeyframes } from '../fresco/render-fresco-project';
import { DiffusionModels, type ModelFiles } from './diffusion-models';
import { CacheReader, type CachePrecision } from './keyframe-cache';
import { applyKeyframeResults, failureOf, keyframeInputFrame, projectModelFiles, writeKeyframeResult, type KeyframeFailure, type KeyframeResult, type RenderedKeyframe } from './keyframe-commit';
import { analyseImage, plannedSteps, renderLater, renderPlain, type CacheTarget, type FrameInput, type RenderEnv } from './keyframe-render';
import { constraintSources, orderedKeyframes, readRecord, refreshesPrevious, settingsKey, type Dependency, type Staleness } from './render-records';

export type { RenderedKeyframe } from './keyframe-commit';

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

/** Applies the request's settings to the project (they persist: the next render uses them too). */
export function applyRequest(project: Project, req: RenderRequest): Project {
  let p: Project = { ...project, models: { ...project.models, ...req.models }, mode: req.mode ?? project.mode };
  if (req.fresco && Object.keys(req.fresco).length) p = { ...p, fresco: { ...defaultFrescoSettings(), ...p.fresco, ...req.fresco } };
  const o = req.overrides ?? {};
  if (req.target === 'all' || 'ids' in req.target) {
    p = { ...p, render: effectiveRenderParams(p.render, o) };
  } else {
    p = addKeyframe(p, req.target.frame);
    const k = keyframeAt(p, req.target.frame)!;
    if (Object.keys(o).length) {
      p = updateKeyframe(p, k.id, (old) => ({
        ...old,
        overrides: {
          ...old.overrides, ...o,
          ...(o.controlnet ? { controlnet: { ...old.overrides.controlnet, ...o.controlnet } } : {}),
          ...(o.constraints ? { constraints: { ...old.overrides.constraints, ...o.constraints } } : {}),
        },
      }));
    }
  }
  return p;
}

/** A failed or cancelled render's error carries what finished before it, for the owner to commit. */
export function withPartial(err: unknown, summary: RenderSummary): unknown {
  if (err && typeof err === 'object') (err as { partial?: RenderSummary }).partial = summary;
  return err;
}

export function partialOf(err: unknown): RenderSummary | undefined {
  return (err as { partial?: RenderSummary } | undefined)?.partial;
}

/**
 * Renders the requested keyframes of the project file and commits the results to it (the command line:
 * the caller holds the project's lock, so this is the file's only writer for the run). A failure or cancel
 * commits what finished before it.
 */
export async function renderKeyframes(request: RenderRequest): Promise<RenderSummary> {
  const onDisk = await readProjectFile(request.projectFile);
  await checkChosenModels(request.models, resolveModelsDir(request.modelsDir));
  const project = applyRequest(onDisk, request);
  if (JSON.stringify(project) !== JSON.stringify(onDisk)) await writeProjectFile(request.projectFile, project);
  await ensureFrameCache(request.projectFile, project, { cancel: request.cancel }); // a deleted cache is rebuilt first
  const commit = async (summary: RenderSummary) => {
    const latest = await readProjectFile(request.projectFile);
    const committed = applyKeyframeResults(request.projectFile, latest, summary.results, summary.failures);
    await writeProjectFile(request.projectFile, committed.project);
    return { ...summary, stale: committed.stale, staleSegments: committed.staleSegments, notes: committed.notes };
  };
  let summary: RenderSummary;
  try {
    summary = await renderSnapshot(request, project);
  } catch (err) {
    const partial = partialOf(err);
    if (partial) await commit(partial).catch(() => undefined); // the original error matters more
    throw err;
  }
  return commit(summary);
}

/**
 * Renders the requested keyframes of `project` (a snapshot: the project as its owner holds it, the
 * request's settings already applied). Images and records go under the cache; the project file is
 * never read or written. Returns the results for the owner to commit (applyKeyframeResults); on failure
 * or cancel the error carries the results finished so far (partialOf).
 */
export async function renderSnapshot(request: RenderRequest, snapshot: Project): Promise<RenderSummary> {
  const modelsDir = resolveModelsDir(request.modelsDir);
  let project = snapshot;
  const chosen = project.models.detector;
  const req = { ...request, detector: request.detector ?? (chosen ? projectModelPath(modelsDir, chosen) : undefined) };

  const keys = orderedKeyframes(project);
  const target = req.target;
  const targets = target === 'all' ? keys.filter((k) => k.source === 'diffusion')
    : 'ids' in target ? keys.filter((k) => k.source === 'diffusion' && target.ids.includes(k.id))
    : [keyframeAt(project, target.frame)!];
  if (!targets[0] && target !== 'all' && 'frame' in target) throw new UserError(`frame ${target.frame} has no keyframe`);
  if (target !== 'all' && 'frame' in target && targets[0].source !== 'diffusion') {
    throw new UserError(`the keyframe at frame ${targets[0].frame} is ${targets[0].source}: its image is used as it is (import another image to change it)`);
  }
  if (targets.length === 0) return { rendered: [], results: [], failures: [], stale: [], staleSegments: [], warnings: [] };
  if (project.mode === 'fresco') return renderFrescoKeyframes(req, project, targets);
  const mode = project.mode;

  const total = targets.reduce((a, k) => a + plannedSteps(effectiveRenderParams(project.render, k.overrides), keys.indexOf(k) === 0 || mode === 'independent' ? 'anchor' : 'later'), 0);
  const runtime = req.runtime ?? new ModelRuntime({ cacheDir: compiledGraphsDir(modelsDir) });
  const files = await projectModelFiles(req.projectFile, project, modelsDir, { tokenizer: req.tokenizer, configs: req.modelConfigs });
  let current: Keyframe | undefined;
  const progress = stepProgress(total, req.progress, () => `keyframe at frame ${current?.frame}`);
  // Model loading (graph builds, sessions) reports its stage without moving the step fraction.
  const models = await DiffusionModels.open(runtime, files, (_f, m) => req.progress?.(progress.fraction(), m));
  const paths = projectPaths(req.projectFile);
  const env: RenderEnv = { models, cancel: req.cancel, cachePrecision: req.cachePrecision, onStep: progress.step };
  const summary: RenderSummary = { rendered: [], results: [], failures: [], stale: [], staleSegments: [], warnings: [] };
  try {
    for (const t of targets) {
      const target = project.keyframes.find((k) => k.id === t.id)!;
      current = target;
      const started = Date.now(), calls = models.unetCalls;
      const result = await renderOne(req, project, target, mode, env, paths.keyframesDir);
      // What was rendered is described by the settings at its start.
      const written = await writeKeyframeResult(req.projectFile, target, result.image, {
        mode, seed: effectiveRenderParams(project.render, target.overrides).seed,
        settingsKey: settingsKey(project, target, mode, orderedKeyframes(project)[0].id === target.id),
        cacheDir: result.cacheDir ? path.relative(paths.keyframesDir, result.cacheDir) : undefined,
        dependsOn: result.dependsOn,
      });
      removeOldCaches(paths.keyframesDir, target.id, result.cacheDir);
      // The later keyframes of this run are constrained by this one's new image: commit it to the snapshot.
      const committed = applyKeyframeResults(req.projectFile, project, [written]);
      project = committed.project;
      summary.results.push(written);
      summary.rendered.push({ id: written.id, frame: written.frame, image: path.join(paths.dir, written.image), revision: written.baseRevision + 1, seconds: (Date.now() - started) / 1000, unetCalls: models.unetCalls - calls });
      summary.stale = committed.stale;
      for (const id of committed.staleSegments) if (!summary.staleSegments.includes(id)) summary.staleSegments.push(id);
    }
  } catch (err) {
    if (current) summary.failures.push(failureOf(current, err));
    throw withPartial(err, summary);
  } finally {
    Object.assign(summary, providerReport(runtime));
    summary.warnings = [...models.warnings];
    await models.close();
    if (!req.runtime) await runtime.releaseAll();
  }
  return summary;
}

/** Keeps one cache per keyframe: the one its latest render wrote (disk use stays bounded). */
function removeOldCaches(keyframesDir: string, id: string, keep?: string): void {
  const dir = path.join(keyframesDir, id);
  if (!fs.existsSync(dir)) return;
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (name.startsWith('cache-') && p !== keep) fs.rmSync(p, { recursive: true, force: true });
  }
}

interface OneResult { image: Image; cacheDir?: string; dependsOn: Dependency[] }

async function frameInput(req: RenderRequest, project: Project, k: Keyframe): Promise<FrameInput> {
  const frame = await keyframeInputFrame(req.projectFile, project, k);
  return { frame, params: effectiveRenderParams(project.render, k.overrides), detector: req.detector };
}

async function renderOne(req: RenderRequest, project: Project, k: Keyframe, mode: 'rerender' | 'independent', env: RenderEnv, keyframesDir: string): Promise<OneResult> {
  const keys = orderedKeyframes(project);
  const index = keys.findIndex((x) => x.id === k.id);
  const input = await frameInput(req, project, k);
  const target = (prefix: string): CacheTarget => {
    const key = settingsKey(project, k, mode, index === 0);
    return { dir: path.join(keyframesDir, k.id, `${prefix}-${key}`), key };
  };
  if (mode === 'independent') return { image: (await renderPlain(env, input)).image, dependsOn: [] };
  if (index === 0) {
    const record = target('cache');
    const r = await renderPlain(env, input, record);
    if (r.colourReference) await writePng(path.join(record.dir, 'colour-reference.png'), r.colourReference);
    return { image: r.image, cacheDir: record.dir, dependsOn: [] };
  }
  const every = project.render.constraints.updatePreviousEvery;
  const sources = constraintSources(keys, index, every);
  const anchorCache = await cacheOf(req, project, sources.anchor, 0, env, keyframesDir);
  const tokens = sources.tokens.id === sources.anchor.id ? anchorCache : await cacheOf(req, project, sources.tokens, keys.indexOf(sources.tokens), env, keyframesDir);
  const colourFile = path.join(anchorCache.dir, 'colour-reference.png');
  const record = refreshesPrevious(index, every) ? target('cache') : undefined;
  const r = await renderLater(env, input, {
    anchor: { frame: (await frameInput(req, project, sources.anchor)).frame, result: await resultOf(req, sources.anchor), cache: anchorCache },
    previous: { frame: (await frameInput(req, project, sources.previous)).frame, result: await resultOf(req, sources.previous) },
    previousTokens: tokens,
    colourReference: input.params.colorPreservation && fs.existsSync(colourFile) ? await readRgb(colourFile) : undefined,
  }, record);
  const dep = (role: Dependency['role'], x: Keyframe): Dependency => ({ role, id: x.id, frame: x.frame, revision: x.revision });
  return { image: r.image, cacheDir: record?.dir, dependsOn: [dep('anchor', sources.anchor), dep('previous', sources.previous), dep('tokens', sources.tokens)] };
}

/** The keyframe's current image; an earlier keyframe must have one before a later one can be constrained by it. */
async function resultOf(req: RenderRequest, k: Keyframe): Promise<Image> {
  if (!k.image || (k.source === 'diffusion' && k.status !== 'done' && k.status !== 'stale')) {
    throw new UserError(`the keyframe at frame ${k.frame} has no image yet; render it first (rerender render <project> --frame ${k.frame}, or --all)`);
  }
  return readRgb(resolveInProject(req.projectFile, k.image));
}

/**
 * The caches an earlier keyframe left: a rendered keyframe's from its record (refused when its settings
 * changed since, so nothing latched is used); an imported or painted one's from an analysis of its image,
 * made on first use and kept under a key of the image revision and settings.
 */
async function cacheOf(req: RenderRequest, project: Project, k: Keyframe, index: number, env: RenderEnv, keyframesDir: string): Promise<CacheReader> {
  const key = settingsKey(project, k, 'rerender', index === 0);
  if (k.source !== 'diffusion') {
    const dir = path.join(keyframesDir, k.id, `cache-analysis-${key}`);
    const existing = CacheReader.open(dir);
    if (existing) return existing;
    const input = await frameInput(req, project, k);
    await analyseImage(env, input, await resultOf(req, k), { dir, key });
    removeOldCaches(keyframesDir, k.id, dir);
    return CacheReader.open(dir)!;
  }
  const rec = readRecord(req.projectFile, k);
  const what = index === 0 ? 'the anchor keyframe' : `the keyframe at frame ${k.frame}`;
  if (!rec || !rec.cacheDir) throw new UserError(`${what} (frame ${k.frame}) has not been rendered with its caches; render it first (--frame ${k.frame}, or --all)`);
  if (rec.settingsKey !== key) throw new UserError(`${what} (frame ${k.frame}) is out of date: its settings changed since it was rendered; render it again first (--frame ${k.frame}, or --all)`);
  const cache = CacheReader.open(path.join(keyframesDir, rec.cacheDir));
  if (!cache) throw new UserError(`the caches of ${what} (frame ${k.frame}) are missing from the project cache; render it again`);
  return cache;
}
