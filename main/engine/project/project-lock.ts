// One writer per project: a lock file beside the project names the process that has it open. A lock
// whose process is gone (crash, kill, power loss) is stale and taken over. Within a process the lock is
// counted: nested holders (a command that opens a store inside `withProjectLock`) each release their
// own hold, and the file goes only with the last one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';
import { describeWriteError } from '../fs/atomic';

export interface LockOwner { pid: number; host: string; since: string; app: string }

export function lockPath(projectFile: string): string {
  return projectFile + '.lock';
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof o?.pid === 'number' && typeof o?.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** A lock is stale when its owner ran on this machine and is no longer running, or it cannot be read. */
function isStale(owner: LockOwner | undefined): boolean {
  if (!owner) return true;
  if (owner.host !== os.hostname()) return false; // another machine (shared folder): cannot tell, respect it
  return owner.pid !== process.pid && !processAlive(owner.pid);
}

/** Holds of each lock file by this process: the file is removed when the last one is released. */
const holds = new Map<string, number>();

export class ProjectLock {
  private released = false;
  private constructor(readonly file: string) {
    holds.set(file, (holds.get(file) ?? 0) + 1);
  }

  /** How many holds this process has on the lock of `projectFile` (0: not held here). */
  static holdsOf(projectFile: string): number {
    return holds.get(lockPath(path.resolve(projectFile))) ?? 0;
  }

  /**
   * Takes the lock or throws a UserError naming the process that holds it. Re-entrant within a process:
   * each acquire is one hold, released by its own `release`; the lock file stays until the last goes.
   */
  static acquire(projectFile: string, app = 'rerender'): ProjectLock {
    const file = lockPath(path.resolve(projectFile));
    const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), app };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (holds.has(file) && readOwner(file)?.pid === process.pid) return new ProjectLock(file);
      try {
        fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
        return new ProjectLock(file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') {
          if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new UserError('the project folder is read-only; copy the project somewhere writable to edit it', projectFile);
          throw describeWriteError(err, projectFile); // a full disk, a folder that does not exist
        }
      }
      const owner = readOwner(file);
      if (owner && owner.pid === process.pid && owner.host === me.host) return new ProjectLock(file);
      if (!isStale(owner)) {
        throw new UserError(`the project is open in another window or process (${owner!.app}, pid ${owner!.pid} on ${owner!.host}, since ${owner!.since}); close it there first`, projectFile);
      }
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
    throw new UserError('could not take the project lock (another process keeps taking it)', projectFile);
  }

  /** Gives up this hold (again: nothing); the last hold of the process removes the lock file. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const left = (holds.get(this.file) ?? 1) - 1;
    if (left > 0) {
      holds.set(this.file, left);
      return;
    }
    holds.delete(this.file);
    const owner = readOwner(this.file);
    if (owner?.pid === process.pid) fs.rmSync(this.file, { force: true });
  }
}

/** Runs `fn` while holding the project's lock (one hold: nested use keeps the outer one). */
export async function withProjectLock<T>(projectFile: string, fn: () => Promise<T>): Promise<T> {
  const lock = ProjectLock.acquire(projectFile);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
