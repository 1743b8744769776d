// FRESCO mode for a project (issue 9), called by renderKeyframes (render/render-project.ts) when the
// project's method is FRESCO. Rendering all keyframes goes through them in timeline order in batches
// (batches.ts); regenerating one renders it in a batch with the first keyframe and the keyframe before
// it, whose new images are discarded. Only diffusion keyframes take part: imported and painted ones keep
// their images. Every finished keyframe is recorded like any other render (keyframe-commit.ts).
import path from 'node:path';
import type { Image } from '../../../native-models/src/image';
import { compiledGraphsDir, projectModelPath, resolveModelsDir } from '../../../native-models/src/model-manager';
import { ModelRuntime, providerReport } from '../../../native-models/src/runtime/model-runtime';
import { stepProgress } from '../jobs/eta';
import { effectiveRenderParams } from '../project/keyframes';
import type { Keyframe, Project } from '../../../preload/project-schema';
import { DiffusionModels } from '../render/diffusion-models';
import { applyKeyframeResults, failureOf, keyframeInputFrame, projectModelFiles, writeKeyframeResult } from '../render/keyframe-commit';
import { orderedKeyframes, settingsKey } from '../render/render-records';
import { withPartial, type RenderRequest, type RenderSummary } from '../render/render-project';
import { openSaliencyModel, type SaliencyModel } from './background-smoothing';
import { batchParams, planBatches, regenerateBatch, type Batch } from './batches';
import { batchSteps, renderFrescoBatch } from './fresco-render';
import { FrescoUNet } from './fresco-unet';
import { defaultFrescoSettings, frescoComponentsOff, saliencyAvailability, type FrescoSettings } from './settings';

/** Renders `targets` (every diffusion keyframe, or one) of a project whose method is FRESCO. */
export async function renderFrescoKeyframes(req: RenderRequest, snapshot: Project, targets: Keyframe[]): Promise<RenderSummary> {
  let project = snapshot;
  const settings: FrescoSettings = { ...defaultFrescoSettings(), ...project.fresco };
  const summary: RenderSummary = { rendered: [], results: [], failures: [], stale: [], staleSegments: [], warnings: [], fresco: { batches: [] } };
  const modelsDir = resolveModelsDir(req.modelsDir);
  // This run's saliency model (CLI --saliency), else the project's choice; opened with the other models.
  const saliencyFile = req.saliencyModel ?? (settings.saliencyModel ? projectModelPath(modelsDir, settings.saliencyModel) : undefined);
  if (settings.backgroundSmoothing) {
    const a = saliencyAvailability(saliencyFile);
    if (!a.available) { summary.warnings.push(`background smoothing is unavailable: ${a.reason}`); settings.backgroundSmoothing = false; }
  }
  const keys = orderedKeyframes(project).filter((k) => k.source === 'diffusion');
  // Every keyframe: batch by batch; some (one, or those not done yet): each in its own batch with its context.
  const batches: Batch[] = req.target === 'all' || targets.length === keys.length
    ? planBatches(keys.length, settings.batchSize).map((b) => ({ keyframes: b.keyframes, keep: b.keyframes.slice(b.prefix) }))
    : targets.map((t) => regenerateBatch(keys.length, keys.findIndex((k) => k.id === t.id)));
  const params = batches.map((b) => batchParams(project, keys, b, summary.warnings));
  const colour = params.some((ps) => ps.some((p) => p.colorPreservation));
  const total = Math.max(1, params.reduce((a, ps) => a + batchSteps(ps[0], settings), colour ? effectiveRenderParams(project.render, keys[0].overrides).steps : 0));

  const runtime = req.runtime ?? new ModelRuntime({ cacheDir: compiledGraphsDir(modelsDir) });
  const files = await projectModelFiles(req.projectFile, project, modelsDir, { tokenizer: req.tokenizer, configs: req.modelConfigs });
  let stage = '';
  const progress = stepProgress(total, req.progress, () => stage);
  const models = await DiffusionModels.open(runtime, files, (_f, m) => req.progress?.(progress.fraction(), m));
  const env = {
    models, cancel: req.cancel, onStep: progress.step,
    unet: await FrescoUNet.open(runtime, files).catch(async (err) => { await models.close(); throw err; }),
  };
  let claimed: Keyframe[] = [];
  let saliency: SaliencyModel | undefined;
  try {
    if (settings.backgroundSmoothing) saliency = await openSaliencyModel(saliencyFile!);
    // §2 colour preservation: the first keyframe rendered from pure noise gives every keyframe its colours.
    let colourReference: Image | undefined;
    if (colour) {
      stage = `colour reference (frame ${keys[0].frame})`;
      const p = effectiveRenderParams(project.render, keys[0].overrides);
      const r = await renderFrescoBatch(env, { frames: [await keyframeInputFrame(req.projectFile, project, keys[0])], params: [{ ...p, strength: 1, colorPreservation: false }], settings: frescoComponentsOff(settings), detector: req.detector });
      colourReference = r.images[0];
    }
    for (const [b, batch] of batches.entries()) {
      stage = `FRESCO batch ${b + 1} of ${batches.length} (frames ${batch.keyframes.map((i) => keys[i].frame).join(', ')})`;
      req.progress?.(progress.fraction(), stage);
      const frames = await Promise.all(batch.keyframes.map((i) => keyframeInputFrame(req.projectFile, project, keys[i])));
      claimed = batch.keep.map((i) => keys[i]);
      const started = Date.now(), calls = env.unet.calls;
      const r = await renderFrescoBatch(env, { frames, params: params[b], settings, detector: req.detector, saliency, colourReference });
      summary.fresco!.batches.push(r.report);
      const share = { seconds: (Date.now() - started) / 1000 / batch.keep.length, unetCalls: (env.unet.calls - calls) / batch.keep.length };
      for (const i of batch.keep) {
        const k = keys[i], j = batch.keyframes.indexOf(i);
        const written = await writeKeyframeResult(req.projectFile, k, r.images[j], {
          mode: 'fresco', seed: params[b][j].seed, settingsKey: settingsKey(project, k, 'fresco', false),
          dependsOn: batch.keyframes.filter((m) => m !== i).map((m) => ({ role: 'batch', id: keys[m].id, frame: keys[m].frame, revision: keys[m].revision })),
        });
        const committed = applyKeyframeResults(req.projectFile, project, [written]);
        project = committed.project;
        claimed = claimed.filter((c) => c.id !== k.id);
        summary.results.push(written);
        summary.rendered.push({ id: k.id, frame: k.frame, image: path.join(path.dirname(path.resolve(req.projectFile)), written.image), revision: written.baseRevision + 1, ...share });
        summary.stale = committed.stale;
        for (const id of committed.staleSegments) if (!summary.staleSegments.includes(id)) summary.staleSegments.push(id);
      }
    }
  } catch (err) {
    for (const k of claimed) summary.failures.push(failureOf(k, err));
    throw withPartial(err, summary);
  } finally {
    Object.assign(summary, providerReport(runtime));
    summary.warnings.push(...models.warnings);
    await Promise.all([env.unet.close(), models.close(), saliency?.close()]);
    if (!req.runtime) await runtime.releaseAll();
  }
  return summary;
}
