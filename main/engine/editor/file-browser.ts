// Serve mode's file browser: lists folders for the editor's file choosers (videos, images, models,
// projects, exports), because a browser cannot show the machine's files. Confined to the allowed places
// (the user's home folder and the open project's folder): every folder is resolved to its real path and
// must lie inside one of them, and a symlink is listed only when its target does too. Choosing the paint
// program also lists the folders programs live in (the PATH's, /usr/bin, /opt, /Applications, Program
// Files), executable files only (on macOS, `.app` bundles too: they are folders, but chosen as programs).
// Its places are the usual application folders and the first PATH folders that hold programs (a long PATH
// would push the home folder off the list); the others stay browsable by path.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PICK_FILTERS, type FolderListing, type PickPurpose } from '../../../preload/api';
import { UserError } from '../../../native-models/src/errors';

/** A folder holding more entries than this lists the first ones (folders first) and says so. */
export const LISTING_LIMIT = 5000;

export interface BrowseContext {
  /** The user's home folder (default: os.homedir()). */
  home?: string;
  /** The open project's file, if any: its folder is allowed too. */
  projectFile?: string;
  /** Folders offered as places when they are allowed (recent projects' folders, the models folder). */
  extraPlaces?: Array<{ label: string; path: string }>;
  /** Folders holding programs, for the 'program' chooser (default: programFolders()). */
  programFolders?: string[];
  /** Whose conventions for programs apply (default: this machine's); tests pass another. */
  platform?: NodeJS.Platform;
}

/** The 'program' chooser offers at most this many program folders as places. */
export const PROGRAM_PLACES = 8;

const WINDOWS_PROGRAMS = ['exe', 'com', 'bat', 'cmd'];

/**
 * Where programs are installed on this machine: the usual application folders, then the PATH's folders
 * (absolute ones only), those that exist, as real paths without duplicates.
 */
export function programFolders(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  const usual = platform === 'win32'
    ? [env.ProgramFiles, env['ProgramFiles(x86)'], env.LOCALAPPDATA && path.join(env.LOCALAPPDATA, 'Programs')]
    : platform === 'darwin' ? ['/Applications', '/opt/homebrew/bin', '/usr/local/bin', '/usr/bin'] : ['/usr/bin', '/usr/local/bin', '/opt', '/snap/bin'];
  const onPath = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter((d) => path.isAbsolute(d));
  const real = [...usual, ...onPath].filter((d): d is string => !!d).map(realOrUndefined)
    .filter((d): d is string => !!d && fs.statSync(d, { throwIfNoEntry: false })?.isDirectory() === true);
  return [...new Set(real)];
}

/** A macOS application bundle (`Krita.app`): a folder the system opens as one program. */
export function isAppBundle(name: string, platform: NodeJS.Platform): boolean {
  return platform === 'darwin' && /\.app$/i.test(name);
}

