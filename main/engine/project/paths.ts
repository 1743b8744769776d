// Where a project's files live on disk: the project file, its assets folder and its rebuildable cache.
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';

/** Project files end in this extension (JSON inside). */
export const PROJECT_EXTENSION = '.rerender';

export interface ProjectPaths {
  /** The project file itself. */
  file: string;
  /** Folder of the project file; every relative path in the project resolves against it. */
  dir: string;
  /** Things the user made that the cache cannot rebuild (imported or painted keyframe images). */
  assetsDir: string;
  /** Everything rebuildable: decoded frames, thumbnails, flows, renders, propagated frames. */
  cacheDir: string;
  /** Decoded source frames at the working resolution: `NNNNN.png`, 0-based frame index. */
  framesDir: string;
  /** Small JPEG thumbnails for the timeline: `NNNNN.jpg`. */
  thumbsDir: string;
  /** Consecutive-frame optical flows (forward i→i+1 and backward i+1→i), one folder per key (flow/flow-cache.ts). */
  flowDir: string;
  /** Rendered keyframe results and their attention caches. */
  keyframesDir: string;
  /** Final output frames after propagation and blending: `NNNNN.png`. */
  outputDir: string;
  /** Per-segment propagation state for resume. */
  segmentsDir: string;
}

export function projectPaths(projectFile: string): ProjectPaths {
  const file = path.resolve(projectFile);
  const dir = path.dirname(file);
  const base = path.basename(file, PROJECT_EXTENSION);
  const cacheDir = path.join(dir, `${base}.cache`);
  return {
    file,
    dir,
    assetsDir: path.join(dir, `${base}.assets`),
    cacheDir,
    framesDir: path.join(cacheDir, 'frames'),
    thumbsDir: path.join(cacheDir, 'thumbs'),
    flowDir: path.join(cacheDir, 'flow'),
    keyframesDir: path.join(cacheDir, 'keyframes'),
    outputDir: path.join(cacheDir, 'output'),
    segmentsDir: path.join(cacheDir, 'segments'),
  };
}

/** File name of frame `index` (0-based) in a frame folder. */
export function frameFileName(index: number, ext = 'png'): string {
  return `${String(index).padStart(5, '0')}.${ext}`;
}

/** How the project stores the source path: relative to the project folder when possible. */
export function storedSourcePath(projectFile: string, video: string): string {
  const rel = path.relative(path.dirname(path.resolve(projectFile)), path.resolve(video));
  return path.isAbsolute(rel) ? path.resolve(video) : rel.split(path.sep).join('/');
}

export function resolveSourcePath(projectFile: string, p: Project): string {
  return path.resolve(path.dirname(path.resolve(projectFile)), p.source.path);
}
