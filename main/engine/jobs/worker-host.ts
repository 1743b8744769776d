// One host for every worker process: utilityProcess under Electron, child_process.fork under Node.
// Jobs are ordinary async calls with progress and cancel; a crashed worker fails its jobs with a clear
// error and is started again for the next job. A host of a registered worker (job-registry.ts) is typed
// by its jobs and validates the parameters it sends and the results it gets. The ETA of a job is not
// computed here: the job list (editor) and the command line's progress line compute it, once, from the
// fraction (jobs/eta.ts).
import { fork, type ChildProcess } from 'node:child_process';
import type { z } from 'zod';
import { hostMessage, workerMessage, type FarmWorkerPart, type HostMessage, type JobProgress, type WorkerMessage } from './protocol';
import { parseJobParams, parseJobResult, workerJobs, type JobSpec, type WorkerJobs, type WorkerName } from './job-registry';
import { CancelledError, UserError, type CancelToken } from '../../../native-models/src/errors';

/** The few things the host needs from a process; Electron's UtilityProcess is adapted to this in the shell. */
export interface WorkerProcess {
  send(message: HostMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (code: number | null, signal: string | null) => void): void;
  /** Asks the process to end (SIGTERM: it cancels its jobs and exits); `force` kills it outright. */
  kill(force?: boolean): void;
  readonly pid: number | undefined;
}

export type SpawnWorker = (modulePath: string, name: string) => WorkerProcess;

