// Exporting a project: picks each frame's best image (propagated output, keyframe image, or the source
// frame where the user allows it) and hands them to the encoder with the source's tracks and frame times.
import fs from 'node:fs';
import path from 'node:path';
import { EXPORT_FORMATS, type Project } from '../../../preload/project-schema';
import { frameFileName, projectPaths, resolveSourcePath } from './paths';
import { isInside, realPathOf } from './confinement';
import { resultFrameFile } from './output-keys';
import { checkSource, ensureFrameCache, frameCacheComplete, resamples } from './source-video';
import { exportFrames, formatFromPath, type ExportFormat, type ExportAudio } from '../media/export';
import { probeVideo } from '../media/probe';
import { readFrameTimes } from '../media/decode';
import { describeRuns } from '../frames';
import { exportSize, type ExportSizeChoice } from '../../../preload/export-size';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';
import { count, noun } from '../../../preload/plural';

export interface ProjectExportOptions {
  out: string;
  format?: ExportFormat;
  /** Take missing frames from the source instead of failing. */
  allowIncomplete?: boolean;
  range?: { start: number; end: number };
  sideBySide?: boolean;
  /** Output size: the source's pixels (default), the working size, or a given size. */
  size?: ExportSizeChoice;
  /** Replace an earlier export at `out` (the user confirmed: `--force`, or the editor's dialog). */
  overwrite?: boolean;
  /** Export without the source's sound (when the source is missing or was replaced). */
  withoutAudio?: boolean;
  /** PNG frames: the first file's number (default 0), e.g. 1 or 86400 for editors that expect it. */
  startNumber?: number;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

export { resultFrameFile } from './output-keys';

/** Whether `file` is inside `dir`, as written or once links are resolved (an --out through a link). */
function inside(dir: string, file: string): boolean {
  return isInside(dir, file) || isInside(realPathOf(dir), realPathOf(file));
}

/**
 * An export never lands on the project's own files: its file, cache, assets or source video (also through a
 * link). Checked before whether the destination exists, so the source is never offered for replacing.
 */
export function refuseProjectFiles(projectFile: string, p: Project, out: string): void {
  const paths = projectPaths(projectFile);
  const target = path.resolve(out);
  if (realPathOf(target) === realPathOf(paths.file)) throw new UserError('that is the project file itself; export somewhere else', target);
  if (target === paths.file || target.startsWith(`${paths.file}.`)) throw new UserError('that is the project file itself; export somewhere else', target);
  if (inside(paths.cacheDir, target) || inside(paths.assetsDir, target)) throw new UserError(`that is inside the project's ${inside(paths.cacheDir, target) ? 'cache' : 'assets'} folder; export somewhere else`, target);
  const source = resolveSourcePath(projectFile, p);
  if (p.source.sequence && inside(source, target)) throw new UserError('that is inside the project\'s source image sequence; export somewhere else', target);
  if (target === source || realPathOf(target) === realPathOf(source)) throw new UserError('that is the project\'s source video; export under another name', target);
}

/**
 * The destination the export dialog proposes: beside the project, "<name> (rerendered).mp4" (a frames
 * folder "<name> (rerendered frames)"), numbered "(rerendered 2)"… when that name is taken, so it is never
 * an existing file, the source video or one of the project's own files.
 */
export function suggestExportDestination(projectFile: string, p: Project, format: keyof typeof EXPORT_FORMATS): string {
  const dir = path.dirname(path.resolve(projectFile));
  const stem = path.basename(projectFile).replace(/\.rerender$/i, '');
  for (let n = 1; ; n++) {
    const tag = `rerendered${format === 'png' ? ' frames' : ''}${n > 1 ? ` ${n}` : ''}`;
    const out = path.join(dir, `${stem} (${tag})${format === 'png' ? '' : EXPORT_FORMATS[format].ext}`);
    if (fs.lstatSync(out, { throwIfNoEntry: false })) continue;
    try {
      refuseProjectFiles(projectFile, p, out);
      return out;
    } catch {
      // one of the project's own paths (a source that is missing now but named so): the next number
    }
  }
}

/** The source's tracks for the export, or why there are none (missing or replaced source: say so). */
async function sourceTracks(projectFile: string, p: Project, startFrame: number, times: number[] | undefined, withoutAudio: boolean): Promise<ExportAudio | undefined> {
  if (withoutAudio || p.source.sequence) return undefined; // an image sequence has no sound
  const check = await checkSource(projectFile, p);
  // A missing source without sound loses nothing; a replaced one would lend its own tracks: refused.
  if (check.status === 'missing' && !p.source.hasAudio) return undefined;
  if (check.status !== 'ok') {
    const lost = check.status === 'missing' ? 'so the export would have no sound' : 'so its sound is not this project\'s';
    throw new UserError(`${check.problem} — ${lost}; or export without the sound (--no-audio on the command line)`, projectFile);
  }
  const info = await probeVideo(check.file);
  if (!info.audioStreams.length && !info.subtitleStreams.length) return undefined;
  const startSeconds = times ? times[startFrame] / 1e6 : info.videoStartSeconds + (startFrame * p.frames.fps.den) / p.frames.fps.num;
  return { file: check.file, startSeconds, audioStreams: info.audioStreams, subtitleStreams: info.subtitleStreams };
}

export async function exportProject(projectFile: string, p: Project, opts: ProjectExportOptions): Promise<{ out: string; frames: number; fromSource: number; leftOut: string[]; width: number; height: number }> {
  const format = opts.format ?? formatFromPath(opts.out);
  if (!format) throw new UserError('cannot tell the export format from the file name; use .mp4, .webm, .gif, .mov (ProRes), a folder for PNG frames, or --format', opts.out);
  refuseProjectFiles(projectFile, p, opts.out);
  const start = opts.range?.start ?? 0;
  const end = opts.range?.end ?? p.frames.count - 1;
  if (start < 0 || end >= p.frames.count || start > end) throw new UserError(`the range ${start}-${end} is outside the video (frames 0 to ${p.frames.count - 1})`);
  const frames = Array.from({ length: end - start + 1 }, (_, i) => start + i);
  const paths = projectPaths(projectFile);
  const sourceFile = (i: number) => path.join(paths.framesDir, frameFileName(i));
  // A frame cache short of the project's frames is rebuilt first: that also checks the project's frame
  // count against its source before anything walks every frame (a damaged count of millions is refused).
  if (!frameCacheComplete(projectFile, p)) await ensureFrameCache(projectFile, p, { cancel: opts.cancel });
  const chosen = new Map<number, string>();
  const missing: number[] = [];
  for (const i of frames) {
    const f = resultFrameFile(projectFile, p, i);
    if (f) chosen.set(i, f); else missing.push(i);
  }
  if (missing.length && !opts.allowIncomplete) {
    throw new UserError(`${missing.length} of ${count(frames.length, 'frame')} ${missing.length === 1 ? 'is' : 'are'} not rendered yet (${noun(missing.length, 'frame')} ${describeRuns(missing)}); propagate first, or export with --allow-incomplete to use the source frames there`);
  }
  // Source frames (for missing frames or the side-by-side view) and the source's own frame times (a
  // variable rate kept) come from the frame cache, rebuilt if it was deleted.
  const keepTimes = p.source.variableFrameRate && !resamples(p);
  if (missing.length > 0 || opts.sideBySide || keepTimes) await ensureFrameCache(projectFile, p, { cancel: opts.cancel });
  for (const i of missing) chosen.set(i, sourceFile(i));
  const times = readFrameTimes(paths.framesDir, p.frames.count);
  const audio = await sourceTracks(projectFile, p, start, times, !!opts.withoutAudio);
  const size = exportSize(p, opts.size);
  const result = await exportFrames({
    out: opts.out, format, width: size.width, height: size.height, fps: p.frames.fps, frames,
    frameFile: (i) => chosen.get(i)!,
    sourceFrameFile: opts.sideBySide ? sourceFile : undefined,
    frameTimes: keepTimes && times ? (i) => times[i] : undefined,
    audio, overwrite: opts.overwrite, startNumber: opts.startNumber,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  // The size written: side by side, the source's picture beside the rendered one doubles the width.
  return { ...result, fromSource: missing.length, width: opts.sideBySide ? size.width * 2 : size.width, height: size.height };
}
