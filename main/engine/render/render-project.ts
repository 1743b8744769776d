// Rendering a project's keyframes (issue 6): one keyframe (regenerate, leaving every other keyframe's
// files alone), some, or all of them in timeline order, by the project's keyframe method
// (keyframe-method.ts: Rerender, independent or FRESCO). renderSnapshot is the one runner every method
// goes through: set-up, progress and ETA, each result written and committed to the run's snapshot,
// failures, teardown. Results and caches go to the project cache; a job returns the results and the
// project's owner commits them (the editor's document, or the command line's renderKeyframes).
import path from 'node:path';
import { ModelRuntime, providerReport } from '../../../native-models/src/runtime/model-runtime';
import { checkChosenModels, compiledGraphsDir, projectModelPath, resolveModelsDir } from '../../../native-models/src/model-manager';
import { addKeyframe, effectiveRenderParams, keyframeAt, updateKeyframe } from '../project/keyframes';
import { projectPaths } from '../project/paths';
import { ProjectStore } from '../project/project-store';
import { ensureFrameCache } from '../project/source-video';
import type { Keyframe, Project } from '../../../preload/project-schema';
import { stepProgress } from '../jobs/eta';
import { UserError } from '../../../native-models/src/errors';
import { defaultFrescoSettings } from '../fresco/settings';
import { frescoMethod } from '../fresco/fresco-method';
import { DiffusionModels } from './diffusion-models';
import { applyKeyframeResults, failureOf, projectModelFiles, writeKeyframeResult } from './keyframe-commit';
import { partialOf, withPartial, type KeyframeMethod, type MethodRun, type RenderRequest, type RenderSummary } from './keyframe-method';
import { independentMethod, rerenderMethod } from './rerender-method';
import { orderedKeyframes } from './render-records';

export type { RenderedKeyframe } from './keyframe-commit';
export { partialOf, withPartial, type RenderRequest, type RenderSummary } from './keyframe-method';

/** The keyframe method of each project mode. */
const METHODS: Record<Project['mode'], KeyframeMethod> = { rerender: rerenderMethod, independent: independentMethod, fresco: frescoMethod };

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

/**
 * Renders the requested keyframes of the project file and commits the results to it (the command line):
 * the project's store holds its lock for the run, the request's settings are one change, the results
 * another, and the file is saved after each. A failure or cancel commits what finished before it.
 */
export async function renderKeyframes(request: RenderRequest): Promise<RenderSummary> {
  return ProjectStore.with(request.projectFile, async (store) => {
    await checkChosenModels(request.models, resolveModelsDir(request.modelsDir));
    if (store.apply('Change render settings', (p) => applyRequest(p, request))) await store.save();
    await ensureFrameCache(store.file, store.project, { cancel: request.cancel }); // a deleted cache is rebuilt first
    const base = store.snapshot();
    const commit = async (summary: RenderSummary) => {
      const committed = store.commit('Render keyframes', base, (current, from) => applyKeyframeResults(store.file, current, summary.results, summary.failures, from));
      await store.save();
      return { ...summary, stale: committed.stale, staleSegments: committed.staleSegments, notes: committed.notes };
    };
    let summary: RenderSummary;
    try {
      summary = await renderSnapshot(request, base.project);
    } catch (err) {
      const partial = partialOf(err);
      if (partial) await commit(partial).catch(() => undefined); // the original error matters more
      throw err;
    }
    return commit(summary);
  }, { app: 'rerender render' });
}

