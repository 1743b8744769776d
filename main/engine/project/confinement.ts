// Everything a project reads or writes stays inside its folder, through symbolic links too: the project's
// own folders (assets, cache and the cache's parts) must be real folders, not links, and a path the
// project names (a keyframe image) must resolve, after every link, inside the real project folder.
// The source video is the one input that may live elsewhere (see create.ts: resolveSourcePath).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';
import { projectPaths, type ProjectPaths } from './paths';

/** The project's own folders, parents before children (the order they are checked in). */
const OWN_FOLDERS: Array<[keyof ProjectPaths, string]> = [
  ['assetsDir', 'assets'],
  ['cacheDir', 'cache'],
  ['framesDir', 'cache frames'],
  ['thumbsDir', 'cache thumbnails'],
  ['flowDir', 'cache flow'],
  ['keyframesDir', 'cache keyframes'],
  ['outputDir', 'cache output'],
  ['segmentsDir', 'cache segments'],
];

/** Whether `file` is `dir` or below it (both absolute, compared as given). */
export function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * The real path of `p` with every link resolved, also for a path that does not exist yet (a file about
 * to be written): the longest existing ancestor is resolved and the rest appended.
 */
export function realPathOf(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPathOf(parent), path.basename(abs));
  }
}

/**
 * Refuses a project whose assets or cache folder (or a part of the cache) is a symbolic link: reads
 * through it would show, and writes would change, files outside the project folder.
 */
export function checkProjectFolders(projectFile: string): void {
  const paths = projectPaths(projectFile);
  for (const [key, name] of OWN_FOLDERS) {
    const dir = paths[key];
    const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!stat?.isSymbolicLink()) continue;
    let target: string;
    try {
      target = fs.realpathSync(dir);
    } catch {
      target = fs.readlinkSync(dir);
    }
    throw new UserError(
      `the project's ${name} folder is a symbolic link (to ${target}); a project's folders must be real folders inside the project folder, so nothing outside it is read or written. Replace the link with the folder itself`,
      dir,
    );
  }
}

/**
 * Absolute path of a project-relative file (a keyframe image), refusing anything that leaves the
 * project folder: by `..` or an absolute path, or through a symbolic link anywhere on the way.
 */
export function resolveInProject(projectFile: string, rel: string): string {
  const dir = projectPaths(projectFile).dir;
  const abs = path.resolve(dir, rel);
  if (!isInside(dir, abs) || abs === dir) throw new UserError(`the path "${rel}" points outside the project folder`, projectFile);
  checkProjectFolders(projectFile);
  if (!isInside(realPathOf(dir), realPathOf(abs))) {
    throw new UserError(`the path "${rel}" leads outside the project folder through a symbolic link (to ${realPathOf(abs)}); refused`, projectFile);
  }
  return abs;
}

/**
 * Refuses a cache folder holding a file that is a symbolic link leading outside the project folder (a
 * decoded frame or flow file swapped for a link to another file). Links that stay inside are allowed.
 * One lstat per entry: run before a job reads the folder's files.
 */
export function checkCacheFiles(projectFile: string, dir: string, what: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // not there yet: nothing to read
  }
  const root = realPathOf(projectPaths(projectFile).dir);
  for (const e of entries) {
    if (e.isDirectory()) { checkCacheFiles(projectFile, path.join(dir, e.name), what); continue; }
    if (!e.isSymbolicLink()) continue;
    const file = path.join(dir, e.name);
    const target = realPathOf(file);
    if (!isInside(root, target)) {
      throw new UserError(`the ${what} file ${e.name} is a symbolic link to ${target}, outside the project folder; refused (delete it and the app makes it again)`, file);
    }
  }
}
