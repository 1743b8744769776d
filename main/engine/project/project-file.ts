// Reading and writing project files: validation with clear errors, forward migration, atomic save with backup.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { project as projectSchema, PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { PICK_FILTERS, VIDEO_NOT_PROJECT } from '../../../preload/api';
import { writeFileAtomic, describeWriteError } from '../fs/atomic';
import { checkProjectFolders } from './confinement';

/** Largest project file we accept; a real one is a few hundred KB even with thousands of keyframes. */
const MAX_PROJECT_BYTES = 256 * 1024 * 1024;

/**
 * Forward migrations: migrations[v] turns a version-v document into version v+1.
 * Version 1 is the first; add an entry here (and bump PROJECT_VERSION) when the schema changes.
 */
const migrations: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = {};

export function migrate(doc: Record<string, unknown>, file: string): Record<string, unknown> {
  const declared = doc.version;
  if (typeof declared !== 'number' || !Number.isInteger(declared) || declared < 1) {
    throw new UserError(`not a valid project: "version" must be a whole number ≥ 1, got ${JSON.stringify(declared)}`, file);
  }
  let version: number = declared;
  if (version > PROJECT_VERSION) {
    throw new UserError(`the project was saved by a newer version of Rerender (project format ${version}, this app reads up to ${PROJECT_VERSION}); update the app to open it`, file);
  }
  while (version < PROJECT_VERSION) {
    const step = migrations[version];
    if (!step) throw new UserError(`no migration from project format ${version}`, file);
    doc = step(doc);
    version = typeof doc.version === 'number' ? doc.version : version + 1;
  }
  return doc;
}

/** Formats the first few schema problems as "keyframes[3].frame: must be ≥ 0; …". */
function describeIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  const shown = issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
  if (issues.length > 5) shown.push(`and ${issues.length - 5} more`);
  return shown.join('; ');
}

/** Validates a parsed document (any origin: file, IPC, tests) and returns a typed, migrated project. */
export function parseProject(doc: unknown, file: string): Project {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new UserError('not a Rerender project: the file does not hold a JSON object', file);
  const obj = doc as Record<string, unknown>;
  if (obj.format !== PROJECT_FORMAT) {
    throw new UserError(`not a Rerender project: expected "format": "${PROJECT_FORMAT}", found ${obj.format === undefined ? 'no format field' : JSON.stringify(obj.format).slice(0, 60)}`, file);
  }
  const migrated = migrate({ ...obj }, file);
  const result = projectSchema.safeParse(migrated);
  if (!result.success) throw new UserError(`the project file is damaged: ${describeIssues(result.error.issues)}`, file);
  checkConsistency(result.data, file);
  return result.data;
}

/** Rules the schema alone cannot say: frames the source can hold, keyframes inside the video, unique frames and ids. */
function checkConsistency(p: Project, file: string): void {
  // Decoding every frame once or resampling gives about duration × rate frames; far more is a damaged file.
  const fits = (p.source.durationSeconds * p.frames.fps.num) / p.frames.fps.den;
  if (p.frames.count > fits * 1.1 + 10) {
    throw new UserError(`the project file is damaged: it claims ${p.frames.count} frames, but its source lasts ${p.source.durationSeconds.toFixed(2)} s at ${(p.frames.fps.num / p.frames.fps.den).toFixed(2)} fps (about ${Math.round(fits)} frames)`, file);
  }
  const frames = new Set<number>();
  const ids = new Set<string>();
  for (const k of p.keyframes) {
    if (k.frame >= p.frames.count) throw new UserError(`the project file is damaged: keyframe at frame ${k.frame} is past the last frame (${p.frames.count - 1})`, file);
    if (frames.has(k.frame)) throw new UserError(`the project file is damaged: two keyframes at frame ${k.frame}`, file);
    if (ids.has(k.id)) throw new UserError(`the project file is damaged: duplicate keyframe id ${k.id}`, file);
    frames.add(k.frame);
    ids.add(k.id);
  }
}

