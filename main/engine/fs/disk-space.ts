// Free disk space: checked before long writes (decode, propagate, export) so a full disk is said up front,
// with what is full and how much is needed, instead of failing half way with ENOSPC.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';

/** Bytes free to this user on the file system holding `target` (its nearest existing folder). */
export function freeBytes(target: string): number | undefined {
  let dir = path.resolve(target);
  for (;;) {
    try {
      const s = fs.statfsSync(dir);
      return s.bavail * s.bsize;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** ENOSPC from Node, "No space left on device" from a tool or library, or our own message about it. */
export function isDiskFull(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException & { detail?: string; diskFull?: boolean };
  return e?.diskFull === true || e?.code === 'ENOSPC' || /No space left on device|ENOSPC/i.test(`${e?.message ?? ''} ${e?.detail ?? ''}`);
}

/** "the disk is full (<folder>: 12 KB free); <what> needs about 3.1 MB (…more than is free); free some space …". */
export function diskFullError(folder: string, what: string, neededBytes?: number, kept = 'nothing was overwritten'): UserError {
  const dir = path.resolve(folder);
  const free = freeBytes(dir);
  const freeText = free === undefined ? ` (${dir})` : ` (${dir}: ${formatBytes(free)} free)`;
  const need = neededBytes !== undefined && neededBytes > 0 ? `; ${what} needs about ${formatBytes(neededBytes)}${free !== undefined ? ` (${formatBytes(Math.max(0, neededBytes - free))} more than is free)` : ''}` : '';
  return Object.assign(new UserError(`the disk is full${freeText}${need}; free some space and run it again (${kept})`), { diskFull: true });
}

/** Refuses to start `what` when the disk holding `folder` has less than `neededBytes` free. */
export function requireFreeSpace(folder: string, neededBytes: number, what: string): void {
  const free = freeBytes(folder);
  if (free === undefined || free >= neededBytes) return;
  throw diskFullError(folder, what, neededBytes, 'nothing was started');
}

/**
 * A full disk is the user's to fix wherever it happens (a cache write deep in a pipeline): named with the
 * folder that is full. Other errors are returned as they are.
 */
export function asUserError(err: unknown): unknown {
  if (err instanceof UserError || !isDiskFull(err)) return err;
  const file = (err as NodeJS.ErrnoException).path;
  return diskFullError(file ? path.dirname(path.resolve(file)) : process.cwd(), 'this', undefined, 'finished results are kept');
}
