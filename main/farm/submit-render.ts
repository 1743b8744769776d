// Rendering keyframes on the farm (`rerender render <project> --all --farm URL`): one job per keyframe
// (one per batch in FRESCO mode), queued in the order the method needs. In Rerender mode every later
// keyframe is constrained by the anchor's caches and the keyframe before it, so each job is queued when
// the one before it finished and carries the results so far (the worker's snapshot is then the one a local
// run has at that keyframe); independent keyframes and FRESCO batches (which render from their input
// frames, not from each other's images) are all queued at once. The jobs work on a snapshot of the
// document (snapshot.ts).
// renderSnapshotOnFarm follows the jobs with progress, ETA, each worker's part and cancel, and returns the
// results for the document's owner to commit (the editor's session); renderOnFarm is the command line's
// owner: it commits to the project file through its store like a local render, at the end, and on
// failure or cancel what finished before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { Queue, type Job } from 'bullmq';
import { UserError } from '../../native-models/src/errors';
import { checkChosenModels, resolveModelsDir } from '../../native-models/src/model-manager';
import { effectiveRenderParams } from '../engine/project/keyframes';
import { projectPaths } from '../engine/project/paths';
import { ProjectStore } from '../engine/project/project-store';
import { ensureFrameCache } from '../engine/project/source-video';
import { applyKeyframeResults, failureOf, type KeyframeFailure, type KeyframeResult } from '../engine/render/keyframe-commit';
import type { Keyframe, Project } from '../../preload/project-schema';
import { frescoUnits } from '../engine/fresco/fresco-method';
import { writeJobSnapshot } from './snapshot';
import { WorkerParts } from './worker-parts';
import { plannedSteps } from '../engine/render/keyframe-render';
import { orderedKeyframes, settingsKey } from '../engine/render/render-records';
import { applyRequest, partialOf, renderTargets, withPartial, type RenderRequest, type RenderSummary } from '../engine/render/render-project';
import { bullConnection, checkFarmConnection, scanKeys } from './connection';
import { FARM_PREFIX, WORKER_KEYS, cancelKey, frescoJobId, renderJobId, type FrescoJob, type JobProgress, type RenderJob, type RenderJobResult } from './jobs';
import type { WorkerHeartbeat } from './farm-worker';
import { JOB_OPTIONS, Submission, SubmissionCancelled, attemptsText, type FarmSubmitOptions } from './submit';
import { count } from '../../preload/plural';


/** Opens the farm's render queue. */
export function renderQueue(c: FarmSubmitOptions['connection']): Queue {
  return new Queue('render', { connection: bullConnection(c), prefix: FARM_PREFIX });
}

export interface FarmRenderSummary extends RenderSummary {
  farm: {
    /** Keyframe jobs this submission did not queue: finished earlier, or already queued by another submission. */
    jobsShared: number;
    /** Distinct workers that rendered this submission's keyframes. */
    workers: string[];
    /** What can lose the farm's jobs (a Redis without an append-only file), when the submitter collects it. */
    warnings?: string[];
  };
}

/** A finished job's result, when its images are keyframe renders in this project's cache that are still there. */
function resultOf(file: string, job: Job): RenderJobResult | undefined {
  const rv = job.returnvalue as RenderJobResult | undefined;
  if (typeof rv?.worker !== 'string' || !Array.isArray(rv.results) || !rv.results.length) return undefined;
  const paths = projectPaths(file);
  const present = (image: unknown) => {
    if (typeof image !== 'string') return false;
    const abs = path.resolve(paths.dir, image);
    return path.dirname(abs) === paths.keyframesDir && fs.existsSync(abs);
  };
  return rv.results.every((r) => present(r?.image)) ? rv : undefined;
}

/** One job of a farm render: a keyframe, or a FRESCO batch. */
interface FarmUnit {
  id: string;
  /** What the messages and the jobs panel call it ("keyframe at frame 3", "FRESCO batch 1 of 2 (frames 0, 3, 6)"). */
  label: string;
  /** UNet evaluations, for progress and ETA. */
  steps: number;
  /** The keyframes that get its images (a failure names them). */
  keyframes: Keyframe[];
  /** Rerender: queued once the unit before it finished, with every earlier result as `prior`. */
  afterPrevious: boolean;
  data(prior: KeyframeResult[]): RenderJob | FrescoJob;
}

