// Propagating a project on the farm: the submitter decodes the source and prepares the caches, writes
// the document as a snapshot in the project cache (snapshot.ts), puts one job per segment in the queue
// (jobs of the same work from another submission are shared, not doubled), follows them with progress,
// ETA, each worker's part and cancel like a local run, and at the end runs one local pass that copies the
// keyframes and checks every frame is there (under the project lock when it read the project file).
import type { Project } from '../../preload/project-schema';
import type { FarmWorkerPart } from '../../preload/api';
import { resultFrameFile, segmentOutputDir } from '../engine/project/output-keys';
import { frameFileName, projectPaths } from '../engine/project/paths';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { Queue, type Job } from 'bullmq';
import { CancelledError, UserError, type CancelToken, type ProgressFn } from '../../native-models/src/errors';
import { readProjectFile } from '../engine/project/project-file';
import { count } from '../../preload/plural';
import { segmentsOf, type Segment } from '../engine/project/keyframes';
import { ensureFrameCache } from '../engine/project/source-video';
import { openProjectFlows, propagateProject, runnableSegments, type SkippedSegments } from '../engine/propagation/propagate-project';
import { withProjectLock } from '../engine/project/project-lock';
import { bullConnection, checkFarmConnection, type FarmConnection } from './connection';
import { writeJobSnapshot } from './snapshot';
import { WorkerParts } from './worker-parts';
import { FARM_PREFIX, JOB_ATTEMPTS, cancelKey, followersKey, submissionKey, propagateJobFor, segmentOutputKey, type JobProgress, type PropagateJob, type PropagateJobResult } from './jobs';

export interface FarmSubmitOptions {
  connection: FarmConnection;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
  /** Each worker's part, every poll: what it runs for this submission, what it finished, its lost attempts. */
  onWorkers?: (parts: FarmWorkerPart[]) => void;
  /** How often the queue is read, in ms. */
  pollMs?: number;
  /** What the first contact with Redis found that can lose jobs (no append-only file), before any work. */
  onWarning?: (warning: string) => void;
}

export interface FarmPropagateResult {
  segments: number;
  /** Segments this submission did not queue: finished earlier, or already queued by another submission. */
  segmentsShared: number;
  framesWritten: number;
  framesKept: number;
  /** Distinct workers that ran this submission's segments. */
  workers: string[];
  /** Segments not submitted because a keyframe of theirs has no finished image. */
  skipped?: SkippedSegments;
}

/** Opens the farm's propagate queue (the name every worker and submitter uses). */
export function propagateQueue(c: FarmConnection): Queue {
  return new Queue('propagate', { connection: bullConnection(c), prefix: FARM_PREFIX });
}

/** Whether every output frame of the segment is on disk: one listing of its output folder, not a lookup per frame. */
function segmentFramesPresent(projectFile: string, p: Project, s: Segment): boolean {
  let names: Set<string>;
  try {
    names = new Set(fs.readdirSync(segmentOutputDir(projectFile, segmentOutputKey(p, s))));
  } catch {
    return false;
  }
  const keyframes = new Set(p.keyframes.map((k) => k.frame));
  for (let f = s.start; f <= s.end; f++) {
    if (keyframes.has(f) ? !resultFrameFile(projectFile, p, f) : !names.has(frameFileName(f))) return false;
  }
  return true;
}

export const JOB_OPTIONS = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: 'fixed', delay: 2000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/** Puts the segment's job in the queue unless the same work is already there (shared) or done. */
async function queueSegment(queue: Queue, projectFile: string, p: Project, job: { id: string; data: PropagateJob }, s: Segment): Promise<'queued' | 'shared' | 'done'> {
  const existing = await queue.getJob(job.id);
  if (existing) {
    const state = await existing.getState();
    if (state === 'completed' && segmentFramesPresent(projectFile, p, s)) return 'done';
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return 'shared'; // waiting or running: follow it
    await existing.remove().catch(() => undefined); // failed, or done but its frames were deleted since: again
  }
  await queue.add('propagate', job.data, { ...JOB_OPTIONS, jobId: job.id });
  return 'queued';
}

export interface FarmPropagateOptions extends FarmSubmitOptions {
  /**
   * The document to propagate as its owner holds it (the editor's, saved or not). Without it the project
   * file is read, and checked again under the project lock before the last local pass.
   */
  project?: Project;
  /** Only this segment ("A-B"). */
  segmentId?: string;
}

