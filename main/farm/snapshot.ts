// What a farm job works on: a snapshot of the document as the submitter held it (the editor's unsaved
// document, or the project file as the command line read it), written once into the project's cache
// under a name made from its content. A job names the snapshot by that id only (never by a path): the
// worker finds it in the project it mapped, checks the content against the id, and validates it as a
// project. Workers therefore never depend on the project file being saved, nor on it staying the same
// while they run; results are committed by the submitter (through its document owner).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Project } from '../../preload/project-schema';
import { UserError } from '../../native-models/src/errors';
import { writeFileAtomic } from '../engine/fs/atomic';
import { projectPaths } from '../engine/project/paths';
import { parseProject } from '../engine/project/project-file';
import { isInside } from '../engine/project/confinement';

/** A snapshot's id: the first 32 hex digits of its content's SHA-256 (what a job payload carries). */
export const SNAPSHOT_ID = /^[0-9a-f]{32}$/;

/** Snapshots older than this are removed when a new one is written (finished jobs are kept as long). */
const SNAPSHOT_KEPT_MS = 7 * 24 * 3600 * 1000;

/** The folder of a project's farm snapshots, inside its cache. */
export function snapshotsDir(projectFile: string): string {
  return path.join(projectPaths(projectFile).cacheDir, 'farm-snapshots');
}

const idOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** Writes the snapshot (once per content) and returns its id; old snapshots of the project are removed. */
export async function writeJobSnapshot(projectFile: string, project: Project): Promise<string> {
  const text = JSON.stringify(project);
  const id = idOf(text);
  const dir = snapshotsDir(projectFile);
  await fsp.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${id}.json`);
  if (!fs.existsSync(file)) await writeFileAtomic(file, text);
  else await fsp.utimes(file, new Date(), new Date()).catch(() => undefined); // in use again: kept a week more
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{32}\.json$/.test(name) || name === `${id}.json`) continue;
    const stat = await fsp.lstat(path.join(dir, name)).catch(() => undefined);
    if (stat?.isFile() && Date.now() - stat.mtimeMs > SNAPSHOT_KEPT_MS) await fsp.rm(path.join(dir, name), { force: true });
  }
  return id;
}

/**
 * A job's snapshot on this worker: `id` checked, the file a regular file inside the project folder after
 * following links, its content the one the id names, and a valid project. Every failure is a UserError
 * naming the file.
 */
export async function readJobSnapshot(projectFile: string, id: string): Promise<Project> {
  if (!SNAPSHOT_ID.test(id)) throw new UserError(`the job names the snapshot "${id.slice(0, 80)}", which is not a snapshot id`, projectFile);
  const file = path.join(snapshotsDir(projectFile), `${id}.json`);
  let stat: fs.Stats;
  try {
    stat = await fsp.lstat(file);
  } catch {
    throw new UserError('the snapshot the job names is not in the project cache on this machine (is the shared folder the same one the submitter wrote to?)', file);
  }
  if (!stat.isFile()) throw new UserError('the job snapshot is not a regular file (a link or a folder); a farm worker reads only inside the project', file);
  const dir = fs.realpathSync(path.dirname(projectFile));
  if (!isInside(dir, fs.realpathSync(file))) throw new UserError('the job snapshot leads outside the project folder; a farm worker reads only inside the project', file);
  const text = await fsp.readFile(file, 'utf8');
  if (idOf(text) !== id) throw new UserError('the job snapshot does not hold what its name says (changed or damaged after it was submitted); submit again', file);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError('the job snapshot is not JSON', file);
  }
  return parseProject(doc, file);
}