/**
 * The jobs rendering `targets` of `project` take, in the order the method needs: Rerender one keyframe
 * after the other (each job id names the one before it, so a changed anchor changes every later id);
 * independent keyframes and FRESCO batches (fresco-method.ts, frescoUnits) all at once.
 */
function farmUnits(file: string, project: Project, request: RenderRequest, snapshot: string, modelsDir: string): FarmUnit[] {
  const targets = renderTargets(project, request.target);
  if (!targets.length) return [];
  const submittedBy = () => ({ host: os.hostname(), pid: process.pid, at: new Date().toISOString() });
  const mode = project.mode;
  if (mode === 'fresco') {
    const byId = new Map(project.keyframes.map((k) => [k.id, k]));
    return frescoUnits(project, targets, request).map((u): FarmUnit => {
      const batch = u.batch.keyframes.map((id) => {
        const k = byId.get(id)!;
        return { id, revision: k.revision, frame: k.frame, keep: u.batch.keep.includes(id), settingsKey: settingsKey(project, k, 'fresco', false) };
      });
      return {
        id: frescoJobId(file, batch, project.fresco), label: u.label, steps: u.steps, keyframes: u.batch.keep.map((id) => byId.get(id)!), afterPrevious: false,
        data: () => ({ version: 2, kind: 'render', project: file, snapshot, mode: 'fresco', batch, modelsDir, submittedBy: submittedBy() }),
      };
    });
  }
  const anchor = orderedKeyframes(project)[0];
  const units: FarmUnit[] = [];
  for (const [i, k] of targets.entries()) {
    const isAnchor = anchor.id === k.id;
    const key = settingsKey(project, k, mode, isAnchor);
    const after = mode === 'rerender' && i > 0;
    units.push({
      id: renderJobId(file, k, mode, key, after ? units[i - 1].id : undefined),
      label: `keyframe at frame ${k.frame}`,
      steps: plannedSteps(effectiveRenderParams(project.render, k.overrides), isAnchor || mode === 'independent' ? 'anchor' : 'later'),
      keyframes: [k], afterPrevious: after,
      data: (prior) => ({
        version: 2, kind: 'render', project: file, snapshot, keyframe: { id: k.id, revision: k.revision, frame: k.frame },
        mode, settingsKey: key, prior: mode === 'rerender' ? prior : [], modelsDir, submittedBy: submittedBy(),
      }),
    });
  }
  return units;
}

/**
 * Renders the request's keyframes on the farm's render workers and commits them to the project file
 * through its store (which holds the project's lock for the run), as renderKeyframes does.
 */
export async function renderOnFarm(request: RenderRequest, opts: FarmSubmitOptions): Promise<FarmRenderSummary> {
  const file = path.resolve(request.projectFile);
  await checkFarmConnection(opts.connection);
  return ProjectStore.with(file, (store) => renderWithStore(store, request, opts), { app: 'rerender render --farm' });
}

async function renderWithStore(store: ProjectStore, request: RenderRequest, opts: FarmSubmitOptions): Promise<FarmRenderSummary> {
  const file = store.file;
  const modelsDir = resolveModelsDir(request.modelsDir);
  await checkChosenModels(request.models, modelsDir);
  if (store.apply('Change render settings', (p) => applyRequest(p, request))) await store.save();
  const base = store.snapshot();
  const commit = async (summary: RenderSummary) => {
    const committed = store.commit('Render keyframes', base, (current, from) => applyKeyframeResults(file, current, summary.results, summary.failures, from));
    await store.save();
    Object.assign(summary, { notes: committed.notes, stale: committed.stale, staleSegments: committed.staleSegments });
  };
  let summary: FarmRenderSummary;
  try {
    summary = await renderSnapshotOnFarm(request, base.project, opts);
  } catch (err) {
    // What finished is committed before the error is thrown, like a local render.
    const partial = partialOf(err);
    if (partial) await commit(partial).catch(() => undefined);
    throw err;
  }
  await commit(summary);
  return summary;
}

