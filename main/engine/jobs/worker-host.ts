// One host for every worker process: utilityProcess under Electron, child_process.fork under Node.
// Jobs are ordinary async calls with progress and cancel; a crashed worker fails its jobs with a clear
// error and is started again for the next job.
import { fork, type ChildProcess } from 'node:child_process';
import { hostMessage, workerMessage, type HostMessage, type JobProgress, type WorkerMessage } from './protocol';
import { createEtaEstimator } from './eta';
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
  eta: (fraction: number) => number | undefined;
}

export interface JobOptions { cancel?: CancelToken; onProgress?: (p: JobProgress) => void }

/** How long a worker asked to stop may take to wind its jobs down before it is killed. */
export const WORKER_STOP_GRACE_MS = 5000;

export class WorkerHost {
  private process: WorkerProcess | undefined;
  private nextId = 1;
  private pending = new Map<number, PendingJob>();
  private restarts = 0;
  private disposed = false;
  private disposing: Promise<void> | undefined;
  /** Resolves when the process of that name has exited (set when it starts). */
  private readonly exited = new WeakMap<WorkerProcess, Promise<void>>();

  constructor(readonly name: string, private readonly modulePath: string, private readonly spawn: SpawnWorker = forkWorker) {}

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
      job.onProgress?.({ fraction: msg.fraction, message: msg.message, etaSeconds: job.eta(msg.fraction) });
    } else if (msg.type === 'result') {
      this.pending.delete(msg.id);
      job.resolve(msg.value);
    } else {
      this.pending.delete(msg.id);
      const err = msg.kind === 'cancelled' ? new CancelledError(msg.message) : msg.kind === 'user' ? new UserError(msg.message) : new Error(`${this.name} worker: ${msg.message}`);
      if (msg.partial !== undefined) Object.assign(err, { partial: msg.partial }); // what finished before (partialOf)
      job.reject(err);
    }
  }

  /** Runs `method` in the worker. Cancelling sends a cancel; the job then rejects with CancelledError. */
  call<T = unknown>(method: string, params: unknown, opts: JobOptions = {}): Promise<T> {
    opts.cancel?.throwIfCancelled();
    const proc = this.ensureProcess();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, onProgress: opts.onProgress, eta: createEtaEstimator() });
      opts.cancel?.onCancel(() => { if (this.pending.has(id)) proc.send(hostMessage.parse({ type: 'cancel', id })); });
      proc.send({ type: 'request', id, method, params });
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
