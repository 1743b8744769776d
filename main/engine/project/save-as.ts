// "Save as": the project under a new name or folder keeps its assets, cache and source video, because
// every path in the project is relative to the file and the assets/cache folders are named after it.
// The folders are copied here; the project store (project-store.ts) writes the file.
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';
import { projectPaths, PROJECT_EXTENSION, resolveSourcePath, storedSourcePath } from './paths';
import { UserError } from '../../../native-models/src/errors';

function relativeTo(dir: string, abs: string): string {
  return path.relative(dir, abs).split(path.sep).join('/');
}

/** Copies the assets and cache folders beside the new file; returns the project with its paths rewritten to point there. */
export async function copyProjectTo(oldFile: string, newFile: string, p: Project): Promise<Project> {
  if (!newFile.endsWith(PROJECT_EXTENSION)) throw new UserError(`project files end in ${PROJECT_EXTENSION}`, newFile);
  const from = projectPaths(oldFile);
  const to = projectPaths(newFile);
  for (const [src, dst] of [[from.assetsDir, to.assetsDir], [from.cacheDir, to.cacheDir]]) {
    if (await fsp.stat(src).catch(() => undefined)) await fsp.cp(src, dst, { recursive: true, force: true });
  }
  const move = (rel: string): string => {
    const abs = path.resolve(from.dir, rel);
    for (const [src, dst] of [[from.assetsDir, to.assetsDir], [from.cacheDir, to.cacheDir]]) {
      const inside = path.relative(src, abs);
      if (!inside.startsWith('..') && !path.isAbsolute(inside)) return relativeTo(to.dir, path.join(dst, inside));
    }
    const rebased = relativeTo(to.dir, abs);
    if (rebased.split('/').includes('..')) throw new UserError(`the keyframe image "${rel}" would end up outside the new project folder; save beside the original or import it again`, newFile);
    return rebased;
  };
  const next: Project = {
    ...p,
    name: path.basename(newFile, PROJECT_EXTENSION),
    source: { ...p.source, path: storedSourcePath(newFile, resolveSourcePath(oldFile, p)) },
    keyframes: p.keyframes.map((k) => ({
      ...k,
      image: k.image ? move(k.image) : null,
      history: k.history.map((h) => ({ ...h, image: move(h.image) })),
    })),
  };
  return next;
}
