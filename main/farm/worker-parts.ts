// Each farm worker's part in one submission, as the editor's jobs panel shows it: the live workers that
// take the submission's kind of job (their heartbeats), what each runs for it now, what each finished
// (frames, or keyframes), and its attempts that ended without a result. Fed by the submitter's poll of
// its jobs: an attempt is known by BullMQ's attemptsStarted and the worker that took it (processedBy).
import type IORedis from 'ioredis';
import type { Job } from 'bullmq';
import type { FarmWorkerPart } from '../../preload/api';
import { WORKER_KEYS, type FarmKind, type JobProgress } from './jobs';
import type { WorkerHeartbeat } from './farm-worker';
import { scanKeys } from './connection';

interface Attempt { n: number; worker?: string; ended: boolean }

export class WorkerParts {
  private readonly done = new Map<string, number>();
  private readonly counted = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly attempts = new Map<string, Attempt>();
  private readonly hosts = new Map<string, string>();
  private running = new Map<string, FarmWorkerPart['running']>();

  constructor(private readonly kind: FarmKind) {}

  /** Starts a poll round: what runs is seen afresh. */
  beginRound(): void {
    this.running = new Map();
  }

  private add(map: Map<string, number>, worker: string, n: number): void {
    map.set(worker, (map.get(worker) ?? 0) + n);
  }

  /**
   * One job as this round found it. `what` names it for the panel ("segment 0-4"), `amount` is what it
   * adds to its worker's done count when finished (its frames, or 1 keyframe).
   */
  observe(id: string, job: Job, state: string, what: string, amount: number): void {
    const n = job.attemptsStarted ?? 0;
    const worker = job.processedBy;
    const prev = this.attempts.get(id);
    // A new attempt while the one before had not ended: that worker lost it (killed, stalled, failed, handed back).
    if (prev && n > prev.n && prev.worker && !prev.ended) this.add(this.failures, prev.worker, 1);
    const next: Attempt = { n, worker: prev && n === prev.n ? prev.worker ?? worker : worker, ended: prev && n === prev.n ? prev.ended : false };
    if (state === 'failed' && !next.ended) {
      if (next.worker) this.add(this.failures, next.worker, 1);
      next.ended = true;
    } else if (state === 'completed') {
      const by = (job.returnvalue as { worker?: unknown } | undefined)?.worker;
      if (!this.counted.has(id) && typeof by === 'string') {
        this.counted.add(id);
        this.add(this.done, by, amount);
      }
      next.ended = true;
    } else if (state === 'active' && worker) {
      const prog = job.progress as unknown as JobProgress | undefined;
      const fraction = prog && typeof prog === 'object' && prog.worker === worker && typeof prog.fraction === 'number' ? Math.min(1, Math.max(0, prog.fraction)) : 0;
      (this.running.get(worker) ?? this.running.set(worker, []).get(worker)!).push({ what, fraction });
      next.worker = worker;
    }
    this.attempts.set(id, next);
  }

  /** Every worker with a part, and the live ones that take this kind of job (idle), in name order. */
  async parts(control: IORedis): Promise<FarmWorkerPart[]> {
    const alive = new Set<string>();
    for (const key of await scanKeys(control, WORKER_KEYS).catch(() => [] as string[])) {
      try {
        const beat = JSON.parse((await control.get(key)) ?? 'null') as WorkerHeartbeat | null;
        if (!beat || typeof beat.id !== 'string') continue;
        if (typeof beat.host === 'string') this.hosts.set(beat.id, beat.host);
        if (Array.isArray(beat.kinds) && beat.kinds.includes(this.kind)) alive.add(beat.id);
        else if (this.done.has(beat.id) || this.running.has(beat.id) || this.failures.has(beat.id)) alive.add(beat.id);
      } catch { /* a damaged heartbeat expires */ }
    }
    const names = new Set([...alive, ...this.done.keys(), ...this.failures.keys(), ...this.running.keys()]);
    return [...names].sort().map((worker) => ({
      worker,
      ...(this.hosts.has(worker) ? { host: this.hosts.get(worker) } : {}),
      alive: alive.has(worker),
      running: this.running.get(worker) ?? [],
      done: this.done.get(worker) ?? 0,
      failures: this.failures.get(worker) ?? 0,
    }));
  }
}