/** Whether a file is a video by its name (the video chooser's extensions) or its first bytes (MP4/MOV, Matroska/WebM, AVI, GIF). */
async function isVideoFile(file: string): Promise<boolean> {
  if (PICK_FILTERS.video[0].extensions.includes(path.extname(file).slice(1).toLowerCase())) return true;
  const head = Buffer.alloc(12);
  const handle = await fsp.open(file, 'r');
  try { await handle.read(head, 0, 12, 0); } finally { await handle.close(); }
  return head.toString('latin1', 4, 8) === 'ftyp' || head.readUInt32BE(0) === 0x1a45dfa3
    || (head.toString('latin1', 0, 4) === 'RIFF' && head.toString('latin1', 8, 12) === 'AVI ') || head.toString('latin1', 0, 4) === 'GIF8';
}

export async function readProjectFile(file: string): Promise<Project> {
  let stat;
  try {
    stat = await fsp.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'no such project file' : `cannot read the project file (${code})`, file);
  }
  if (!stat.isFile()) throw new UserError('not a file', file);
  if (await isVideoFile(file)) throw new UserError(`${VIDEO_NOT_PROJECT}; make a new project from it`, file);
  if (stat.size === 0) throw new UserError('the project file is empty (0 bytes); a backup may exist beside it as .bak', file);
  if (stat.size > MAX_PROJECT_BYTES) throw new UserError(`the project file is too large (${stat.size} bytes) to be a Rerender project`, file);
  let text = await fsp.readFile(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark, as some editors save UTF-8
  const body = text.trimStart();
  if (!body.startsWith('{') && !body.startsWith('[')) {
    // Not JSON at all (a text file, an image): not a damaged project, so no backup to point to.
    const printable = /^[\x20-\x7e\s]*$/.test(body.slice(0, 40));
    const start = printable ? `: it starts with ${JSON.stringify(body.slice(0, 30).replace(/\s+/g, ' ').trim())}` : ' (a binary file)';
    throw new UserError(`not a Rerender project: the file is not JSON${start}; open a .rerender project file`, file);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    const truncated = !body.trimEnd().endsWith('}');
    throw new UserError(`${truncated ? 'the project file is truncated' : 'the project file is not valid JSON'} (${(err as Error).message}); a backup may exist beside it as .bak`, file);
  }
  const project = parseProject(doc, file);
  checkProjectFolders(file); // every command and the editor open projects here: links out are refused up front
  return project;
}

export function serializeProject(p: Project): string {
  return JSON.stringify(p, null, 2) + '\n';
}

/**
 * Saves atomically. The previous content is kept as `<file>.bak` (copied before the rename, so a crash
 * at any point leaves either the old or the new project intact, and the backup is the last good one).
 */
export async function writeProjectFile(file: string, p: Project): Promise<void> {
  const checked = parseProject(JSON.parse(JSON.stringify(p)), file); // never write what we could not read back
  const text = serializeProject(checked);
  await fsp.mkdir(path.dirname(file), { recursive: true }).catch((err) => { throw describeWriteError(err, file); });
  const existing = await fsp.readFile(file).catch(() => undefined);
  if (existing && existing.length > 0) await writeFileAtomic(file + '.bak', existing);
  await writeFileAtomic(file, text);
}

/** The autosave file beside the project: written often, removed on a clean save. */
export function autosavePath(file: string): string {
  return file + '.autosave';
}

export async function writeAutosave(file: string, p: Project): Promise<void> {
  await writeFileAtomic(autosavePath(file), serializeProject(p));
}

/** Returns the autosaved project if it is newer than the saved one and valid; otherwise undefined. */
export async function readAutosave(file: string): Promise<Project | undefined> {
  const auto = autosavePath(file);
  const [a, f] = await Promise.all([fsp.stat(auto).catch(() => undefined), fsp.stat(file).catch(() => undefined)]);
  if (!a || (f && f.mtimeMs > a.mtimeMs)) return undefined;
  try {
    return await readProjectFile(auto);
  } catch {
    return undefined;
  }
}

export async function discardAutosave(file: string): Promise<void> {
  await fsp.rm(autosavePath(file), { force: true });
}
