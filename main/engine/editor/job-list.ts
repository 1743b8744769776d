// The editor's job list: every long operation (decode, render, propagate, export, import) with its
// progress, ETA, cancel and outcome, reported as events the jobs panel shows.
import { jobEnded, type JobState } from '../../../preload/api';
import type { FarmWorkerPart, JobProgress } from '../jobs/protocol';
import { CancelToken, isCancelled } from '../../../native-models/src/errors';
import { createEtaEstimator } from '../jobs/eta';

export type JobKind = JobState['kind'];

export interface JobRun {
  cancel: CancelToken;
  onProgress: (p: JobProgress) => void;
  /** A queued job's work calls this when its wait is over; it throws when the job was cancelled meanwhile. */
  begin: () => void;
  /** A line the finished job shows (which execution provider ran, what was passed over). */
  setNote: (note: string) => void;
  /** A job on the render farm: the farm it runs on (URL, password hidden) and each worker's part. */
  setFarm: (farmUrl: string, parts: FarmWorkerPart[]) => void;
}

export interface JobOptions extends Partial<Pick<JobState, 'keyframeId' | 'output' | 'project'>> {
  /** The job starts queued, showing this reason, until its work calls `run.begin()`. */
  queued?: string;
  /**
   * What the job works on, as items (see jobTarget): a keyframe, a segment, an export destination, an
   * imported file. A job done supersedes an earlier failure of its kind only when it covered every item
   * of that failure's target; a job without one is never superseded and supersedes nothing.
   */
  target?: string[];
}

/**
 * One item of a job's target: `scope` (e.g. "<project file> keyframe") and the item in it (an id, a path),
 * or '*' for every item of the scope (Propagate all keyframes covers any segment of its project).
 */
export function jobTarget(scope: string, item: string): string {
  return `${scope}\u0000${item}`;
}

/** Whether every item of `failed` is covered by `done` (the same item, or its scope's '*'). */
function covers(done: readonly string[], failed: readonly string[]): boolean {
  const have = new Set(done);
  return failed.length > 0 && failed.every((t) => have.has(t) || have.has(`${t.slice(0, t.indexOf('\u0000'))}\u0000*`));
}

/** Turns a failure into what the jobs panel shows: the message, the file involved, and what to do. */
export type DescribeFailure = (err: unknown, kind: JobKind) => NonNullable<JobState['error']>;

/** Jobs that finished are kept for the panel up to this many. */
const FINISHED_KEPT = 50;
/** Progress events per job are sent at most this often (the UI cannot show more). */
const PROGRESS_INTERVAL_MS = 100;

export class JobList {
  private jobs = new Map<string, { state: JobState; cancel: CancelToken; lastSent: number; target?: string[] }>();
  private nextId = 1;

  /** `now` times the jobs (start, end, ETA, how often progress is sent); tests step it to see ETAs without waiting. */
  constructor(private readonly emit: (job: JobState) => void, private readonly describe: DescribeFailure, private readonly now: () => number = Date.now) {}

  list(): JobState[] {
    return [...this.jobs.values()].map((j) => j.state);
  }

  get(id: string): JobState | undefined {
    return this.jobs.get(id)?.state;
  }

  /**
   * Jobs that have not ended, queued ones included: a queued job will run, so checks such as "keyframes
   * are already rendering" must see it (as they did when waiting jobs showed as running).
   */
  running(kind?: JobKind): JobState[] {
    return this.list().filter((j) => !jobEnded(j) && (!kind || j.kind === kind));
  }

