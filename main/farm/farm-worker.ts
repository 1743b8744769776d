// A farm worker: takes segments from the farm's BullMQ queue and propagates them with the project's
// own engine (the same call as a local run, so the same bytes), on storage every worker sees. A worker
// that dies leaves its job locked until the lock runs out; BullMQ then hands it to another worker, which
// resumes from the segment record. Stopping finishes the current jobs, or hands them back at once.
import os from 'node:os';
import IORedis from 'ioredis';
import { Worker, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { CancelToken, UserError, isCancelled } from '../../native-models/src/errors';
import { readProjectFile } from '../engine/project/project-file';
import { segmentsOf } from '../engine/project/keyframes';
import { frameCacheComplete } from '../engine/project/source-video';
import { propagateProject } from '../engine/propagation/propagate-project';
import { bullConnection, type FarmConnection } from './connection';
import { checkProjectFiles, PathRefused, resolveJobProject, type PathMap } from './path-map';
import { FARM_PREFIX, cancelKey, parsePropagateJob, segmentOutputKey, workerKey, type FarmKind, type JobProgress, type PropagateJobResult } from './jobs';

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
}

export interface FarmWorker {
  id: string;
  /** Stop taking jobs; `handBack` stops the running ones at their next frame and returns them to the queue. */
  stop(handBack: boolean): Promise<void>;
  /** Settles when the worker has stopped. */
  closed: Promise<void>;
}

/** What a worker publishes about itself every few seconds (read by `rerender farm status`). */
export interface WorkerHeartbeat {
  id: string; host: string; pid: number; kinds: FarmKind[]; concurrency: number; started: string;
  jobsDone: number; jobsFailed: number;
  active: Array<{ jobId: string; project: string; segment: string; framesDone: number; frames: number }>;
}

const HEARTBEAT_MS = 3000;

interface Running { cancel: CancelToken; project: string; segment: string; framesDone: number; frames: number }

export async function startFarmWorker(opts: FarmWorkerOptions): Promise<FarmWorker> {
  if (opts.kinds.includes('render')) {
    throw new UserError('render jobs on the farm are not available yet; start the worker with --kinds propagate');
  }
  const id = `${os.hostname()}-${process.pid}`;
  const log = opts.log ?? (() => undefined);
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
      id, host: os.hostname(), pid: process.pid, kinds: opts.kinds, concurrency: opts.concurrency, started, jobsDone, jobsFailed,
      active: [...running].map(([jobId, r]) => ({ jobId, project: r.project, segment: r.segment, framesDone: r.framesDone, frames: r.frames })),
    };
    await control.set(workerKey(id), JSON.stringify(beat), 'PX', HEARTBEAT_MS * 4).catch(() => undefined);
  };
  await heartbeat();
  const beating = setInterval(() => { void heartbeat(); }, HEARTBEAT_MS);

  const processor = async (job: Job, token?: string): Promise<PropagateJobResult> => {
    const t0 = Date.now();
    let data;
    try {
      data = parsePropagateJob(job.data);
    } catch (err) {
      throw new UnrecoverableError((err as Error).message);
    }
    let file: string;
    try {
      file = resolveJobProject(opts.pathMap, data.project);
    } catch (err) {
      if (err instanceof PathRefused) throw new UnrecoverableError(`refused: ${err.message}`);
      throw err;
    }
    const p = await readProjectFile(file);
    try {
      checkProjectFiles(file, p.keyframes.flatMap((k) => (k.image ? [k.image] : [])));
    } catch (err) {
      throw new UnrecoverableError(`refused: ${(err as Error).message}`);
    }
    const s = segmentsOf(p).find((x) => x.id === data.segment.id);
    if (!s || segmentOutputKey(p, s) !== data.key) {
      throw new UnrecoverableError(`the project changed after segment ${data.segment.id} was submitted (other keyframes or settings now); submit it again`);
    }
    // A worker reads only inside the project: the submitter decodes the source before submitting.
    if (!frameCacheComplete(file, p)) throw new Error(`the decoded frames of ${file} are incomplete on this machine; the submitter decodes them before submitting`);

    const r: Running = { cancel: new CancelToken(), project: file, segment: s.id, framesDone: 0, frames: s.end - s.start + 1 };
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
      log(`finished segment ${s.id}: ${result.framesWritten} frames written, ${result.framesKept} kept, ${result.synthesesReused} steps resumed, ${seconds.toFixed(1)} s`);
      return { worker: id, framesWritten: result.framesWritten, framesKept: result.framesKept, synthesesReused: result.synthesesReused, seconds };
    } catch (err) {
      if (isCancelled(err) && handingBack) {
        // Back to the queue without using up an attempt; finished frames and the segment record stay.
        await job.moveToWait(token);
        log(`handed back segment ${s.id} (${r.framesDone} of ${r.frames} frames done)`);
        throw new WaitingError();
      }
      jobsFailed++;
      if (isCancelled(err)) throw new UnrecoverableError('cancelled by the submitter; finished frames are kept');
      log(`segment ${s.id} failed: ${(err as Error).message}`);
      throw err;
    } finally {
      running.delete(job.id!);
    }
  };

  const worker = new Worker('propagate', processor, {
    connection: bullConnection(opts.connection), prefix: FARM_PREFIX, concurrency: opts.concurrency, name: id,
    lockDuration: lockMs, stalledInterval: Math.max(1000, Math.round(lockMs / 2)), maxStalledCount: 2,
  });
  worker.on('error', (err) => { if (err.message !== lastRedisError) { lastRedisError = err.message; log(`redis: ${err.message} (retrying)`); } });
  worker.on('failed', (job, err) => { if (job && err.name !== 'WaitingError') log(`job ${job.id} failed: ${err.message}`); });

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((res) => { resolveClosed = res; });
  const stop = (handBack: boolean) => {
    if (handBack) {
      handingBack = true;
      for (const r of running.values()) r.cancel.cancel('handed back');
    }
    closing ??= (async () => {
      await worker.close();
      clearInterval(beating);
      await control.del(workerKey(id)).catch(() => undefined);
      control.disconnect();
      resolveClosed();
    })();
    return closing;
  };
  return { id, stop, closed };
}
