// Rebuilding a project's decoded frames and thumbnails when the cache is missing (a project copied
// without its cache, the bundled sample): ffmpeg does the work in its own process; this only supervises.
import fs from 'node:fs';
import type { Project } from '../../../preload/project-schema';
import { projectPaths } from '../project/paths';
import { resolveSourcePath } from '../project/create';
import { decodeToFrames } from '../media/decode';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';

export async function rebuildFrameCache(projectFile: string, p: Project, opts: { cancel?: CancelToken; onProgress?: ProgressFn } = {}): Promise<number> {
  const video = resolveSourcePath(projectFile, p);
  if (!fs.existsSync(video)) throw new UserError('the source video is missing, so the frame cache cannot be rebuilt; put the video back where the project expects it', video);
  const paths = projectPaths(projectFile);
  const { frameCount } = await decodeToFrames({
    video, framesDir: paths.framesDir, thumbsDir: paths.thumbsDir,
    width: p.working.width, height: p.working.height, crop: p.working.crop,
    fps: p.frames.fps, resample: p.source.variableFrameRate, expectedFrames: p.frames.count,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  if (frameCount < p.frames.count) {
    throw new UserError(`the source video decodes to ${frameCount} frames but the project has ${p.frames.count}: it was replaced by another video; create a new project from it`, video);
  }
  return frameCount;
}
