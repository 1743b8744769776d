// Where a job's project is on this worker: the submitter's path rewritten through the worker's path map
// (`--path-map /mnt/projects=/Volumes/projects`), then confined like the editor confines media: no
// traversal, no symlink that leads out of the project folder, nothing outside the mapped folders.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../native-models/src/errors';
import { PROJECT_EXTENSION, projectPaths } from '../engine/project/paths';
import { checkProjectFolders, isInside } from '../engine/project/confinement';
import { snapshotsDir } from './snapshot';

/** One mount point: a path prefix as the submitter writes it and the same folder on this machine. */
export interface PathMapping { from: string; to: string }

/** A worker's path map; empty means the shared storage has the same path on every machine. */
export type PathMap = PathMapping[];

/** Why a job is refused for its paths (never retried: another worker would refuse it too). */
export class PathRefused extends UserError {}

function cleanAbsolute(p: string, what: string): string {
  if (p.includes('\0')) throw new PathRefused(`${what} contains a NUL character`);
  if (!path.isAbsolute(p)) throw new PathRefused(`${what} "${p}" is not an absolute path`);
  if (p.split(/[\\/]+/).some((s) => s === '..' || s === '.')) throw new PathRefused(`${what} "${p}" contains . or .. parts`);
  return p.length > 1 ? p.replace(/[\\/]+$/, '') : p;
}

/** Parses `--path-map FROM=TO` values (both absolute folders; TO must exist on this machine). */
export function parsePathMap(values: string[]): PathMap {
  return values.map((v) => {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1) throw new UserError(`--path-map expects FROM=TO (two absolute folders), got "${v}"`);
    const from = cleanAbsolute(v.slice(0, eq), '--path-map FROM');
    const to = cleanAbsolute(v.slice(eq + 1), '--path-map TO');
    let stat: fs.Stats;
    try {
      stat = fs.statSync(to);
    } catch {
      throw new UserError(`--path-map: the folder ${to} does not exist on this machine`);
    }
    if (!stat.isDirectory()) throw new UserError(`--path-map: ${to} is not a folder`);
    return { from, to };
  });
}

/** The submitter's path on this machine: the longest matching FROM replaced by its TO. */
export function mapPath(map: PathMap, submitted: string): { local: string; root?: string } {
  const p = cleanAbsolute(submitted, 'the project path in the job');
  if (map.length === 0) return { local: p };
  const match = map.filter((m) => isInside(m.from, p)).sort((a, b) => b.from.length - a.from.length)[0];
  if (!match) {
    throw new PathRefused(`the project ${p} is not under any folder in this worker's --path-map (${map.map((m) => m.from).join(', ')})`);
  }
  return { local: path.join(match.to, path.relative(match.from, p)), root: match.to };
}

function real(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined; // not there yet: nothing to follow
  }
}

/**
 * The job's project file on this machine, checked: a regular `.rerender` file (not a symlink), its folder
 * inside the mapped folder after following links, its assets and cache folders (and the cache's parts)
 * real folders as the editor requires (checkProjectFolders: no link, even one that stays inside), and
 * every folder the engine writes to inside the project folder after following links. Keyframe images
 * are checked by `checkProjectFiles` once the project is read.
 */
export function resolveJobProject(map: PathMap, submitted: string): string {
  const { local, root } = mapPath(map, submitted);
  if (!local.endsWith(PROJECT_EXTENSION)) throw new PathRefused(`the job names ${local}, which is not a ${PROJECT_EXTENSION} project file`);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(local);
  } catch {
    throw new UserError(`the project ${local} is not on this machine (is the shared folder mounted here? see --path-map)`);
  }
  if (stat.isSymbolicLink()) throw new PathRefused(`the project file ${local} is a symbolic link; a farm job must name the real file`);
  if (!stat.isFile()) throw new PathRefused(`${local} is not a file`);
  const dir = real(path.dirname(local))!;
  if (root && !isInside(real(root) ?? root, dir)) throw new PathRefused(`the project folder of ${local} leads outside ${root} through a symbolic link`);
  try {
    checkProjectFolders(local);
  } catch (err) {
    throw new PathRefused((err as Error).message);
  }
  const paths = projectPaths(local);
  for (const folder of [paths.assetsDir, paths.cacheDir, paths.framesDir, paths.flowDir, paths.outputDir, paths.segmentsDir, paths.keyframesDir, snapshotsDir(local)]) {
    const r = real(folder);
    if (r && !isInside(dir, r)) throw new PathRefused(`${folder} leads outside the project folder through a symbolic link; a farm worker writes only inside the project`);
  }
  return local;
}

/** Every file the project names (keyframe images) must stay inside its folder, links followed. */
export function checkProjectFiles(projectFile: string, relativePaths: string[]): void {
  const dir = real(path.dirname(projectFile)) ?? path.dirname(projectFile);
  for (const rel of relativePaths) {
    const abs = path.resolve(path.dirname(projectFile), rel);
    const r = real(abs) ?? abs;
    if (!isInside(dir, r) || !isInside(path.dirname(projectFile), abs)) {
      throw new PathRefused(`the project names ${rel}, which is outside its folder; a farm worker reads only inside the project`, projectFile);
    }
  }
}

/**
 * The earlier keyframe renders a render job brings (project-relative images): each must be a file of
 * the project's keyframe cache folder itself (not below it, not elsewhere), after following links too.
 */
export function checkPriorRenders(projectFile: string, images: string[]): void {
  const paths = projectPaths(projectFile);
  checkProjectFiles(projectFile, images);
  for (const rel of images) {
    if (path.dirname(path.resolve(paths.dir, rel)) !== paths.keyframesDir) {
      throw new PathRefused(`the earlier result ${rel} is not a keyframe render of the project cache; a render job builds only on the project's own renders`, projectFile);
    }
  }
}
