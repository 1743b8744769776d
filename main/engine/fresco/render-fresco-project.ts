// FRESCO mode for a whole project (issue 9): every diffusion keyframe in timeline order, rendered in batches
// (batches.ts) with the project's render settings; images go to the keyframes folder and the project file
// gets the new image and revision. Imported and painted keyframes keep their images.
// For `rerender render --mode fresco` and the inference worker: call renderFrescoProject (see the report).
import fs from 'node:fs';
import path from 'node:path';
import type { Image } from '../../../native-models/src/image';
import { compiledGraphsDir, resolveModelsDir } from '../../../native-models/src/model-manager';
import { ModelRuntime } from '../../../native-models/src/runtime/model-runtime';
import { resolveTokenizer } from '../../../native-models/src/tokenizer';
import { UserError, type CancelToken, type ProgressFn } from '../errors';
import { readRgb, writePng } from '../media/image-files';
import { updateKeyframe } from '../project/keyframes';
import { frameFileName, projectPaths } from '../project/paths';
import { readProjectFile, writeProjectFile } from '../project/project-file';
import type { Keyframe, Project } from '../project/schema';
import { DiffusionModels, type ModelFiles } from '../render/diffusion-models';
import { orderedKeyframes } from '../render/render-records';
import { saliencyAvailability, openSaliencyModel, type SaliencyModel } from './background-smoothing';
import { planBatches } from './batches';
import { renderFrescoBatch, type FrescoBatchReport } from './fresco-render';
import { FrescoUNet } from './fresco-unet';
import { defaultFrescoSettings, type FrescoSettings } from './settings';

export interface FrescoRenderRequest {
  projectFile: string;
  /** Component switches and parameters (default: the method's). */
  settings?: Partial<FrescoSettings>;
  /** ONNX salient-object model for background smoothing. */
  saliencyModel?: string | null;
  modelsDir?: string;
  tokenizer?: string;
  detector?: string;
  runtime?: ModelRuntime;
  /** Model config replacements (tests with the tiny fixture models). */
  modelConfigs?: ModelFiles['configs'];
  cancel?: CancelToken;
  progress?: ProgressFn;
}

export interface FrescoRenderSummary {
  rendered: Array<{ id: string; frame: number; image: string; revision: number }>;
  batches: FrescoBatchReport[];
  /** Options asked for but unavailable, with the reason (e.g. background smoothing without a saliency model). */
  unavailable: string[];
  seconds: number;
  unetCalls: number;
}

function modelPath(modelsDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(modelsDir, p);
}

async function modelFiles(project: Project, req: FrescoRenderRequest, modelsDir: string): Promise<ModelFiles> {
  const m = project.models;
  if (!m.checkpoint) throw new UserError('no checkpoint is selected: pass --model <checkpoint> or choose one in the model manager', req.projectFile);
  const checkpoint = modelPath(modelsDir, m.checkpoint);
  if (!fs.existsSync(checkpoint)) throw new UserError('the selected checkpoint does not exist', checkpoint);
  return {
    checkpoint, clipSkip: m.clipSkip, configs: req.modelConfigs,
    tokenizer: await resolveTokenizer({ override: req.tokenizer, model: checkpoint, modelsDir }),
    vae: m.vae ? modelPath(modelsDir, m.vae) : null,
    controlnet: m.controlnet ? modelPath(modelsDir, m.controlnet) : null,
    loras: m.loras.map((l) => ({ file: modelPath(modelsDir, l.file), multiplier: l.multiplier })),
  };
}

async function inputFrame(projectFile: string, project: Project, k: Keyframe): Promise<Image> {
  const frame = await readRgb(path.join(projectPaths(projectFile).framesDir, frameFileName(k.frame)));
  if (frame.width !== project.working.width || frame.height !== project.working.height) {
    throw new UserError(`frame ${k.frame} is ${frame.width}×${frame.height}, not the working size ${project.working.width}×${project.working.height}; decode the video again`, projectFile);
  }
  return frame;
}

/** Renders every diffusion keyframe of the project in FRESCO mode. */
export async function renderFrescoProject(req: FrescoRenderRequest): Promise<FrescoRenderSummary> {
  const started = Date.now();
  let project = await readProjectFile(req.projectFile);
  // Defaults, then what the project saved, then this run's switches (CLI or editor).
  const settings: FrescoSettings = { ...defaultFrescoSettings(), ...project.fresco, ...req.settings };
  const unavailable: string[] = [];
  let saliency: SaliencyModel | undefined;
  if (settings.backgroundSmoothing) {
    const a = saliencyAvailability(req.saliencyModel);
    if (a.available) saliency = await openSaliencyModel(req.saliencyModel!);
    else { unavailable.push(`background smoothing: ${a.reason}`); settings.backgroundSmoothing = false; }
  }
  const keys = orderedKeyframes(project).filter((k) => k.source === 'diffusion');
  const summary: FrescoRenderSummary = { rendered: [], batches: [], unavailable, seconds: 0, unetCalls: 0 };
  if (keys.length === 0) return summary;
  const modelsDir = resolveModelsDir(req.modelsDir);
  const runtime = req.runtime ?? new ModelRuntime({ cacheDir: compiledGraphsDir(modelsDir) });
  const files = await modelFiles(project, req, modelsDir);
  const models = await DiffusionModels.open(runtime, files);
  const unet = await FrescoUNet.open(runtime, files).catch(async (err) => { await models.close(); throw err; });
  const plans = planBatches(keys.length, settings.batchSize);
  fs.mkdirSync(projectPaths(req.projectFile).keyframesDir, { recursive: true });
  const params = project.render;
  const total = plans.reduce((a, b) => a + b.keyframes.length, 0);
  let done = 0;
  try {
    for (const plan of plans) {
      const frames = await Promise.all(plan.keyframes.map((i) => inputFrame(req.projectFile, project, keys[i])));
      req.progress?.(done / total, `FRESCO batch of ${frames.length} keyframes (frames ${plan.keyframes.map((i) => keys[i].frame).join(', ')})`);
      const r = await renderFrescoBatch({ models, unet, cancel: req.cancel }, { frames, params, settings, detector: req.detector, saliency });
      summary.batches.push(r.report);
      // Re-read: the editor may have saved other changes while the batch rendered.
      project = await readProjectFile(req.projectFile);
      for (const [j, index] of plan.keyframes.entries()) {
        if (j < plan.prefix) continue;
        const k = project.keyframes.find((x) => x.id === keys[index].id);
        if (!k) continue; // removed while rendering
        const revision = k.revision + 1;
        const file = path.join(projectPaths(req.projectFile).keyframesDir, `${k.id}-r${revision}.png`);
        await writePng(file, r.images[j]);
        const image = path.relative(projectPaths(req.projectFile).dir, file).split(path.sep).join('/');
        project = updateKeyframe(project, k.id, (old) => ({ ...old, image, revision, status: 'done', note: undefined }));
        summary.rendered.push({ id: k.id, frame: k.frame, image: file, revision });
      }
      await writeProjectFile(req.projectFile, project);
      done += plan.keyframes.length;
      req.progress?.(done / total, `${summary.rendered.length} of ${keys.length} keyframes rendered`);
    }
  } finally {
    summary.unetCalls = unet.calls;
    await Promise.all([unet.close(), models.close(), saliency?.close()]);
    if (!req.runtime) await runtime.releaseAll();
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