export async function propagateOnFarm(projectFile: string, opts: FarmPropagateOptions): Promise<FarmPropagateResult> {
  const file = path.resolve(projectFile);
  for (const w of (await checkFarmConnection(opts.connection)).warnings) opts.onWarning?.(w);
  const p = opts.project ?? await readProjectFile(file);
  const { segments, skipped } = runnableSegments(p, opts.segmentId);
  // Workers read only inside the project: the source is decoded here, and the flow cache made, first.
  await ensureFrameCache(file, p, { cancel: opts.cancel });
  await openProjectFlows(file, p);
  fs.mkdirSync(projectPaths(file).outputDir, { recursive: true });
  fs.mkdirSync(projectPaths(file).segmentsDir, { recursive: true });

  const snapshot = await writeJobSnapshot(file, p);
  const jobs = segments.map((s) => ({ s, ...propagateJobFor(file, p, s, snapshot) }));
  const queue = propagateQueue(opts.connection);
  const control = new IORedis(bullConnection(opts.connection));
  queue.on('error', () => undefined); // Redis restarting: the clients reconnect and the poll waits
  control.on('error', () => undefined);
  try {
    let shared = 0;
    const doneBefore = new Set<string>(); // finished before this submission: their work is not this run's
    const submission = new Submission(control);
    await submission.beat();
    for (const j of jobs) {
      await control.del(cancelKey(j.id));
      await submission.follow(j.id);
      const how = await queueSegment(queue, file, p, j, j.s);
      if (how !== 'queued') shared++;
      if (how === 'done') doneBefore.add(j.id);
    }
    const totalFrames = segments.reduce((n, s) => n + s.end - s.start + 1, 0);
    const results = new Map<string, PropagateJobResult>();
    let cancelled = false;
    opts.cancel?.onCancel(() => { cancelled = true; });
    let kept = new Set<string>();
    const parts = new WorkerParts('propagate');
    for (;;) {
      await submission.beat();
      let framesDone = 0;
      const running: string[] = [];
      parts.beginRound();
      for (const j of jobs) {
        const job: Job | undefined = await queue.getJob(j.id);
        if (!job) {
          // Gone (removed by hand, or by another submitter that found it failed): queue it again.
          if (!cancelled) await queueSegment(queue, file, p, j, j.s);
          continue;
        }
        const state = await job.getState();
        const frames = j.s.end - j.s.start + 1;
        if (!doneBefore.has(j.id)) parts.observe(j.id, job, state, `segment ${j.s.id}`, frames);
        if (state === 'completed') {
          framesDone += frames;
          const rv = job.returnvalue as PropagateJobResult | undefined;
          if (rv && !results.has(j.id)) results.set(j.id, rv);
        } else if (state === 'failed') {
          if (cancelled) continue;
          throw new UserError(`segment ${j.s.id} failed on the farm after ${attemptsText(job.attemptsMade)}: ${job.failedReason}; finished frames are kept, submit again to continue`, file);
        } else {
          framesDone += jobFramesDone(job.progress, frames);
          if (state === 'active') running.push(j.id);
        }
      }
      const done = jobs.filter((j) => results.has(j.id)).length;
      if (cancelled) {
        kept = await submission.cancel(queue, jobs.filter((j) => !results.has(j.id)).map((j) => j.id));
        if (running.every((id) => kept.has(id))) throw new SubmissionCancelled('finished frames are kept', kept.size);
      } else {
        if (opts.onWorkers) opts.onWorkers(await parts.parts(control));
        opts.onProgress?.(Math.min(0.99, (framesDone / Math.max(1, totalFrames)) * 0.99), `${done} of ${jobs.length} segments done on the farm, ${running.length} running`);
        if (done === jobs.length) break;
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 400));
    }

    // One local pass copies the keyframes and finds every segment finished (or finishes what is missing).
    // A document given by its owner is the snapshot itself (its owner decides what to do with edits made
    // meanwhile, as for a local run); a project read from its file must still be the one submitted.
    let local;
    if (opts.project) {
      local = await propagateProject(file, p, { cancel: opts.cancel, segmentId: opts.segmentId });
    } else {
      const now = await readProjectFile(file);
      const keys = new Map(segmentsOf(now).map((s) => [s.id, segmentOutputKey(now, s)]));
      const changed = jobs.some((j) => keys.get(j.s.id) !== j.data.key) || (!opts.segmentId && keys.size !== jobs.length + (skipped?.ids.length ?? 0));
      if (changed) throw new UserError('the project changed while the farm propagated it; run propagate again for the changed segments', file);
      local = await withProjectLock(file, () => propagateProject(file, now, { cancel: opts.cancel, segmentId: opts.segmentId }));
    }
    opts.onProgress?.(1, `propagated ${count(segments.length, 'segment')} on the farm`);
    const mine = [...results].filter(([id]) => !doneBefore.has(id)).map(([, r]) => r);
    return {
      segments: segments.length,
      segmentsShared: shared,
      framesWritten: mine.reduce((n, r) => n + r.framesWritten, 0) + local.framesWritten,
      framesKept: mine.reduce((n, r) => n + r.framesKept, 0),
      workers: [...new Set(mine.map((r) => r.worker))].sort(),
      ...(skipped ? { skipped } : {}),
    };
  } finally {
    await queue.close().catch(() => undefined);
    control.disconnect();
  }
}