/**
 * Renders the request's keyframes of `project` (a snapshot: the document as its owner holds it, the
 * request's settings applied) on the farm's render workers. Commits nothing: returns the results for the
 * owner to commit; on failure or cancel the error carries what finished before (partialOf).
 */
export async function renderSnapshotOnFarm(request: RenderRequest, project: Project, opts: FarmSubmitOptions): Promise<FarmRenderSummary> {
  const file = path.resolve(request.projectFile);
  for (const w of (await checkFarmConnection(opts.connection)).warnings) opts.onWarning?.(w);
  const modelsDir = resolveModelsDir(request.modelsDir);
  // Workers read only inside the project: the source is decoded here first.
  await ensureFrameCache(file, project, { cancel: opts.cancel });
  const snapshot = await writeJobSnapshot(file, project);
  const units = farmUnits(file, project, request, snapshot, modelsDir);
  const empty: FarmRenderSummary = { rendered: [], results: [], failures: [], stale: [], staleSegments: [], warnings: [], farm: { jobsShared: 0, workers: [] } };
  if (units.length === 0) return empty;
  const ids = units.map((u) => u.id);
  const totalSteps = units.reduce((n, u) => n + u.steps, 0);
  const totalKeys = units.reduce((n, u) => n + u.keyframes.length, 0);

  const queue = renderQueue(opts.connection);
  const control = new IORedis(bullConnection(opts.connection));
  queue.on('error', () => undefined); // Redis restarting: the clients reconnect and the poll waits
  control.on('error', () => undefined);
  const results: Array<RenderJobResult | undefined> = units.map(() => undefined);
  const queued = units.map(() => false);
  const sharedBefore = new Set<number>();
  let shared = 0;
  let cancelled = false;
  opts.cancel?.onCancel(() => { cancelled = true; });
  const submission = new Submission(control);

  /** Queues job i unless the same work is queued or running (shared) or finished with its image present (done). */
  const queueJob = async (i: number): Promise<void> => {
    await submission.follow(ids[i]);
    const existing = await queue.getJob(ids[i]);
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed' && resultOf(file, existing)) { shared++; sharedBefore.add(i); queued[i] = true; return; }
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown') { shared++; queued[i] = true; return; }
      await existing.remove().catch(() => undefined); // failed, or its image was deleted since: again
    }
    await control.del(cancelKey(ids[i]));
    await queue.add('render', units[i].data(units[i].afterPrevious ? results.slice(0, i).flatMap((r) => r!.results) : []), { ...JOB_OPTIONS, jobId: ids[i] });
    queued[i] = true;
  };

  /** The summary of what finished, with the staleness it causes in the snapshot (the owner's commit may say more). */
  const summaryOf = (failures: KeyframeFailure[]): FarmRenderSummary => {
    const done = results.flatMap((r, i) => (r ? [{ r, i }] : []));
    const first = done[0]?.r;
    const finished = done.flatMap(({ r }) => r.results);
    const applied = applyKeyframeResults(file, project, finished, failures);
    const batches = done.flatMap(({ r }) => r.fresco ?? []);
    return {
      rendered: done.flatMap(({ r }) => r.results.map((x) => ({
        id: x.id, frame: x.frame, image: path.join(path.dirname(file), x.image), revision: x.baseRevision + 1,
        seconds: r.seconds / r.results.length, unetCalls: r.unetCalls / r.results.length, // a batch's share
      }))),
      results: finished, failures, notes: applied.notes, stale: applied.stale, staleSegments: applied.staleSegments,
      ...(first?.provider ? { provider: first.provider, skippedProviders: first.skippedProviders } : {}),
      warnings: [...new Set(done.flatMap(({ r }) => r.warnings ?? []))],
      ...(project.mode === 'fresco' ? { fresco: { batches } } : {}),
      farm: { jobsShared: shared, workers: [...new Set(done.filter(({ i }) => !sharedBefore.has(i)).map(({ r }) => r.worker))].sort() },
    };
  };
  /** The error carries what finished before it (partialOf), for the owner to commit. */
  const fail = (err: Error, failures: KeyframeFailure[]): never => {
    throw withPartial(err, summaryOf(failures));
  };

  const parts = new WorkerParts('render');
  try {
    for (;;) {
      await submission.beat();
      let fraction = 0;
      const running: string[] = [];
      parts.beginRound();
      const waitingRefused: Array<{ i: number; refusedBy: NonNullable<RenderJob['refusedBy']> }> = [];
      for (let i = 0; i < units.length; i++) {
        if (results[i]) {
          fraction += units[i].steps;
          continue;
        }
        if (!queued[i]) {
          if (cancelled || (units[i].afterPrevious && !results[i - 1])) continue; // waits for the keyframe before it
          await queueJob(i);
        }
        const job: Job | undefined = await queue.getJob(ids[i]);
        if (!job) { queued[i] = false; continue; } // removed by hand or by another submitter: queued again next round
        const state = await job.getState();
        if (!sharedBefore.has(i)) parts.observe(ids[i], job, state, units[i].label, units[i].keyframes.length);
        if (state === 'completed') {
          const r = resultOf(file, job);
          if (!r) { await job.remove().catch(() => undefined); queued[i] = false; continue; }
          results[i] = r;
          fraction += units[i].steps;
        } else if (state === 'failed') {
          if (cancelled) continue;
          const reason = job.failedReason ?? 'unknown reason';
          fail(new UserError(`the ${units[i].label} failed on the farm after ${attemptsText(job.attemptsMade)}: ${reason}; finished keyframes are kept, submit again to continue`, file),
            units[i].keyframes.map((k) => failureOf(k, new Error(reason))));
        } else {
          const prog = job.progress as unknown as JobProgress | undefined;
          if (prog && typeof prog === 'object' && typeof prog.fraction === 'number') fraction += units[i].steps * Math.min(1, Math.max(0, prog.fraction));
          if (state === 'active') {
            running.push(ids[i]);
          } else {
            const refusedBy = (job.data as RenderJob).refusedBy;
            if (refusedBy?.length) waitingRefused.push({ i, refusedBy });
          }
        }
      }
      const done = results.filter(Boolean).length;
      const keysDone = results.reduce((n, r) => n + (r?.results.length ?? 0), 0);
      if (cancelled) {
        const kept = await submission.cancel(queue, ids.filter((_, i) => queued[i] && !results[i]));
        if (running.every((id) => kept.has(id))) fail(new SubmissionCancelled('finished keyframes are kept', kept.size), []);
      } else {
        let note = '';
        if (done < units.length) {
          const renderers = await liveRenderWorkers(control);
          for (const w of waitingRefused) {
            if (renderers.length && renderers.every((id) => w.refusedBy.some((x) => x.worker === id))) {
              fail(new UserError(`no worker on the farm can render the ${units[w.i].label}: ${w.refusedBy.map((x) => `${x.worker}: ${x.reason}`).join('; ')}`, file), []);
            }
          }
          if (!renderers.length) note = ' (waiting: no worker on the farm takes render jobs now; start one with --kinds propagate,render)';
        }
        if (opts.onWorkers) opts.onWorkers(await parts.parts(control));
        opts.onProgress?.(Math.min(0.99, (fraction / Math.max(1, totalSteps)) * 0.99), `${keysDone} of ${totalKeys} keyframes rendered on the farm, ${running.length} running${note}`);
        if (done === units.length) break;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 400));
    }
    opts.onProgress?.(1, `rendered ${count(totalKeys, 'keyframe')} on the farm`);
    return summaryOf([]);
  } finally {
    await queue.close().catch(() => undefined);
    control.disconnect();
  }
}

/** Ids of the workers alive now that take render jobs (from their heartbeats). */
async function liveRenderWorkers(control: IORedis): Promise<string[]> {
  const ids: string[] = [];
  for (const k of await scanKeys(control, WORKER_KEYS)) {
    try {
      const beat = JSON.parse((await control.get(k)) ?? 'null') as WorkerHeartbeat | null;
      if (beat?.kinds?.includes('render')) ids.push(beat.id);
    } catch { /* a damaged heartbeat expires */ }
  }
  return ids;
}