/** child_process.fork with structured-clone serialisation; .ts workers run through tsx (tests, dev). */
export const forkWorker: SpawnWorker = (modulePath) => {
  const execArgv = modulePath.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child: ChildProcess = fork(modulePath, [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    send: (m) => { if (child.connected) child.send(m); },
    onMessage: (l) => child.on('message', l),
    onExit: (l) => child.on('exit', (code, signal) => l(code, signal)),
    kill: (force) => { if (child.exitCode === null && child.signalCode === null) child.kill(force ? 'SIGKILL' : 'SIGTERM'); },
    get pid() { return child.pid; },
  };
};

interface PendingJob {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: (p: JobProgress) => void;
  onWorkers?: (parts: FarmWorkerPart[]) => void;
}

export interface JobOptions { cancel?: CancelToken; onProgress?: (p: JobProgress) => void; onWorkers?: (parts: FarmWorkerPart[]) => void }

/** How long a worker asked to stop may take to wind its jobs down before it is killed. */
export const WORKER_STOP_GRACE_MS = 5000;

/** Jobs of a host without a registry (test workers): anything goes, nothing is checked. */
type UncheckedJobs = Record<string, JobSpec<z.ZodType<unknown>, z.ZodType<unknown>>>;

export class WorkerHost<J extends Record<string, JobSpec> = UncheckedJobs> {
  private process: WorkerProcess | undefined;
  private nextId = 1;
  private pending = new Map<number, PendingJob>();
  private restarts = 0;
  private disposed = false;
  private disposing: Promise<void> | undefined;
  /** Resolves when the process of that name has exited (set when it starts). */
  private readonly exited = new WeakMap<WorkerProcess, Promise<void>>();

  constructor(readonly name: string, private readonly modulePath: string, private readonly spawn: SpawnWorker = forkWorker, private readonly jobs?: J) {}

  /** The host of a registered worker: typed by its jobs, parameters and results validated. */
  static of<W extends WorkerName>(worker: W, modulePath: string, spawn: SpawnWorker = forkWorker): WorkerHost<WorkerJobs<W>> {
    return new WorkerHost(worker, modulePath, spawn, workerJobs(worker));
  }

  private spec(method: string): JobSpec | undefined {
    return this.jobs && Object.prototype.hasOwnProperty.call(this.jobs, method) ? (this.jobs as Record<string, JobSpec>)[method] : undefined;
  }

  /** Number of times the worker was started again after a crash. */
  get restartCount(): number { return this.restarts; }
  get pid(): number | undefined { return this.process?.pid; }
  get running(): boolean { return this.process !== undefined; }

  private ensureProcess(): WorkerProcess {
    if (this.disposed) throw new Error(`the ${this.name} worker was shut down`);
    if (this.process) return this.process;
    const proc = this.spawn(this.modulePath, this.name);
    proc.onMessage((raw) => this.handle(raw));
    let markExited!: () => void;
    this.exited.set(proc, new Promise<void>((resolve) => { markExited = resolve; }));
    proc.onExit((code, signal) => {
      markExited();
      if (this.process !== proc) return;
      this.process = undefined;
      const jobs = [...this.pending.values()];
      this.pending.clear();
      if (!this.disposed && jobs.length) this.restarts++;
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      for (const job of jobs) {
        job.reject(new UserError(`the ${this.name} worker stopped unexpectedly while running "${job.method}" (it ${how}); the job was stopped and your project is unchanged — run it again, and if it keeps happening, lower the resolution or worker count`));
      }
    });
    this.process = proc;
    return proc;
  }

  private handle(raw: unknown): void {
    const parsed = workerMessage.safeParse(raw);
    if (!parsed.success) return; // a malformed message from a worker is ignored, never trusted
    const msg: WorkerMessage = parsed.data;
    if (msg.type === 'ready') return;
    const job = this.pending.get(msg.id);
    if (!job) return;
    if (msg.type === 'progress') {
      job.onProgress?.({ fraction: msg.fraction, message: msg.message });
    } else if (msg.type === 'workers') {
      job.onWorkers?.(msg.workers);
    } else if (msg.type === 'result') {
      this.pending.delete(msg.id);
      const spec = this.spec(job.method);
      try {
        job.resolve(spec ? parseJobResult(job.method, spec.result, msg.value) : msg.value);
      } catch (err) {
        job.reject(new Error(`${this.name} worker: ${(err as Error).message}`));
      }
    } else {
      this.pending.delete(msg.id);
      const err = msg.kind === 'cancelled' ? new CancelledError(msg.message) : msg.kind === 'user' ? new UserError(msg.file && msg.message.startsWith(`${msg.file}: `) ? msg.message.slice(msg.file.length + 2) : msg.message, msg.file, msg.detail) : new Error(`${this.name} worker: ${msg.message}`);
      const partialSchema = this.spec(job.method)?.partial;
      const partial = msg.partial === undefined ? undefined : partialSchema ? partialSchema.safeParse(msg.partial).data : msg.partial;
      if (partial !== undefined) Object.assign(err, { partial }); // what finished before (partialOf); a malformed one is dropped
      job.reject(err);
    }
  }

  /** Runs `method` in the worker. Cancelling sends a cancel; the job then rejects with CancelledError. */
  call<K extends keyof J & string>(method: K, params: z.input<J[K]['params']>, opts: JobOptions = {}): Promise<z.output<J[K]['result']>> {
    opts.cancel?.throwIfCancelled();
    const spec = this.spec(method);
    let checked: unknown = params;
    try {
      if (spec) checked = parseJobParams(method, spec.params, params);
    } catch (err) {
      return Promise.reject(err);
    }
    const proc = this.ensureProcess();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject, onProgress: opts.onProgress, onWorkers: opts.onWorkers });
      opts.cancel?.onCancel(() => { if (this.pending.has(id)) proc.send(hostMessage.parse({ type: 'cancel', id })); });
      proc.send({ type: 'request', id, method, params: checked });
    });
  }

  /**
   * Stops the worker: running jobs fail as cancelled, the process is asked to end (it cancels its jobs,
   * so they clean up after themselves) and is killed if it has not exited after `graceMs`. Resolves only
   * once the process has exited, so nothing is left running behind a disposed host.
   */
  dispose(graceMs = WORKER_STOP_GRACE_MS): Promise<void> {
    if (this.disposing) return this.disposing;
    this.disposed = true;
    const proc = this.process;
    this.process = undefined;
    for (const job of this.pending.values()) job.reject(new CancelledError('the app is shutting down'));
    this.pending.clear();
    if (!proc) return (this.disposing = Promise.resolve());
    const exited = this.exited.get(proc)!;
    proc.kill();
    const killer = setTimeout(() => proc.kill(true), graceMs);
    this.disposing = exited.finally(() => clearTimeout(killer));
    return this.disposing;
  }
}
