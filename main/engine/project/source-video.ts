// The project's source over time: is it still the video the project was made from (size and time recorded
// at import, then the probe) or the same image sequence (its fingerprint), relinking to a moved copy, and
// rebuilding the frame cache from it.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';
import { probeVideo, frameTolerance, type VideoInfo } from '../media/probe';
import { decodeToFrames, readFrameTimes } from '../media/decode';
import { formatRational } from '../frames';
import { projectPaths, resolveSourcePath, storedSourcePath } from './paths';
import { sequenceRecord } from './create';
import { listImageSequence, probeImageSequence, type SequenceInfo, type SequenceListing } from '../media/image-sequence';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';

export type SourceCheck =
  | { status: 'ok'; file: string }
  | { status: 'missing' | 'changed'; file: string; problem: string };

/** Whether the project resamples its source to a constant rate (older projects did so for every variable-rate video). */
export function resamples(p: Project): boolean {
  return p.frames.resampled ?? p.source.variableFrameRate;
}

function describeFile(size: number, mtimeMs: number): string {
  return `${size} bytes, modified ${new Date(mtimeMs).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`;
}

/** How a probed video differs from the project's source (frame count, rate, size), or undefined when it fits. */
export function sourceMismatch(p: Project, info: VideoInfo): string | undefined {
  const differences: string[] = [];
  if (info.width !== p.source.width || info.height !== p.source.height) differences.push(`${info.width}×${info.height} instead of ${p.source.width}×${p.source.height}`);
  if (info.fps.num * p.source.fps.den !== p.source.fps.num * info.fps.den) differences.push(`${formatRational(info.fps)} fps instead of ${formatRational(p.source.fps)}`);
  const frames = resamples(p) ? Math.round((info.durationSeconds * p.frames.fps.num) / p.frames.fps.den) : info.frameCount;
  if (Math.abs(frames - p.frames.count) > frameTolerance(p.frames.count)) differences.push(`${frames} frames instead of ${p.frames.count}`);
  return differences.length ? differences.join(', ') : undefined;
}

/**
 * Is the source still there and the same file? Same size and modification time (within 2 s, for copies
 * across file systems) is the same file; the same size with another time (a copy) is checked by probing.
 */
/** A source problem's advice in the editor's words: its Relink source… button, not the command line. */
export function inEditorWords(problem: string): string {
  return problem.replace(/relink it: rerender relink .+? --video <path> \(or Relink source in the editor\)/, 'relink it with Relink source…');
}

export async function checkSource(projectFile: string, p: Project): Promise<SourceCheck> {
  const file = resolveSourcePath(projectFile, p);
  const relink = `relink it: rerender relink ${path.basename(projectFile)} --video <path> (or Relink source in the editor)`;
  if (p.source.sequence) return checkSequence(file, p, relink);
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return { status: 'missing', file, problem: `the source video ${p.source.path} is missing (moved or deleted); put it back or ${relink}` };
  if (!stat.isFile()) return { status: 'changed', file, problem: `the source video ${p.source.path} is no longer a regular file; ${relink}` };
  const sameTime = Math.abs(Math.floor(stat.mtimeMs) - p.source.modifiedMs) <= 2000;
  if (stat.size === p.source.fileSize && sameTime) return { status: 'ok', file };
  const was = describeFile(p.source.fileSize, p.source.modifiedMs);
  const now = describeFile(stat.size, stat.mtimeMs);
  if (stat.size !== p.source.fileSize) return { status: 'changed', file, problem: `the source video ${p.source.path} was replaced since the project was made (it was ${was}, now ${now}); put the original back or ${relink}` };
  const info = await probeVideo(file).catch(() => undefined);
  const mismatch = info ? sourceMismatch(p, info) : 'it cannot be read';
  if (mismatch) return { status: 'changed', file, problem: `the source video ${p.source.path} changed since the project was made (${mismatch}); put the original back or ${relink}` };
  return { status: 'ok', file };
}

/** An image sequence is the same while its frames' names and sizes are (the fingerprint); listing it is cheap. */
function checkSequence(folder: string, p: Project, relink: string): SourceCheck {
  const recorded = p.source.sequence!;
  const what = `the source image sequence ${p.source.path}`;
  const stat = fs.statSync(folder, { throwIfNoEntry: false });
  if (!stat) return { status: 'missing', file: folder, problem: `${what} is missing (moved or deleted); put it back or ${relink}` };
  if (!stat.isDirectory()) return { status: 'changed', file: folder, problem: `${what} is no longer a folder; ${relink}` };
  let now: SequenceListing;
  try {
    now = listImageSequence(folder);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { status: 'changed', file: folder, problem: `${what} is no longer a usable sequence (${err.message}); put the original frames back or ${relink}` };
  }
  if (now.fingerprint === recorded.fingerprint) return { status: 'ok', file: folder };
  const was = `${recorded.count} frames, ${recorded.first} to ${recorded.last}`;
  const is = `${now.files.length} frames, ${path.basename(now.files[0])} to ${path.basename(now.files[now.files.length - 1])}`;
  const detail = was === is ? 'some frames were rewritten: their sizes differ' : `it held ${was}; now ${is}`;
  return { status: 'changed', file: folder, problem: `${what} changed since the project was made (${detail}); put the original frames back or ${relink}` };
}

