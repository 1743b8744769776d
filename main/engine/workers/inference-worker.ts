// Inference worker: owns ONNX Runtime sessions (kept across jobs) and the diffusion jobs.
//
// Jobs (parameters and results: jobs/job-registry.ts, validated on both sides):
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
import type { z } from 'zod';
import { serveWorkerJobs } from '../jobs/worker-runtime';
import { JOBS } from '../jobs/job-registry';
import { applyRequest, renderSnapshot, type RenderRequest } from '../render/render-project';
import { parseProject } from '../project/project-file';
import { learnedFlowJob } from '../flow/learned-flow';
import { ModelRuntime } from '../../../native-models/src/runtime/model-runtime';
import type { ProviderName } from '../../../native-models/src/runtime/providers';
import { compiledGraphsDir, resolveModelsDir } from '../../../native-models/src/model-manager';

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

type Common = Omit<z.output<typeof JOBS.renderKeyframes.params>, 'ids'>;
function request(p: Common, target: RenderRequest['target']): RenderRequest {
  const { project: _snapshot, ...rest } = p;
  return { ...rest, mode: p.mode, target, runtime: runtimeFor(p.modelsDir, p.provider) };
}

function render(p: Common, target: RenderRequest['target'], ctx: { progress: RenderRequest['progress']; cancel: RenderRequest['cancel'] }) {
  const req = { ...request(p, target), ...ctx };
  return renderSnapshot(req, applyRequest(parseProject(p.project, p.projectFile), req));
}

serveWorkerJobs('inference', {
  async renderKeyframe(p, { progress, cancel }) {
    const summary = await render(p, { frame: p.frame }, { progress, cancel });
    return { ...summary, sessionsLoaded: sessionsLoaded() };
  },
  async renderKeyframes(p, { progress, cancel }) {
    return render(p, p.ids ? { ids: p.ids } : 'all', { progress, cancel });
  },
  /** Flows from a user-chosen ONNX flow model. */
  computeLearnedFlows: learnedFlowJob,
});
