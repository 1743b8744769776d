// Creating a project from a video or an image sequence (a folder of frames at a stated rate): probe,
// choose the working size, decode frames and thumbnails, save.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { probeVideo, frameTolerance } from '../media/probe';
import { decodeToFrames, readFrameTimes } from '../media/decode';
import { describeSequence, listImageSequence, probeImageSequence, type SequenceInfo } from '../media/image-sequence';
import { parseFrameRate, workingSize, DEFAULT_WORKING_SIZE } from '../frames';
import type { Crop, Project, Rational, SourceVideo } from '../../../preload/project-schema';
import { newProjectDocument, DEFAULT_KEYFRAME_INTERVAL } from './defaults';
import { projectPaths, PROJECT_EXTENSION, storedSourcePath } from './paths';

import { ProjectStore } from './project-store';
import { setKeyframeFrames } from './keyframes';
import { uniformKeyframes } from './keyframe-suggest';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';

export interface CreateOptions {
  mode?: 'short-side' | 'long-side';
  size?: number;
  crop?: Crop | null;
  /** Keep what decodes from a video that holds fewer frames than it announces (a cut-off download). */
  allowTruncated?: boolean;
  /** Resample a variable-rate video to a constant rate (its average) instead of keeping every frame once. */
  constantFps?: boolean;
  /** An image sequence's frame rate as the user states it ("24", "23.976", "30000/1001"): required for a folder, refused for a video. */
  fps?: string;
  /** Take an image sequence's frames in order although numbers are missing (the gaps closed up). */
  allowGaps?: boolean;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

/** What a new project knows of its source before decoding: the record, and how to decode it. */
interface NewSource {
  source: SourceVideo;
  /** An image sequence's files in order. */
  frames?: string[];
  resampled: boolean;
  /** Frames the decode should give, and the count below which the source is called truncated (a video's announcement). */
  expected: number;
  announced: number | undefined;
}

async function videoSource(projectFile: string, video: string, opts: CreateOptions): Promise<NewSource> {
  if (opts.fps !== undefined) throw new UserError('a video has its own frame rate; a stated frame rate (--fps) is for image sequences (a folder of frames)', video);
  const info = await probeVideo(video);
  const stat = await fsp.stat(video);
  const resampled = info.variableFrameRate && !!opts.constantFps;
  const expected = resampled ? Math.round((info.durationSeconds * info.fps.num) / info.fps.den) : info.frameCount;
  return {
    source: {
      path: storedSourcePath(projectFile, video),
      width: info.width, height: info.height, pixelAspect: info.pixelAspect, rotation: info.rotation,
      fps: info.fps, variableFrameRate: info.variableFrameRate,
      durationSeconds: info.durationSeconds, hasAudio: info.hasAudio,
      fileSize: stat.size, modifiedMs: Math.floor(stat.mtimeMs),
    },
    resampled, expected, announced: resampled ? expected : info.announcedFrames,
  };
}

/** The record of an image-sequence source (also after relinking): the folder, its frames and fingerprint, no sound. */
export function sequenceRecord(projectFile: string, seq: SequenceInfo, fps: Rational): SourceVideo {
  return {
    path: storedSourcePath(projectFile, seq.dir),
    sequence: { first: path.basename(seq.files[0]), last: path.basename(seq.files[seq.files.length - 1]), count: seq.files.length, fingerprint: seq.fingerprint },
    width: seq.width, height: seq.height, pixelAspect: { num: 1, den: 1 }, rotation: 0,
    fps, variableFrameRate: false, durationSeconds: (seq.files.length * fps.den) / fps.num, hasAudio: false,
    fileSize: seq.totalBytes, modifiedMs: seq.newestMs,
  };
}

async function sequenceSource(projectFile: string, folder: string, opts: CreateOptions): Promise<NewSource> {
  if (opts.fps === undefined || opts.fps.trim() === '') throw new UserError('this is a folder: to use it as an image sequence, state its frame rate (e.g. --fps 24, or the frame rate field in the editor)', folder);
  const fps = parseFrameRate(opts.fps, 'the image sequence\'s frame rate');
  const seq = await probeImageSequence(folder, { allowGaps: opts.allowGaps });
  return { source: sequenceRecord(projectFile, seq, fps), frames: seq.files, resampled: false, expected: seq.files.length, announced: seq.files.length };
}

/** What a path given as a new project's source is, cheaply (no decoding, no image read): for the new-project dialog. */
export function describeSource(source: string): { kind: 'video' | 'image-sequence' | 'missing'; summary?: string; problem?: string; gaps?: boolean } {
  const stat = fs.statSync(source, { throwIfNoEntry: false });
  if (!stat) return { kind: 'missing' };
  if (!stat.isDirectory()) return { kind: 'video' };
  try {
    const listing = listImageSequence(source);
    return { kind: 'image-sequence', summary: describeSequence(listing), gaps: listing.missing.length > 0 };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { kind: 'image-sequence', problem: err.message };
  }
}

/** The sequence's files that gave no frame: each decoded frame's time says which file it came from. */
function undecodedFrames(files: string[], fps: Rational, times: number[] | undefined): string[] {
  if (!times) return [];
  const decoded = new Set(times.map((t) => Math.round((t * fps.num) / (fps.den * 1e6))));
  return files.filter((_, k) => !decoded.has(k));
}

export async function createProject(projectFile: string, video: string, opts: CreateOptions = {}): Promise<Project> {
  if (!projectFile.endsWith(PROJECT_EXTENSION)) throw new UserError(`project files end in ${PROJECT_EXTENSION}`, projectFile);
  if (await fsp.lstat(projectFile).catch(() => undefined)) throw new UserError('a project file already exists here; open it, or choose another name', projectFile);
  // A stated frame rate means a sequence: a missing path is then reported as a missing folder.
  const stat = await fsp.stat(video).catch(() => undefined);
  const folder = stat ? stat.isDirectory() : opts.fps !== undefined;
  const { source, frames, resampled, expected, announced } = folder ? await sequenceSource(projectFile, video, opts) : await videoSource(projectFile, video, opts);
  const mode = opts.mode ?? 'short-side';
  const size = opts.size ?? DEFAULT_WORKING_SIZE;
  const crop = opts.crop ?? null;
  const { width, height } = workingSize(source.width, source.height, { mode, size, crop });
  const paths = projectPaths(projectFile);
  const decoded = await decodeToFrames({
    video, frames, framesDir: paths.framesDir, thumbsDir: paths.thumbsDir, width, height, crop,
    fps: source.fps, resample: resampled, expectedFrames: expected,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  // A sequence decodes to every one of its frames; a video may hold a few fewer than it announces.
  const short = frames ? decoded.frameCount < expected : announced !== undefined && decoded.frameCount < announced - frameTolerance(announced) && !opts.allowTruncated;
  if (short) {
    const damaged = frames ? undecodedFrames(frames, source.fps, readFrameTimes(paths.framesDir, decoded.frameCount)) : [];
    for (const dir of [paths.framesDir, paths.thumbsDir]) await fsp.rm(dir, { recursive: true, force: true }); // ours, just made
    await fsp.rmdir(paths.cacheDir).catch(() => undefined);
    if (frames) {
      const named = damaged.length ? ` (${damaged.slice(0, 3).map((f) => path.basename(f)).join(', ')}${damaged.length > 3 ? ', …' : ''})` : '';
      throw new UserError(`only ${decoded.frameCount} of the sequence's ${expected} frames could be decoded: ${damaged.length === 1 ? 'a frame is' : 'some frames are'} damaged${named}; render or copy ${damaged.length === 1 ? 'it' : 'them'} again`, video);
    }
    throw new UserError(`the video is truncated: it announces ${announced} frames but only ${decoded.frameCount} decode (a cut-off download or copy?); use the complete file, or keep what decodes with --allow-truncated`, video);
  }
  let project: Project = newProjectDocument({
    name: path.basename(projectFile, PROJECT_EXTENSION),
    source,
    working: { mode, size, crop, width, height },
    frames: { count: decoded.frameCount, fps: source.fps, resampled },
  });
  project = setKeyframeFrames(project, uniformKeyframes(decoded.frameCount, DEFAULT_KEYFRAME_INTERVAL));
  await ProjectStore.create(projectFile, project);
  return project;
}
