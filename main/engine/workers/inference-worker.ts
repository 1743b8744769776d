// Inference worker: owns ONNX Runtime sessions (kept across jobs) and the diffusion jobs.
//
// Jobs (params are validated here; results are plain JSON):
//   renderKeyframe  { projectFile, frame, overrides?, models?, mode?, fresco?, saliencyModel?, modelsDir?, tokenizer?, detector? }
//                   renders or regenerates the keyframe at `frame` (created when missing); `overrides`
//                   (a partial RenderParams) become that keyframe's overrides.
//   renderKeyframes { projectFile, overrides?, models?, mode?, fresco?, saliencyModel?, modelsDir?, tokenizer?, detector? }
//                   renders every diffusion keyframe in timeline order; `overrides` become project defaults.
// Without `mode` the project's method is used; `fresco` (partial FRESCO settings) is stored in the project.
// Both answer RenderSummary (main/engine/render/render-project.ts):
//   { rendered: [{ id, frame, image, revision, seconds, unetCalls }], stale: [{ id, frame, reason }],
//     staleSegments: [segment id], provider, warnings: [text], fresco?: { batches } }
// and report progress per sampler step with an ETA in the message; cancel stops between steps and
// leaves every earlier result in place. Both get `project`, the document as the editor holds it; the
// job writes images and records under the cache and answers `results` (and, on failure or cancel,
// the error's `partial` summary) for the editor to commit: it never reads or writes the project file.
// renderKeyframe also answers sessionsLoaded: the ONNX sessions the worker holds afterwards (leaks show).
import { z } from 'zod';
import { serveJobs } from '../jobs/worker-runtime';
import { frescoSettings, modelSelection, renderOverrides } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { applyRequest, renderSnapshot, type RenderRequest } from '../render/render-project';
import { parseProject } from '../project/project-file';
import { learnedFlowJob } from '../flow/learned-flow';
import { ModelRuntime } from '../../../native-models/src/runtime/model-runtime';
import type { ProviderName } from '../../../native-models/src/runtime/providers';
import { compiledGraphsDir, resolveModelsDir } from '../../../native-models/src/model-manager';

const common = {
  projectFile: z.string().min(1),
  /** The document as its owner holds it (validated as a project below); the job never reads or writes the project file. */
  project: z.unknown(),
  overrides: renderOverrides.optional(),
  models: modelSelection.partial().optional(),
  mode: z.enum(['rerender', 'independent', 'fresco']).optional(),
  /** FRESCO switches for this run (on top of the project's saved settings). */
  fresco: frescoSettings.partial().optional(),
  saliencyModel: z.string().min(1).optional(),
  modelsDir: z.string().min(1).optional(),
  tokenizer: z.string().min(1).optional(),
  detector: z.string().min(1).optional(),
  /** The execution provider chosen in the model manager; 'auto' tries every one in order. */
  provider: z.enum(['auto', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu']).optional(),
};

export const jobParams = {
  renderKeyframe: z.object({ ...common, frame: z.number().int().min(0) }),
  /** Every diffusion keyframe, or those with these ids (the editor's "Render all" renders those not done). */
  renderKeyframes: z.object({ ...common, ids: z.array(z.string().min(1).max(128)).max(100_000).optional() }),
};

function parse<T>(schema: z.ZodType<T>, params: unknown, job: string): T {
  const r = schema.safeParse(params);
  if (!r.success) throw new UserError(`bad parameters for ${job}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** One runtime per models folder and provider choice, so sessions and compiled graphs survive between jobs. */
const runtimes = new Map<string, ModelRuntime>();
function runtimeFor(modelsDir: string | undefined, provider: Common['provider']): ModelRuntime {
  const dir = resolveModelsDir(modelsDir);
  const key = `${dir}\n${provider ?? 'auto'}`;
  // A chosen GPU provider that fails to start falls back to the CPU (the job reports which one ran).
  const providers: ProviderName[] | undefined = !provider || provider === 'auto' ? undefined : provider === 'cpu' ? ['cpu'] : [provider, 'cpu'];
  let r = runtimes.get(key);
  if (!r) {
    for (const [k, other] of runtimes) if (k.startsWith(`${dir}\n`)) { other.releaseAll(); runtimes.delete(k); } // free memory when switching
    r = new ModelRuntime({ cacheDir: compiledGraphsDir(dir), providers });
    runtimes.set(key, r);
  }
  return r;
}

/** ONNX sessions this worker holds now (all runtimes): reported with each render so leaks show. */
function sessionsLoaded(): number {
  let n = 0;
  for (const r of runtimes.values()) n += r.loaded().length;
  return n;
}

type Common = z.infer<z.ZodObject<typeof common>>;
function request(p: Common, target: RenderRequest['target']): RenderRequest {
  const { project: _snapshot, ...rest } = p;
  return { ...rest, mode: p.mode, target, runtime: runtimeFor(p.modelsDir, p.provider) };
}

function render(p: Common, target: RenderRequest['target'], ctx: { progress: RenderRequest['progress']; cancel: RenderRequest['cancel'] }) {
  const req = { ...request(p, target), ...ctx };
  return renderSnapshot(req, applyRequest(parseProject(p.project, p.projectFile), req));
}

serveJobs({
  async renderKeyframe(params, { progress, cancel }) {
    const p = parse(jobParams.renderKeyframe, params, 'renderKeyframe');
    const summary = await render(p, { frame: p.frame }, { progress, cancel });
    return { ...summary, sessionsLoaded: sessionsLoaded() };
  },
  async renderKeyframes(params, { progress, cancel }) {
    const p = parse(jobParams.renderKeyframes, params, 'renderKeyframes');
    return render(p, p.ids ? { ids: p.ids } : 'all', { progress, cancel });
  },
  /** Flows from a user-chosen ONNX flow model (params: see learnedFlowJobParams). */
  computeLearnedFlows: learnedFlowJob,
});
