// Atomic file writes: temp file in the same folder, fsync, rename; a crash never leaves a half file.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';

let counter = 0;

/** A unique temp name beside `target`, so the final rename never crosses file systems. */
export function tempPathFor(target: string, tag = 'tmp'): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`);
}

/** Turns low-level write failures into messages that say what to do. */
export function describeWriteError(err: unknown, target: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return new UserError('the disk is full; free some space and try again (nothing was overwritten)', target);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new UserError('the folder is read-only or not writable; choose another location (nothing was overwritten)', target);
  if (code === 'ENOENT') return new UserError('the folder does not exist', target);
  return err instanceof Error ? err : new Error(String(err));
}

async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable on POSIX; Windows cannot open directories, so skip there.
  if (process.platform === 'win32') return;
  try {
    const h = await fsp.open(dir, 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch { /* best effort */ }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    const h = await fsp.open(tmp, 'wx');
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, target);
    await fsyncDir(path.dirname(target));
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw describeWriteError(err, target);
  }
}

/** Moves a finished temp file or folder into place, replacing what was there only now. */
export async function replaceWith(tmp: string, target: string): Promise<void> {
  const stat = await fsp.stat(target).catch(() => undefined);
  if (stat?.isDirectory()) {
    const old = tempPathFor(target, 'old');
    await fsp.rename(target, old);
    try {
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rename(old, target).catch(() => undefined);
      throw describeWriteError(err, target);
    }
    await fsp.rm(old, { recursive: true, force: true });
  } else {
    try { await fsp.rename(tmp, target); } catch (err) { throw describeWriteError(err, target); }
  }
  await fsyncDir(path.dirname(target));
}
