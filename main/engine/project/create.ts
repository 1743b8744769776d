// Creating a project from a video: probe, choose the working size, decode frames and thumbnails, save.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { probeVideo, frameTolerance } from '../media/probe';
import { decodeToFrames } from '../media/decode';
import { workingSize, DEFAULT_WORKING_SIZE } from '../frames';
import type { Crop, Project } from '../../../preload/project-schema';
import { newProjectDocument, DEFAULT_KEYFRAME_INTERVAL } from './defaults';
import { projectPaths, PROJECT_EXTENSION } from './paths';
import { writeProjectFile } from './project-file';
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
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

/** How the project stores the source path: relative to the project folder when possible. */
export function storedSourcePath(projectFile: string, video: string): string {
  const rel = path.relative(path.dirname(path.resolve(projectFile)), path.resolve(video));
  return path.isAbsolute(rel) ? path.resolve(video) : rel.split(path.sep).join('/');
}

export function resolveSourcePath(projectFile: string, p: Project): string {
  return path.resolve(path.dirname(path.resolve(projectFile)), p.source.path);
}

export async function createProject(projectFile: string, video: string, opts: CreateOptions = {}): Promise<Project> {
  if (!projectFile.endsWith(PROJECT_EXTENSION)) throw new UserError(`project files end in ${PROJECT_EXTENSION}`, projectFile);
  if (await fsp.lstat(projectFile).catch(() => undefined)) throw new UserError('a project file already exists here; open it, or choose another name', projectFile);
  const info = await probeVideo(video);
  const stat = await fsp.stat(video);
  const mode = opts.mode ?? 'short-side';
  const size = opts.size ?? DEFAULT_WORKING_SIZE;
  const crop = opts.crop ?? null;
  const resampled = info.variableFrameRate && !!opts.constantFps;
  const { width, height } = workingSize(info.width, info.height, { mode, size, crop });
  const paths = projectPaths(projectFile);
  const expected = resampled ? Math.round((info.durationSeconds * info.fps.num) / info.fps.den) : info.frameCount;
  const decoded = await decodeToFrames({
    video, framesDir: paths.framesDir, thumbsDir: paths.thumbsDir, width, height, crop,
    fps: info.fps, resample: resampled, expectedFrames: expected,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  const announced = resampled ? expected : info.announcedFrames;
  if (announced !== undefined && decoded.frameCount < announced - frameTolerance(announced) && !opts.allowTruncated) {
    for (const dir of [paths.framesDir, paths.thumbsDir]) await fsp.rm(dir, { recursive: true, force: true }); // ours, just made
    await fsp.rmdir(paths.cacheDir).catch(() => undefined);
    throw new UserError(`the video is truncated: it announces ${announced} frames but only ${decoded.frameCount} decode (a cut-off download or copy?); use the complete file, or keep what decodes with --allow-truncated`, video);
  }
  let project: Project = newProjectDocument({
    name: path.basename(projectFile, PROJECT_EXTENSION),
    source: {
      path: storedSourcePath(projectFile, video),
      width: info.width, height: info.height, pixelAspect: info.pixelAspect, rotation: info.rotation,
      fps: info.fps, variableFrameRate: info.variableFrameRate,
      durationSeconds: info.durationSeconds, hasAudio: info.hasAudio,
      fileSize: stat.size, modifiedMs: Math.floor(stat.mtimeMs),
    },
    working: { mode, size, crop, width, height },
    frames: { count: decoded.frameCount, fps: info.fps, resampled },
  });
  project = setKeyframeFrames(project, uniformKeyframes(decoded.frameCount, DEFAULT_KEYFRAME_INTERVAL));
  await writeProjectFile(projectFile, project);
  return project;
}
