// The worker side of the job protocol: register handlers, get progress and cancel for free. A worker of
// the registry (job-registry.ts) serves its jobs with serveWorkerJobs: each handler gets its parameters
// validated and typed, and its result is checked against the job's schema before it is sent.
import type { z } from 'zod';
import { hostMessage, type FarmWorkerPart, type WorkerMessage } from './protocol';
import { parseJobParams, parseJobResult, workerJobs, type JobSpec, type WorkerJobs, type WorkerName } from './job-registry';
import { CancelToken, UserError, isCancelled, type ProgressFn } from '../../../native-models/src/errors';
import { asUserError } from '../fs/disk-space';

export interface JobContext {
  progress: ProgressFn;
  cancel: CancelToken;
  /** A farm submission's workers and their parts, for the host's job list. */
  workers?: (parts: FarmWorkerPart[]) => void;
}
export type JobHandler = (params: unknown, ctx: JobContext) => Promise<unknown>;

interface ParentPort { postMessage(m: unknown): void; on(event: 'message', l: (e: { data: unknown }) => void): void }

/** Electron utility processes talk through process.parentPort; forked Node processes through process.send. */
function channel(): { post(m: WorkerMessage): void; listen(l: (m: unknown) => void): void } {
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) return { post: (m) => port.postMessage(m), listen: (l) => port.on('message', (e) => l(e.data)) };
  if (!process.send) throw new Error('this module must run as a worker process (no IPC channel)');
  return { post: (m) => process.send!(m), listen: (l) => process.on('message', l) };
}

/** A registered job's handler: validated parameters in, a result of the job's schema out. */
export type TypedHandler<S extends JobSpec> = (params: z.output<S['params']>, ctx: JobContext) => Promise<z.input<S['result']>>;

/** Serves every job the registry gives worker `worker`, validating parameters and results. */
export function serveWorkerJobs<W extends WorkerName>(worker: W, handlers: { [N in keyof WorkerJobs<W>]: TypedHandler<WorkerJobs<W>[N] & JobSpec> }): void {
  const jobs: Record<string, JobSpec> = workerJobs(worker);
  const typed = handlers as unknown as Record<string, TypedHandler<JobSpec>>;
  serveJobs(Object.fromEntries(Object.entries(jobs).map(([name, spec]): [string, JobHandler] => [
    name,
    async (params, ctx) => parseJobResult(name, spec.result, await typed[name](parseJobParams(name, spec.params, params), ctx)),
  ])));
}

export function serveJobs(handlers: Record<string, JobHandler>): void {
  const ch = channel();
  const running = new Map<number, CancelToken>();
  // Asked to stop (the host's dispose): cancel every job, let each clean up, then exit. The host kills
  // the process if this takes longer than its grace period.
  let stopping = false;
  const exitWhenIdle = () => { if (stopping && running.size === 0) process.exit(0); };
  process.once('SIGTERM', () => {
    stopping = true;
    for (const cancel of running.values()) cancel.cancel('the app is shutting down');
    exitWhenIdle();
  });
  ch.listen(async (raw) => {
    const parsed = hostMessage.safeParse(raw);
    if (!parsed.success) return;
    const msg = parsed.data;
    if (msg.type === 'cancel') { running.get(msg.id)?.cancel(); return; }
    if (stopping) return; // the host has already failed this job as cancelled
    const handler = Object.prototype.hasOwnProperty.call(handlers, msg.method) ? handlers[msg.method] : undefined;
    if (!handler) {
      ch.post({ type: 'error', id: msg.id, kind: 'internal', message: `unknown job "${msg.method}"` });
      return;
    }
    const cancel = new CancelToken();
    running.set(msg.id, cancel);
    let last = 0;
    const progress: ProgressFn = (fraction, message) => {
      const now = Date.now();
      if (now - last < 50 && fraction < 1) return; // keep IPC light
      last = now;
      ch.post({ type: 'progress', id: msg.id, fraction: Math.max(0, Math.min(1, fraction)), message });
    };
    try {
      const workers = (parts: FarmWorkerPart[]) => ch.post({ type: 'workers', id: msg.id, workers: parts });
      const value = await handler(msg.params, { progress, cancel, workers });
      ch.post({ type: 'result', id: msg.id, value });
    } catch (caught) {
      const partial = (caught as { partial?: unknown } | undefined)?.partial;
      const err = asUserError(caught); // a full disk anywhere is a message for the user, not a bug
      const kind = isCancelled(err) ? 'cancelled' : err instanceof UserError ? 'user' : 'internal';
      const user = kind === 'user' ? err as UserError : undefined;
      ch.post({
        type: 'error', id: msg.id, kind, message: kind === 'internal' ? String((err as Error)?.stack ?? err) : (err as Error).message,
        ...(user?.file ? { file: user.file } : {}), ...(user?.detail ? { detail: user.detail.slice(-8000) } : {}), ...(partial === undefined ? {} : { partial }),
      });
    } finally {
      running.delete(msg.id);
      exitWhenIdle();
    }
  });
  ch.post({ type: 'ready' });
}