  /**
   * Starts `work` as a job and returns its state at once; `work` gets a cancel token and a progress
   * callback. The returned promise settles with the job's value (or undefined when it failed).
   * With `queued`, the job shows as queued (no progress) until the work calls `run.begin()`.
   */
  start<T>(kind: JobKind, title: string, work: (run: JobRun) => Promise<T>, options: JobOptions = {}): { job: JobState; done: Promise<T | undefined> } {
    const id = `job-${this.nextId++}`;
    const cancel = new CancelToken();
    const { queued, target, ...extra } = options;
    const status = queued === undefined ? 'running' : 'queued';
    const entry = { state: { id, kind, title, status, fraction: 0, ...(queued === undefined ? {} : { message: queued }), startedAt: this.now(), ...extra } as JobState, cancel, lastSent: 0, target };
    this.jobs.set(id, entry);
    this.prune();
    this.emit(entry.state);
    const begin = () => {
      cancel.throwIfCancelled(); // a job cancelled while queued ends without running
      if (entry.state.status !== 'queued') return;
      entry.state = { ...entry.state, status: 'running', message: undefined };
      this.emit(entry.state);
    };
    let eta: ((fraction: number) => number | undefined) | undefined;
    const onProgress = (p: JobProgress) => {
      if (entry.state.status !== 'running') return; // queued jobs have no progress or ETA to show
      // Work in this process (decoding, imports) reports no ETA: measured here, from when it started running.
      eta ??= createEtaEstimator(this.now);
      const etaSeconds = eta(p.fraction);
      entry.state = { ...entry.state, fraction: p.fraction, message: p.message, etaSeconds };
      const now = this.now();
      if (now - entry.lastSent >= PROGRESS_INTERVAL_MS || p.fraction >= 1) {
        entry.lastSent = now;
        this.emit(entry.state);
      }
    };
    const setNote = (note: string) => { entry.state = { ...entry.state, note }; };
    const setFarm = (url: string, workers: FarmWorkerPart[]) => {
      if (jobEnded(entry.state)) return;
      entry.state = { ...entry.state, farm: { url, workers } };
      const now = Date.now();
      if (now - entry.lastSent >= PROGRESS_INTERVAL_MS) {
        entry.lastSent = now;
        this.emit(entry.state);
      }
    };
    const done = work({ cancel, onProgress, begin, setNote, setFarm }).then(
      (value) => {
        this.finish(entry, { status: 'done', fraction: 1, message: undefined, etaSeconds: undefined });
        return value;
      },
      (err) => {
        if (isCancelled(err) || cancel.cancelled) this.finish(entry, { status: 'cancelled', etaSeconds: undefined, message: 'cancelled' });
        else this.finish(entry, { status: 'failed', etaSeconds: undefined, error: this.describe(err, kind) });
        return undefined;
      },
    );
    return { job: entry.state, done };
  }

  cancel(id: string): void {
    this.jobs.get(id)?.cancel.cancel('cancelled by the user');
  }

  cancelAll(): void {
    for (const j of this.jobs.values()) j.cancel.cancel('the project was closed');
  }

  /** Forgets the finished jobs of projects other than `projectFile` (another project was opened or the project closed). */
  forgetOtherProjects(projectFile: string | null): void {
    for (const [id, j] of this.jobs) if (jobEnded(j.state) && j.state.project && j.state.project !== projectFile) this.jobs.delete(id);
  }

  clearFinished(): JobState[] {
    for (const [id, j] of this.jobs) if (jobEnded(j.state)) this.jobs.delete(id);
    return this.list();
  }

  private finish(entry: { state: JobState; target?: string[] }, change: Partial<JobState>): void {
    entry.state = { ...entry.state, ...change, endedAt: this.now() };
    this.emit(entry.state);
    if (entry.state.status === 'done') this.supersede(entry.state, entry.target);
  }

  /**
   * Earlier failures of the work `done` has now done (same kind, and every item of their target among
   * its own: the same keyframe, segment, export destination or imported file) are marked superseded, so
   * the panel stops showing their errors as if they still applied (they stay listed until cleared).
   */
  private supersede(done: JobState, target: string[] | undefined): void {
    if (!target?.length) return;
    for (const j of this.jobs.values()) {
      const s = j.state;
      if (s.id === done.id || s.status !== 'failed' || s.supersededBy || s.kind !== done.kind || !j.target || !covers(target, j.target) || s.startedAt > done.startedAt) continue;
      j.state = { ...s, supersededBy: done.id };
      this.emit(j.state);
    }
  }

  private prune(): void {
    const finished = this.list().filter(jobEnded);
    for (const j of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) this.jobs.delete(j.id);
  }
}