/** Whether a file is a program: executable (on Windows, by its extension; on macOS a `.app` bundle too). */
function isProgram(file: string, name: string, platform: NodeJS.Platform, isFolder = false): boolean {
  if (isFolder) return isAppBundle(name, platform);
  if (platform === 'win32') return WINDOWS_PROGRAMS.includes(path.extname(name).slice(1).toLowerCase());
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function realOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

function inside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The allowed roots as real paths (home, the project's folder), without duplicates or missing ones. */
export function allowedRoots(ctx: BrowseContext): string[] {
  const roots = [ctx.home ?? os.homedir(), ...(ctx.projectFile ? [path.dirname(path.resolve(ctx.projectFile))] : [])]
    .map(realOrUndefined).filter((r): r is string => !!r);
  return [...new Set(roots)];
}

function isAllowed(roots: readonly string[], real: string): boolean {
  return roots.some((r) => inside(r, real));
}

function matches(purpose: PickPurpose, name: string, file: string, platform: NodeJS.Platform): boolean {
  if (purpose === 'program') return isProgram(file, name, platform);
  const ext = path.extname(name).slice(1).toLowerCase();
  return PICK_FILTERS[purpose].some((f) => f.extensions.includes(ext));
}

const byName = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Lists `dir` (default: the project's folder, else home) for `purpose`: subfolders and matching files
 * (every file with `all`; none when the purpose chooses a folder). Hidden entries are left out.
 */
export async function listFolder(purpose: PickPurpose, dir: string | undefined, all: boolean, ctx: BrowseContext): Promise<FolderListing> {
  const platform = ctx.platform ?? process.platform;
  const programs = purpose === 'program' ? (ctx.programFolders ?? programFolders(process.env, platform)).map(realOrUndefined).filter((d): d is string => !!d) : [];
  const roots = [...new Set([...allowedRoots(ctx), ...programs])];
  if (roots.length === 0) throw new UserError('no folder can be browsed: the home folder does not exist');
  const home = realOrUndefined(ctx.home ?? os.homedir());
  const projectDir = ctx.projectFile ? realOrUndefined(path.dirname(path.resolve(ctx.projectFile))) : undefined;
  const wanted = dir ? path.resolve(dir) : programs[0] ?? projectDir ?? home ?? roots[0];
  const real = realOrUndefined(wanted);
  if (!real) throw new UserError('this folder does not exist (it may have been moved or deleted)', wanted);
  if (!isAllowed(roots, real)) throw new UserError(`the file browser shows only your home folder${programs.length ? ', the project\'s folder and the folders programs are installed in' : ' and the project\'s folder'}; type the full path to use a file elsewhere`, wanted);
  let stat: fs.Stats;
  try {
    stat = await fsp.stat(real);
  } catch {
    throw new UserError('this folder cannot be read', wanted);
  }
  if (!stat.isDirectory()) throw new UserError('this is not a folder', wanted);

  let dirents: fs.Dirent[];
  try {
    dirents = await fsp.readdir(real, { withFileTypes: true });
  } catch (err) {
    throw new UserError(`this folder cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, wanted);
  }
  const foldersOnly = PICK_FILTERS[purpose].length === 0;
  const entries: FolderListing['entries'] = [];
  for (const d of dirents) {
    if (d.name.startsWith('.')) continue;
    const full = path.join(real, d.name);
    let kind: 'folder' | 'file' | undefined;
    let s: fs.Stats | undefined;
    try {
      s = await fsp.stat(full);
      if (d.isSymbolicLink()) {
        // Listed only when it points inside the allowed places, as what it points to; a program folder's
        // links to programs elsewhere (/usr/bin/gimp → /etc/alternatives/…) are listed as the link.
        const target = realOrUndefined(full);
        const programLink = purpose === 'program' && isProgram(full, d.name, platform, s.isDirectory());
        if (!target || (!isAllowed(roots, target) && !programLink)) continue;
      }
      // An application bundle is chosen like a program file, not opened like a folder.
      kind = s.isDirectory() ? (purpose === 'program' && isAppBundle(d.name, platform) ? 'file' : 'folder') : s.isFile() ? 'file' : undefined;
    } catch {
      continue; // vanished or unreadable: not offered
    }
    if (!kind) continue; // FIFOs, sockets, devices are never offered
    const bundle = s.isDirectory() && kind === 'file';
    if (kind === 'file' && !bundle && (foldersOnly || (!all && !matches(purpose, d.name, full, platform)))) continue;
    entries.push({ name: d.name, path: full, kind, ...(kind === 'file' && !bundle ? { bytes: s.size } : {}), modified: Math.round(s.mtimeMs) });
  }
  entries.sort((a, b) => (a.kind === b.kind ? byName.compare(a.name, b.name) : a.kind === 'folder' ? -1 : 1));

  const parentReal = path.dirname(real);
  const parent = parentReal !== real && isAllowed(roots, parentReal) ? parentReal : null;
  const programPlaces = purpose === 'program' ? programPlacesOf(programs, real, home, platform) : [];
  return { dir: real, parent, entries: entries.slice(0, LISTING_LIMIT), truncated: entries.length > LISTING_LIMIT, places: places(roots, home, projectDir, [...programPlaces, ...(ctx.extraPlaces ?? [])]) };
}

/** Whether a folder holds at least one program (stops at the first). */
function holdsPrograms(dir: string, platform: NodeJS.Platform): boolean {
  let d: fs.Dir | undefined;
  try {
    d = fs.opendirSync(dir);
    for (let e = d.readSync(); e; e = d.readSync()) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      const folder = e.isDirectory() || (e.isSymbolicLink() && fs.statSync(full, { throwIfNoEntry: false })?.isDirectory() === true);
      if (isProgram(full, e.name, platform, folder)) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    d?.closeSync();
  }
}

/**
 * The program folders offered as places: in order (the usual application folders, then the PATH's), only
 * those holding a program, at most PROGRAM_PLACES, plus the folder shown when it is one of the others;
 * named with ~ for the home folder.
 */
function programPlacesOf(programs: readonly string[], current: string, home: string | undefined, platform: NodeJS.Platform): Array<{ label: string; path: string }> {
  const chosen: string[] = [];
  for (const p of programs) {
    if (chosen.length >= PROGRAM_PLACES) break;
    if (holdsPrograms(p, platform)) chosen.push(p);
  }
  if (programs.includes(current) && !chosen.includes(current)) chosen.push(current);
  const label = (p: string) => (home && inside(home, p) && p !== home ? `~${path.sep}${path.relative(home, p)}` : p);
  return chosen.map((p) => ({ label: label(p), path: p }));
}

function places(roots: readonly string[], home: string | undefined, projectDir: string | undefined, extra: Array<{ label: string; path: string }>): FolderListing['places'] {
  const out: FolderListing['places'] = [];
  const add = (label: string, p: string | undefined) => {
    const real = p && realOrUndefined(p);
    if (!real || !isAllowed(roots, real) || out.some((x) => x.path === real)) return;
    try {
      if (!fs.statSync(real).isDirectory()) return;
    } catch {
      return;
    }
    out.push({ label, path: real });
  };
  if (projectDir) add('Project folder', projectDir);
  if (home) {
    add('Home', home);
    for (const name of ['Desktop', 'Documents', 'Videos', 'Movies', 'Pictures', 'Downloads']) add(name, path.join(home, name));
  }
  for (const e of extra) add(e.label, e.path);
  return out;
}