/** How a sequence differs from the project's source (frame count and size), or undefined when it fits. */
function sequenceMismatch(p: Project, seq: SequenceInfo): string | undefined {
  const differences: string[] = [];
  if (seq.width !== p.source.width || seq.height !== p.source.height) differences.push(`${seq.width}×${seq.height} instead of ${p.source.width}×${p.source.height}`);
  if (seq.files.length !== p.frames.count) differences.push(`${seq.files.length} frames instead of ${p.frames.count}`);
  return differences.length ? differences.join(', ') : undefined;
}

/** The source video when it is the project's own; a UserError saying what changed otherwise. */
export async function requireSource(projectFile: string, p: Project, purpose: string): Promise<string> {
  const check = await checkSource(projectFile, p);
  if (check.status !== 'ok') throw new UserError(`${purpose}: ${check.problem}`, projectFile);
  return check.file;
}

/**
 * Points the project at another copy of its source video, which must be the same video: the same frame
 * count, rate and display size (checked by probing). Returns the changed project; nothing is written.
 */
export async function relinkSource(projectFile: string, p: Project, video: string): Promise<Project> {
  const file = path.resolve(video);
  if (p.source.sequence) {
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new UserError('cannot relink: the project\'s source is an image sequence; choose the folder that holds its frames', file);
    const seq = await probeImageSequence(file, { allowGaps: true });
    const mismatch = sequenceMismatch(p, seq);
    if (mismatch) throw new UserError(`cannot relink: these are not the project's source frames (${mismatch})`, file);
    return { ...p, source: sequenceRecord(projectFile, seq, p.source.fps) };
  }
  const info = await probeVideo(file);
  const mismatch = sourceMismatch(p, info);
  if (mismatch) throw new UserError(`cannot relink: this is not the project's source video (${mismatch})`, file);
  const stat = await fsp.stat(file);
  return {
    ...p,
    source: {
      ...p.source,
      path: storedSourcePath(projectFile, file),
      rotation: info.rotation, hasAudio: info.hasAudio, durationSeconds: info.durationSeconds,
      fileSize: stat.size, modifiedMs: Math.floor(stat.mtimeMs),
    },
  };
}

function countFiles(dir: string, ext: string): number {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith(ext)).length;
  } catch {
    return 0;
  }
}

export interface CacheNeeds {
  /** The timeline thumbnails too (the editor, content-based keyframes), not only the frames. */
  thumbnails?: boolean;
}

/** Whether the decoded frames (and the frame times where the project keeps them, and the thumbnails if asked) are all there. */
export function frameCacheComplete(projectFile: string, p: Project, needs: CacheNeeds = {}): boolean {
  const paths = projectPaths(projectFile);
  const times = !p.source.variableFrameRate || resamples(p) || readFrameTimes(paths.framesDir, p.frames.count) !== undefined;
  const thumbs = !needs.thumbnails || countFiles(paths.thumbsDir, '.jpg') >= p.frames.count;
  return times && thumbs && countFiles(paths.framesDir, '.png') >= p.frames.count;
}

/**
 * Makes sure the decoded frames (and thumbnails if asked) exist (a fresh clone, a moved folder or a deleted cache
 * rebuilds them from the source, which must be the project's own and decode to the project's frames).
 * Returns whether it decoded.
 */
export async function ensureFrameCache(projectFile: string, p: Project, opts: CacheNeeds & { cancel?: CancelToken; onProgress?: ProgressFn } = {}): Promise<boolean> {
  if (frameCacheComplete(projectFile, p, opts)) return false;
  const paths = projectPaths(projectFile);
  const have = countFiles(paths.framesDir, '.png');
  const video = await requireSource(projectFile, p, `the frame cache is incomplete (${have} of ${p.frames.count} frames) and cannot be rebuilt`);
  const frames = p.source.sequence ? (await probeImageSequence(video, { allowGaps: true })).files : undefined;
  const count = frames ? frames.length : (await probeVideo(video)).frameCount;
  if (count + (frames ? 0 : frameTolerance(count)) < p.frames.count && !resamples(p)) {
    throw new UserError(`the project says it has ${p.frames.count} frames, but its source ${frames ? 'image sequence' : 'video'} ${p.source.path} has ${count}; the project file is damaged or was made from another ${frames ? 'sequence' : 'video'}`, projectFile);
  }
  const decoded = await decodeToFrames({
    video, frames, framesDir: paths.framesDir, thumbsDir: paths.thumbsDir, width: p.working.width, height: p.working.height,
    crop: p.working.crop, fps: p.frames.fps, resample: resamples(p), expectedFrames: p.frames.count,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  if (decoded.frameCount < p.frames.count) {
    throw new UserError(`the source video decodes to ${decoded.frameCount} frames but the project has ${p.frames.count}; it is not the video the project was made from — relink the right one, or create a new project from this one`, video);
  }
  return true;
}
