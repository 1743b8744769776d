// Atomic file writes: temp file in the same folder, fsync, rename; a crash never leaves a half file.
// Moving results into place never deletes or replaces anything the app did not make.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';
import { isDiskFull, diskFullError } from './disk-space';

let counter = 0;

/** This machine's name as it goes into temp names (letters, digits, `.`, `_`, `-` only). */
const HOST = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'host';

/**
 * A unique temp name beside `target`, so the final rename never crosses file systems. It names its
 * owner, process and machine: on a shared disk several machines write into the same folders.
 */
export function tempPathFor(target: string, tag = 'tmp'): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${tag}-${process.pid}@${HOST}-${Date.now().toString(36)}-${counter++}`);
}

/** Our temp names (see tempPathFor): `.<name>.<tag>-<pid>@<host>-<time>-<n>`; before hosts were named, `.<name>.<tag>-<pid>-<time>-<n>`. */
const TEMP_NAME = /^\..+\.(tmp|decoding|exporting)-(\d+)(?:@([A-Za-z0-9._-]+))?-[0-9a-z]+-\d+$/;
/** A temp entry untouched this long is left over even if its pid runs again (pids are reused). */
const LEFTOVER_AGE_MS = 24 * 3600 * 1000;

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files and folders a killed run left in `dir`: only names we make, written on this machine
 * by a process that is gone, or that nobody touched for a day. Another machine's temp file (a farm worker
 * on the shared disk) is never judged by a pid here: it is left until it is a day old, as is one whose
 * name does not say its machine. A running export or decode keeps its own. Returns what was removed.
 */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    const here = m[3] === HOST;
    const file = path.join(dir, name);
    const stat = await fsp.lstat(file).catch(() => undefined);
    if (!stat || stat.isSymbolicLink()) continue;
    const stale = Date.now() - stat.mtimeMs > LEFTOVER_AGE_MS;
    if (!stale && (!here || pid === process.pid || processRunning(pid))) continue;
    await fsp.rm(file, { recursive: true, force: true }).catch(() => undefined);
    removed.push(file);
  }
  return removed;
}

/** Turns low-level write failures into messages that say what to do. */
export function describeWriteError(err: unknown, target: string): Error {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (isDiskFull(err)) return diskFullError(path.dirname(path.resolve(target)), `writing ${path.basename(target)}`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return new UserError('the folder is read-only or not writable; choose another location (nothing was overwritten)', target);
  if (code === 'ENOENT') return new UserError(`the folder ${path.dirname(path.resolve(target))} does not exist; create it first or choose another location`, target);
  if (code === 'EISDIR') return new UserError('that is a folder; give a file name (e.g. result.png inside it)', target);
  if (code === 'ENOTDIR') return new UserError('a part of this path is a file, not a folder; choose another location', target);
  return err instanceof Error ? err : new Error(String(err));
}

/** Refuses an output name that is a folder or a special file before any work is done for it. */
export function requireOutputFileName(file: string, what: string): void {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new UserError(`${what} is a folder; give a file name (e.g. ${path.join(file, 'result.png')})`, file);
  if (stat && !stat.isFile()) throw new UserError(`${what} is not a regular file; give another file name`, file);
}

async function fsyncDir(dir: string): Promise<void> {
  // Directory fsync makes the rename durable on POSIX; Windows cannot open directories, so skip there.
  if (process.platform === 'win32') return;
  try {
    const h = await fsp.open(dir, 'r');
    try { await h.sync(); } finally { await h.close(); }
  } catch { /* best effort */ }
}

/**
 * Writes `target` through a temp file and a rename, so no reader (nor a killed run) ever sees half a
 * file. `durable: false` skips the fsyncs, for scratch files that are rebuilt when damaged (a power cut
 * can leave them empty or short, never half of one and half of another). `mode` sets the new file's
 * permissions from its first byte (0o600: only its owner may read it).
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: { durable?: boolean; mode?: number } = {}): Promise<void> {
  const durable = opts.durable ?? true;
  const tmp = tempPathFor(target);
  try {
    const h = await fsp.open(tmp, 'wx', opts.mode ?? 0o666);
    try {
      await h.writeFile(data);
      if (durable) await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, target);
    if (durable) await fsyncDir(path.dirname(target));
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw describeWriteError(err, target);
  }
}

/**
 * Moves a finished temp file into place. An existing file there is replaced only when `replace` says
 * the user asked for it (`--force`, or confirmed in the editor); a folder or a special file never is.
 */
export async function moveFileIntoPlace(tmp: string, target: string, opts: { replace: boolean; howToReplace: string }): Promise<void> {
  const existing = await fsp.lstat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new UserError('a folder of that name exists; choose a file name', target);
  if (existing && !existing.isFile()) throw new UserError('something that is not a regular file exists at that name; choose another name', target);
  if (existing && !opts.replace) throw new UserError(`the file already exists; ${opts.howToReplace}`, target);
  try { await fsp.rename(tmp, target); } catch (err) { throw describeWriteError(err, target); }
  await fsyncDir(path.dirname(target));
}

/** What a folder we write may hold: the names we make, and the marker that says we made the folder. */
export interface OwnedFolder {
  /** Whether a file name is one we write into such a folder. */
  owns(name: string): boolean;
  /** A file we put into every such folder; a non-empty folder without it is not ours. */
  marker?: string;
  /** The folder in the user's words ("a frames export"), for messages. */
  what: string;
}

/** Why `dir` may not be replaced by a new `owned` folder, or undefined when it is absent, empty or ours. */
export function folderReplaceRefusal(dir: string, owned: OwnedFolder): string | undefined {
  const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (!stat.isDirectory()) return `this is a file, not a folder; ${owned.what} goes into a new or empty folder`;
  const names = fs.readdirSync(dir);
  if (names.length === 0) return undefined;
  const foreign = names.filter((n) => !owned.owns(n) && n !== owned.marker);
  const notFiles = names.filter((n) => !fs.lstatSync(path.join(dir, n)).isFile());
  if (foreign.length || notFiles.length || (owned.marker && !names.includes(owned.marker))) {
    const shown = [...new Set([...foreign, ...notFiles])].slice(0, 3);
    const listed = shown.length ? ` (${shown.join(', ')}${names.length > shown.length ? ', …' : ''})` : '';
    return `the folder holds files Rerender did not write${listed}; ${owned.what} goes into a new or empty folder, or replaces an earlier one — nothing was changed`;
  }
  return undefined;
}

/**
 * Moves a finished temp folder into place. An existing folder is replaced only when it is empty or holds
 * nothing but files an earlier run of ours wrote (checked again here); those are removed one by one, so
 * nothing else could ever be deleted.
 */
export async function moveFolderIntoPlace(tmp: string, target: string, owned: OwnedFolder): Promise<void> {
  const refusal = folderReplaceRefusal(target, owned);
  if (refusal) throw new UserError(refusal, target);
  if (!fs.existsSync(target)) {
    try { await fsp.rename(tmp, target); } catch (err) { throw describeWriteError(err, target); }
  } else {
    const old = tempPathFor(target, 'old'); // not a leftover name: removeLeftovers never touches it
    await fsp.rename(target, old).catch((err) => { throw describeWriteError(err, target); });
    try {
      await fsp.rename(tmp, target);
    } catch (err) {
      await fsp.rename(old, target).catch(() => undefined);
      throw describeWriteError(err, target);
    }
    for (const name of await fsp.readdir(old)) {
      if (owned.owns(name) || name === owned.marker) await fsp.rm(path.join(old, name), { force: true });
    }
    await fsp.rmdir(old).catch(() => undefined); // not empty only if a file appeared meanwhile: keep it
  }
  await fsyncDir(path.dirname(target));
}