/** The keyframes a request renders, in timeline order (the order the method renders them in). */
export function renderTargets(project: Project, target: RenderRequest['target']): Keyframe[] {
  const keys = orderedKeyframes(project);
  const targets = target === 'all' ? keys.filter((k) => k.source === 'diffusion')
    : 'ids' in target ? keys.filter((k) => k.source === 'diffusion' && target.ids.includes(k.id))
    : [keyframeAt(project, target.frame)!];
  if (!targets[0] && target !== 'all' && 'frame' in target) throw new UserError(`frame ${target.frame} has no keyframe`);
  if (target !== 'all' && 'frame' in target && targets[0].source !== 'diffusion') {
    throw new UserError(`the keyframe at frame ${targets[0].frame} is ${targets[0].source}: its image is used as it is (import another image to change it)`);
  }
  return targets;
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
  const req = { ...request, detector: request.detector ?? (chosen ? (request.modelPath?.(chosen) ?? projectModelPath(modelsDir, chosen)) : undefined) };

  const targets = renderTargets(project, req.target);
  const summary: RenderSummary = { rendered: [], results: [], failures: [], stale: [], staleSegments: [], warnings: [] };
  if (targets.length === 0) return summary;

  const method = METHODS[project.mode];
  const planWarnings: string[] = [];
  const plan = method.plan(project, targets, req, planWarnings);
  const runtime = req.runtime ?? new ModelRuntime({ cacheDir: compiledGraphsDir(modelsDir) });
  let stage = '';
  const progress = stepProgress(plan.steps, req.progress, () => stage);
  const paths = projectPaths(req.projectFile);
  let models: DiffusionModels | undefined;
  let run: MethodRun | undefined;
  let claimed: Keyframe[] = [];
  try {
    const files = await projectModelFiles(req.projectFile, project, modelsDir, { tokenizer: req.tokenizer, configs: req.modelConfigs, modelPath: req.modelPath });
    // Model loading (graph builds, sessions) reports its stage without moving the step fraction.
    models = await DiffusionModels.open(runtime, files, (_f, m) => req.progress?.(progress.fraction(), m));
    const env = { models, cancel: req.cancel, cachePrecision: req.cachePrecision, onStep: progress.step };
    run = await method.open({ request: req, runtime, files, models, env, warnings: planWarnings, stage: (label) => { stage = label; } }, plan, project);
    for (const unit of plan.units) {
      stage = unit.label;
      req.progress?.(progress.fraction(), stage);
      claimed = unit.keyframes;
      const started = Date.now(), calls = run.unetCalls();
      const images = await run.render(unit, project);
      const share = { seconds: (Date.now() - started) / 1000 / images.length, unetCalls: (run.unetCalls() - calls) / images.length };
      for (const i of images) {
        // What was rendered is described by the settings at its start.
        const written = await writeKeyframeResult(req.projectFile, i.keyframe, i.image, {
          mode: project.mode, seed: i.seed, settingsKey: i.settingsKey,
          cacheDir: i.cacheDir ? path.relative(paths.keyframesDir, i.cacheDir) : undefined,
          dependsOn: i.dependsOn,
        });
        // Later units of this run are constrained by (or batched with) this one's new image: commit it to the snapshot.
        const committed = applyKeyframeResults(req.projectFile, project, [written]);
        project = committed.project;
        claimed = claimed.filter((c) => c.id !== i.keyframe.id);
        summary.results.push(written);
        summary.rendered.push({ id: written.id, frame: written.frame, image: path.join(paths.dir, written.image), revision: written.baseRevision + 1, ...share });
        summary.stale = committed.stale;
        for (const id of committed.staleSegments) if (!summary.staleSegments.includes(id)) summary.staleSegments.push(id);
      }
      run.written?.(images);
    }
  } catch (err) {
    if (!models) throw err; // nothing started: nothing to commit
    for (const k of claimed) summary.failures.push(failureOf(project.keyframes.find((x) => x.id === k.id) ?? k, err));
    throw withPartial(err, summary);
  } finally {
    Object.assign(summary, providerReport(runtime), run?.report?.());
    summary.warnings = [...planWarnings, ...(models?.warnings ?? [])];
    await run?.close();
    await models?.close();
    if (!req.runtime) await runtime.releaseAll();
  }
  return summary;
}
