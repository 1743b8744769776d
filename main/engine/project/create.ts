// Creating a project from a video: probe, choose the working size, decode frames and thumbnails, save.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { probeVideo } from '../media/probe';
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
  if (await fsp.stat(projectFile).catch(() => undefined)) throw new UserError('a project file already exists here; open it, or choose another name', projectFile);
  const info = await probeVideo(video);
  const stat = await fsp.stat(video);
  const mode = opts.mode ?? 'short-side';
  const size = opts.size ?? DEFAULT_WORKING_SIZE;
  const crop = opts.crop ?? null;
  const { width, height } = workingSize(info.width, info.height, { mode, size, crop });
  const paths = projectPaths(projectFile);
  const decoded = await decodeToFrames({
    video, framesDir: paths.framesDir, thumbsDir: paths.thumbsDir, width, height, crop,
    fps: info.fps, resample: info.variableFrameRate, expectedFrames: info.frameCount,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  let project: Project = newProjectDocument({
    name: path.basename(projectFile, PROJECT_EXTENSION),
    source: {
      path: storedSourcePath(projectFile, video),
      width: info.width, height: info.height, rotation: info.rotation,
      fps: info.fps, variableFrameRate: info.variableFrameRate,
      durationSeconds: info.durationSeconds, hasAudio: info.hasAudio,
      fileSize: stat.size, modifiedMs: Math.floor(stat.mtimeMs),
    },
    working: { mode, size, crop, width, height },
    frames: { count: decoded.frameCount, fps: info.fps },
  });
  project = setKeyframeFrames(project, uniformKeyframes(decoded.frameCount, DEFAULT_KEYFRAME_INTERVAL));
  await writeProjectFile(projectFile, project);
  return project;
}

/** Whether the decoded frames still match the project (source file and working size unchanged). */
export async function frameCacheState(projectFile: string, p: Project): Promise<'ok' | 'missing' | 'source-changed' | 'source-missing'> {
  const src = await fsp.stat(resolveSourcePath(projectFile, p)).catch(() => undefined);
  const frames = await fsp.readdir(projectPaths(projectFile).framesDir).catch(() => [] as string[]);
  if (!src) return frames.length >= p.frames.count ? 'ok' : 'source-missing';
  if (src.size !== p.source.fileSize || Math.abs(Math.floor(src.mtimeMs) - p.source.modifiedMs) > 2000) return 'source-changed';
  return frames.filter((f) => f.endsWith('.png')).length >= p.frames.count ? 'ok' : 'missing';
}

/**
 * Makes sure decoded frames exist and match the source (a fresh clone, a moved folder or a deleted cache
 * rebuilds them). Returns the project with the source fingerprint refreshed when the file was touched but
 * decodes to the same number of frames; a real change of frame count is an error the user must resolve.
 */
export async function ensureFrameCache(projectFile: string, p: Project, opts: { cancel?: CancelToken; onProgress?: ProgressFn } = {}): Promise<Project> {
  const state = await frameCacheState(projectFile, p);
  if (state === 'ok') return p;
  const video = resolveSourcePath(projectFile, p);
  if (state === 'source-missing') throw new UserError(`the source video is missing (${p.source.path}); put it back or relink the project`, projectFile);
  const paths = projectPaths(projectFile);
  const decoded = await decodeToFrames({
    video, framesDir: paths.framesDir, thumbsDir: paths.thumbsDir, width: p.working.width, height: p.working.height,
    crop: p.working.crop, fps: p.frames.fps, resample: p.source.variableFrameRate, expectedFrames: p.frames.count,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  if (decoded.frameCount !== p.frames.count) {
    throw new UserError(`the source video now has ${decoded.frameCount} frames instead of ${p.frames.count}; it was replaced by a different video — create a new project from it`, video);
  }
  const stat = await fsp.stat(video);
  return { ...p, source: { ...p.source, fileSize: stat.size, modifiedMs: Math.floor(stat.mtimeMs) } };
}
