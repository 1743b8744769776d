// A farm worker: takes segments from the farm's BullMQ queue and propagates them with the project's
// own engine (the same call as a local run, so the same bytes), on storage every worker sees. A job works
// on the snapshot of the document it names (snapshot.ts), never on the project file. A worker
// that dies leaves its job locked until the lock runs out; BullMQ then hands it to another worker, which
// resumes from the segment record. Stopping finishes the current jobs, or hands them back at once.
// A worker started with render among its kinds takes keyframe renders too (one keyframe or one FRESCO
// batch at a time, on the first execution provider that starts here) when it has models; otherwise it
// says why and takes propagation only.
import os from 'node:os';
import IORedis from 'ioredis';
import { Worker, DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { CancelToken, UserError, isCancelled } from '../../native-models/src/errors';
import { readJobSnapshot } from './snapshot';
import { segmentsOf } from '../engine/project/keyframes';
import { frameCacheComplete } from '../engine/project/source-video';
import { propagateProject } from '../engine/propagation/propagate-project';
import { compiledGraphsDir, resolveModelsDir } from '../../native-models/src/model-manager';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { PROVIDER_ORDER } from '../../native-models/src/runtime/providers';
import { renderSnapshot } from '../engine/render/render-project';
import { applyKeyframeResults } from '../engine/render/keyframe-commit';
import { orderedKeyframes, settingsKey } from '../engine/render/render-records';
import { missingModels, renderCapability, workerModelPath, type ModelPlaces } from './render-models';
import { bullConnection, type FarmConnection } from './connection';
import { checkPriorRenders, checkProjectFiles, PathRefused, resolveJobProject, type PathMap } from './path-map';
import { FARM_PREFIX, cancelKey, parsePropagateJob, parseRenderJob, renderJobLabel, segmentOutputKey, workerKey, type FarmKind, type FrescoJob, type JobProgress, type PropagateJobResult, type RenderJob, type RenderJobResult } from './jobs';
import type { Project } from '../../preload/project-schema';
import type { RenderRequest } from '../engine/render/keyframe-method';
import { count } from '../../preload/plural';

export interface FarmWorkerOptions {
  connection: FarmConnection;
  kinds: FarmKind[];
  /** Jobs this process runs at once. */
  concurrency: number;
  pathMap: PathMap;
  /** How long a job stays with a worker that stopped answering before another takes it (BullMQ lock). */
  lockMs?: number;
  /** One line per event (took, finished, failed, handed back), for the worker's stderr. */
  log?: (line: string) => void;
  /** Models folder for render jobs (default: $RERENDER_MODELS or ~/.rerender/models). */
  modelsDir?: string;
}

export interface FarmWorker {
  id: string;
  /** The kinds it takes: those asked for, less render when this machine cannot render (see `render`). */
  kinds: FarmKind[];
  /** For a worker asked to render: the provider it renders on, or why it takes no render jobs. */
  render?: { provider: string; skipped: Array<{ provider: string; reason: string }> } | { refused: string };
  /** Stop taking jobs; `handBack` stops the running ones at their next frame and returns them to the queue. */
  stop(handBack: boolean): Promise<void>;
  /** Settles when the worker has stopped. */
  closed: Promise<void>;
}

/** What a worker publishes about itself every few seconds (read by `rerender farm status`). */
export interface WorkerHeartbeat {
  id: string; host: string; pid: number; kinds: FarmKind[]; concurrency: number; started: string;
  jobsDone: number; jobsFailed: number;
  /** Render workers: the execution provider; workers asked to render that cannot: why not. */
  renderProvider?: string; renderRefused?: string;
  active: Array<{ jobId: string; project: string; segment: string; framesDone: number; frames: number }>;
}

const HEARTBEAT_MS = 3000;

interface Running { cancel: CancelToken; project: string; segment: string; framesDone: number; frames: number }

export async function startFarmWorker(opts: FarmWorkerOptions): Promise<FarmWorker> {
  const id = `${os.hostname()}-${process.pid}`;
  const log = opts.log ?? (() => undefined);
  const modelsDir = resolveModelsDir(opts.modelsDir);
  let kinds = opts.kinds;
  let render: FarmWorker['render'];
  let runtime: ModelRuntime | undefined;
  if (kinds.includes('render')) {
    const can = await renderCapability(modelsDir);
    if (!can.ok) {
      if (!kinds.includes('propagate')) throw new UserError(`this machine cannot take render jobs: ${can.reason}`);
      kinds = kinds.filter((k) => k !== 'render');
      render = { refused: can.reason };
    } else {
      render = { provider: can.provider, skipped: can.skipped };
      // One runtime for every render job: models stay loaded between keyframes.
      runtime = new ModelRuntime({ cacheDir: compiledGraphsDir(modelsDir), providers: PROVIDER_ORDER.slice(PROVIDER_ORDER.indexOf(can.provider)) });
    }
  }
  const lockMs = opts.lockMs ?? 30_000;
  const running = new Map<string, Running>();
  let handingBack = false;
  let jobsDone = 0;
  let jobsFailed = 0;
  const started = new Date().toISOString();
  const control = new IORedis(bullConnection(opts.connection));
  let lastRedisError = '';
  control.on('error', (err) => { if (err.message !== lastRedisError) { lastRedisError = err.message; log(`redis: ${err.message} (retrying)`); } });

  const heartbeat = async () => {
    const beat: WorkerHeartbeat = {
      id, host: os.hostname(), pid: process.pid, kinds, concurrency: opts.concurrency, started, jobsDone, jobsFailed,
      ...(render && 'provider' in render ? { renderProvider: render.provider } : {}),
      ...(render && 'refused' in render ? { renderRefused: render.refused } : {}),
      active: [...running].map(([jobId, r]) => ({ jobId, project: r.project, segment: r.segment, framesDone: r.framesDone, frames: r.frames })),
    };
    await control.set(workerKey(id), JSON.stringify(beat), 'PX', HEARTBEAT_MS * 4).catch(() => undefined);
  };
  await heartbeat();
  const beating = setInterval(() => { void heartbeat(); }, HEARTBEAT_MS);

  const processor = async (job: Job, token?: string): Promise<PropagateJobResult> => {
    const t0 = Date.now();
    const { data, file } = acceptJob(job, parsePropagateJob, opts.pathMap, (d) => `segment ${d.segment.id} of ${d.project}`);
    const refuse = (problem: string) => refusal(job, `segment ${data.segment.id} of ${data.project}`, problem);
    const p = await jobSnapshot(file, data.snapshot, refuse);
    try {
      checkProjectFiles(file, p.keyframes.flatMap((k) => (k.image ? [k.image] : [])));
    } catch (err) {
      throw refuse((err as Error).message);
    }
    const s = segmentsOf(p).find((x) => x.id === data.segment.id);
    if (!s || segmentOutputKey(p, s) !== data.key) {
      throw refuse(`the segment and its output key do not match the snapshot the job names; submit it again`);
    }
    // A worker reads only inside the project: the submitter decodes the source before submitting.
    if (!frameCacheComplete(file, p)) throw new Error(`the decoded frames of ${file} are incomplete on this machine; the submitter decodes them before submitting`);

    const r: Running = { cancel: new CancelToken(), project: file, segment: `segment ${s.id}`, framesDone: 0, frames: s.end - s.start + 1 };
    running.set(job.id!, r);
    if (handingBack) r.cancel.cancel('handed back');
    log(`took segment ${s.id} of ${file}${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted})` : ''}`);
    let lastReport = 0;
    let lastCancelCheck = Date.now();
    const report = (fraction: number) => {
      const now = Date.now();
      if (now - lastCancelCheck > 500) {
        lastCancelCheck = now;
        control.exists(cancelKey(job.id!)).then((n) => { if (n) r.cancel.cancel('cancelled by the submitter'); }, () => undefined);
      }
      if (now - lastReport < 250) return;
      lastReport = now;
      const progress: JobProgress = { worker: id, framesDone: r.framesDone, frames: r.frames, fraction };
      job.updateProgress(progress as unknown as object).catch(() => undefined);
    };
    try {
      const result = await propagateProject(file, p, {
        segmentId: s.id, workers: 1, cancel: r.cancel,
        onProgress: (fraction) => report(fraction),
        onSegment: (_id, done) => { r.framesDone = done; },
      });
      jobsDone++;
      const seconds = (Date.now() - t0) / 1000;
      log(`finished segment ${s.id}: ${count(result.framesWritten, 'frame')} written, ${result.framesKept} kept, ${result.synthesesReused} steps resumed, ${seconds.toFixed(1)} s`);
      return { worker: id, framesWritten: result.framesWritten, framesKept: result.framesKept, synthesesReused: result.synthesesReused, seconds };
    } catch (err) {
      if (isCancelled(err) && handingBack) {
        // Back to the queue without using up an attempt; finished frames and the segment record stay.
        await job.moveToWait(token);
        log(`handed back segment ${s.id} (${r.framesDone} of ${r.frames} frames done)`);
        throw new WaitingError();
      }
      if (isCancelled(err)) throw new UnrecoverableError('cancelled by the submitter; finished frames are kept'); // not a failure of this worker
      jobsFailed++;
      log(`segment ${s.id} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      running.delete(job.id!);
    }
  };

  const renderProcessor = async (job: Job, token?: string): Promise<RenderJobResult> => {
    const t0 = Date.now();
    const { data, file } = acceptJob(job, parseRenderJob, opts.pathMap, (d) => `${renderJobLabel(d)} of ${d.project}`);
    const refuse = (problem: string) => refusal(job, `${renderJobLabel(data)} of ${data.project}`, problem);
    const onDisk = await jobSnapshot(file, data.snapshot, refuse);
    const prior = data.mode === 'fresco' ? [] : data.prior; // FRESCO batches do not read each other's images
    try {
      checkProjectFiles(file, onDisk.keyframes.flatMap((k) => (k.image ? [k.image] : [])));
      checkPriorRenders(file, prior.map((r) => r.image));
    } catch (err) {
      throw refuse((err as Error).message);
    }
    // The snapshot a local run has when it reaches this keyframe: the project with the earlier results.
    const snapshot = applyKeyframeResults(file, onDisk, prior).project;
    const { label, target, images } = jobTarget(snapshot, data, refuse);
    const places: ModelPlaces = { modelsDir, submitterModelsDir: data.modelsDir, pathMap: opts.pathMap };
    const missing = missingModels(places, snapshot);
    if (missing.length) {
      // Another worker may have them: the job goes back to the queue (no attempt used), and the refusal
      // is recorded for the submitter, which reports the job when every render worker refused it.
      const reason = missing.join('; ');
      const refusedBy = [...(data.refusedBy ?? []).filter((x) => x.worker !== id), { worker: id, reason }];
      if (!(data.refusedBy ?? []).some((x) => x.worker === id)) log(`cannot render the ${label} of ${file}: ${reason}`);
      await job.updateData({ ...data, refusedBy });
      await job.moveToDelayed(Date.now() + 2000, token);
      throw new DelayedError();
    }
    if (!frameCacheComplete(file, snapshot)) throw new Error(`the decoded frames of ${file} are incomplete on this machine; the submitter decodes them before submitting`);

    const r: Running = { cancel: new CancelToken(), project: file, segment: label, framesDone: 0, frames: 100 }; // render progress in percent
    running.set(job.id!, r);
    if (handingBack) r.cancel.cancel('handed back');
    log(`took ${label} of ${file}${job.attemptsStarted > 1 ? ` (attempt ${job.attemptsStarted})` : ''}`);
    const watch = setInterval(() => {
      control.exists(cancelKey(job.id!)).then((n) => { if (n) r.cancel.cancel('cancelled by the submitter'); }, () => undefined);
    }, 500);
    let lastReport = 0;
    try {
      const summary = await renderSnapshot({
        projectFile: file, ...target, modelsDir, runtime, modelPath: (stored) => workerModelPath(places, stored), cancel: r.cancel,
        progress: (fraction) => {
          r.framesDone = Math.round(fraction * 100);
          const now = Date.now();
          if (now - lastReport < 250) return;
          lastReport = now;
          const progress: JobProgress = { worker: id, framesDone: r.framesDone, frames: 100, fraction };
          job.updateProgress(progress as unknown as object).catch(() => undefined);
        },
      }, snapshot);
      if (summary.results.length !== images) throw new Error(`the render of the ${label} returned ${summary.results.length} of its ${images} images`);
      jobsDone++;
      const seconds = (Date.now() - t0) / 1000;
      log(`finished ${label}: ${summary.results.map((x) => x.image).join(', ')} on ${summary.provider ?? 'no provider'}, ${seconds.toFixed(1)} s`);
      return {
        worker: id, results: summary.results, seconds, unetCalls: summary.rendered.reduce((n, x) => n + x.unetCalls, 0),
        provider: summary.provider, skippedProviders: summary.skippedProviders, warnings: summary.warnings,
        ...(summary.fresco ? { fresco: summary.fresco.batches } : {}),
      };
    } catch (err) {
      if (isCancelled(err) && handingBack) {
        await job.moveToWait(token);
        log(`handed back ${label}`);
        throw new WaitingError();
      }
      if (isCancelled(err)) throw new UnrecoverableError('cancelled by the submitter');
      jobsFailed++;
      log(`${label} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      clearInterval(watch);
      running.delete(job.id!);
    }
  };

  const workerOptions = {
    connection: bullConnection(opts.connection), prefix: FARM_PREFIX, name: id,
    lockDuration: lockMs, stalledInterval: Math.max(1000, Math.round(lockMs / 2)), maxStalledCount: 2,
  };
  const workers: Worker[] = [];
  if (kinds.includes('propagate')) workers.push(new Worker('propagate', processor, { ...workerOptions, concurrency: opts.concurrency }));
  // One keyframe at a time: a render wants the whole accelerator.
  if (kinds.includes('render')) workers.push(new Worker('render', renderProcessor, { ...workerOptions, concurrency: 1 }));
  for (const worker of workers) {
    worker.on('error', (err) => { if (err.message !== lastRedisError) { lastRedisError = err.message; log(`redis: ${err.message} (retrying)`); } });
    worker.on('failed', (job, err) => { if (job && err.name !== 'WaitingError' && err.name !== 'DelayedError') log(`job ${job.id} failed: ${err.message}`); });
  }

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((res) => { resolveClosed = res; });
  const stop = (handBack: boolean) => {
    if (handBack) {
      handingBack = true;
      for (const r of running.values()) r.cancel.cancel('handed back');
    }
    closing ??= (async () => {
      await Promise.all(workers.map((w) => w.close()));
      await runtime?.releaseAll();
      clearInterval(beating);
      await control.del(workerKey(id)).catch(() => undefined);
      control.disconnect();
      resolveClosed();
    })();
    return closing;
  };
  return { id, kinds, render, stop, closed };
}

/**
 * What a render job renders in its snapshot, checked against it: a keyframe, or a FRESCO batch (every
 * keyframe of it, since the context keyframes' prompts and seeds shape the batch too). A keyframe or a
 * setting that changed since the job was made refuses it without retries.
 */
function jobTarget(snapshot: Project, data: RenderJob | FrescoJob, refuse: (problem: string) => Error): { label: string; target: Pick<RenderRequest, 'target' | 'frescoBatch'>; images: number } {
  const changed = (what: string) => refuse(`the ${what} (its settings, revision or method) does not match the snapshot the job names; submit it again`);
  const matches = (ref: { id: string; revision: number; frame: number }) => {
    const k = snapshot.keyframes.find((x) => x.id === ref.id);
    return k && k.revision === ref.revision && k.frame === ref.frame && snapshot.mode === data.mode ? k : undefined;
  };
  if (data.mode === 'fresco') {
    const label = renderJobLabel(data);
    for (const [n, b] of data.batch.entries()) {
      const k = matches(b);
      if (!k || k.source !== 'diffusion' || settingsKey(snapshot, k, 'fresco', false) !== b.settingsKey) throw changed(`keyframe at frame ${b.frame} of the ${label}`);
      if (n > 0 && b.frame <= data.batch[n - 1].frame) throw refuse(`malformed farm job: the ${label} does not list its keyframes once each in timeline order`);
    }
    const keep = data.batch.filter((b) => b.keep).map((b) => b.id);
    if (!keep.length) throw refuse(`malformed farm job: the ${label} keeps none of its images`);
    return { label, target: { target: { ids: keep }, frescoBatch: { keyframes: data.batch.map((b) => b.id), keep } }, images: keep.length };
  }
  const k = matches(data.keyframe);
  const label = renderJobLabel(data);
  if (!k || settingsKey(snapshot, k, data.mode, orderedKeyframes(snapshot)[0].id === k.id) !== data.settingsKey) throw changed(label);
  return { label, target: { target: { ids: [k.id] } }, images: 1 };
}

/**
 * A job this worker will not run: failed at once without retries (another worker would refuse it too),
 * naming the job (its id and, once the payload is known to be well formed, what it is) and the problem,
 * for the worker's log, the submitter's error and `farm status`.
 */
function refusal(job: Job, what: string | undefined, problem: string): UnrecoverableError {
  return new UnrecoverableError(`refused job ${job.id}${what ? ` (${what})` : ''}: ${problem}`);
}

/** The document a job works on; a snapshot that is missing, damaged or leads out is refused without retries. */
async function jobSnapshot(file: string, id: string, refuse: (problem: string) => Error) {
  try {
    return await readJobSnapshot(file, id);
  } catch (err) {
    throw refuse((err as Error).message); // the message names the file
  }
}

/**
 * A job's payload checked and its project mapped onto this machine; a malformed payload or a path the
 * map refuses fails the job at once, without retries. `what` names a well-formed job in refusals.
 */
function acceptJob<T extends { project: string }>(job: Job, parse: (raw: unknown) => T, pathMap: PathMap, what: (data: T) => string): { data: T; file: string } {
  let data: T;
  try {
    data = parse(job.data);
  } catch (err) {
    throw refusal(job, undefined, (err as Error).message);
  }
  try {
    return { data, file: resolveJobProject(pathMap, data.project) };
  } catch (err) {
    if (err instanceof PathRefused) throw refusal(job, what(data), err.message);
    throw err;
  }
}