/**
 * How much of a running segment is done, in frames, from its worker's progress: the segment's own
 * fraction (synthesis steps of both directions, as a local run counts them) where it says more than
 * the frames finished, which come only once both directions have reached a frame. Counting finished
 * frames alone left a two-sided segment at 0 until its last steps, and the ETA measured from nothing.
 */
export function jobFramesDone(progress: unknown, frames: number): number {
  const prog = progress as Partial<JobProgress> | undefined;
  if (!prog || typeof prog !== 'object') return 0;
  const finished = typeof prog.framesDone === 'number' && Number.isFinite(prog.framesDone) ? prog.framesDone : 0;
  const share = typeof prog.fraction === 'number' && Number.isFinite(prog.fraction) ? prog.fraction * frames : 0;
  return Math.min(frames, Math.max(0, finished, share));
}

/** "1 attempt", "3 attempts". */
export const attemptsText = (n: number) => `${n} attempt${n === 1 ? '' : 's'}`;

/** What a cancelled submission says after its reason: the jobs that went on for another submission, if any. */
export function sharedNote(shared: number): string {
  return shared ? `; ${shared} job${shared === 1 ? '' : 's'} shared with another submission that still follows ${shared === 1 ? 'it go' : 'them go'} on for that submission` : '';
}

/**
 * A submission cancelled: what it kept, and how many of its jobs went on for another submission
 * (`shared`, so a caller that says the cancel in its own words, as Ctrl-C of the CLI, keeps that note).
 */
export class SubmissionCancelled extends CancelledError {
  constructor(kept: string, readonly shared: number) {
    super(`cancelled; ${kept}${sharedNote(shared)}`);
  }
}

/**
 * One submission's share in the farm's jobs. Two submissions of the same work follow the same jobs; a
 * cancel takes this submission off its jobs and stops only those no other live submission follows
 * (queued ones are removed, running ones stop at their next frame or step). A shared job goes on, and
 * the other submission gets its result as if nothing happened.
 */
export class Submission {
  readonly id = `${os.hostname()}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  constructor(private readonly control: IORedis) {}

  /** Refreshed every poll: a submission that died stops counting after 15 s. */
  async beat(): Promise<void> {
    await this.control.set(submissionKey(this.id), '1', 'PX', 15_000).catch(() => undefined);
  }

  async follow(jobId: string): Promise<void> {
    await this.control.multi().sadd(followersKey(jobId), this.id).expire(followersKey(jobId), 7 * 24 * 3600).exec();
  }

  /** Cancels this submission's part; returns the ids of the jobs kept for another live submission. */
  async cancel(queue: Queue, ids: string[]): Promise<Set<string>> {
    const kept = new Set<string>();
    for (const id of ids) {
      await this.control.srem(followersKey(id), this.id);
      const others = await this.control.smembers(followersKey(id));
      let alive = false;
      for (const o of others) if (await this.control.exists(submissionKey(o))) { alive = true; break; }
      if (alive) { kept.add(id); continue; }
      await this.control.set(cancelKey(id), '1', 'EX', 3600);
      const job = await queue.getJob(id);
      if (job && ['waiting', 'delayed', 'prioritized'].includes(await job.getState())) await job.remove().catch(() => undefined);
    }
    return kept;
  }
}
