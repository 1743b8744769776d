// The bundled sample project, copied where the user can work on it: an installed app's resources are
// read-only, and a project writes its cache, autosave and lock beside itself.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';
import { tempPathFor } from '../fs/atomic';
import { readProjectFile } from './project-file';
import type { Project } from '../../../preload/project-schema';

export const SAMPLE_PROJECT_FILE = 'sample.rerender';
export const SAMPLE_VIDEO_FILE = 'sample.mp4';

/**
 * Where the user's copy of the sample lives: `Rerender/Sample project` in their Documents folder (the
 * Electron app passes the OS's Documents folder; serve mode uses ~/Documents). Every way of opening the
 * sample (`npm start`, the app's first run, Help › Open sample project, `rerender serve --sample`) opens
 * this copy, never the bundled files, which stay as shipped.
 */
export function userSampleDir(documents = path.join(os.homedir(), 'Documents')): string {
  return path.join(documents, 'Rerender', 'Sample project');
}

/** The bundled sample's folder in an app folder (a checkout, or the packaged app's resources). */
export function bundledSampleDir(resources: string): string {
  return path.join(resources, 'sample');
}

/**
 * Returns the sample project file in `destDir`, first copying the bundled sample there when `destDir`
 * holds no sample project yet. A copy already there is the user's work and is never overwritten.
 */
export async function ensureSampleProject(bundledDir: string, destDir: string): Promise<string> {
  const target = path.join(destDir, SAMPLE_PROJECT_FILE);
  if (await exists(target)) return target;

  const bundledProject = path.join(bundledDir, SAMPLE_PROJECT_FILE);
  const bundledVideo = path.join(bundledDir, SAMPLE_VIDEO_FILE);
  const [projectStat, videoStat] = await Promise.all([fsp.stat(bundledProject).catch(() => undefined), fsp.stat(bundledVideo).catch(() => undefined)]);
  if (!projectStat?.isFile() || !videoStat?.isFile()) {
    throw new UserError(`the bundled sample project is missing (expected ${SAMPLE_PROJECT_FILE} and ${SAMPLE_VIDEO_FILE} in this folder); reinstall Rerender to get it back`, bundledDir);
  }
  const sample = await readProjectFile(bundledProject);
  if (sample.source.path !== SAMPLE_VIDEO_FILE) {
    throw new UserError(`the bundled sample project refers to "${sample.source.path}" instead of ${SAMPLE_VIDEO_FILE} beside it; reinstall Rerender`, bundledProject);
  }
  // The project fingerprints its video by size and modification time. An installer or a git checkout
  // may not keep the time, so a video of the recorded size gets the recorded time back; otherwise
  // the copy keeps the bundled file's time and the editor's usual checks judge it.
  const mtime = videoStat.size === sample.source.fileSize ? new Date(sample.source.modifiedMs) : videoStat.mtime;
  const images = sampleKeyframeImages(sample, bundledDir, bundledProject);

  const stage = tempPathFor(destDir);
  try {
    await fsp.mkdir(stage, { recursive: true });
    await copyDurably(bundledVideo, path.join(stage, SAMPLE_VIDEO_FILE), mtime);
    for (const image of images) {
      await fsp.mkdir(path.dirname(path.join(stage, image)), { recursive: true });
      await copyDurably(path.join(bundledDir, image), path.join(stage, image));
    }
    await copyDurably(bundledProject, path.join(stage, SAMPLE_PROJECT_FILE));
    if (!(await exists(destDir))) {
      await fsp.rename(stage, destDir);
    } else {
      // The folder is there without a project (the user removed it): add what is missing, keep the rest;
      // the project file goes last so it never appears without its video and keyframe images.
      for (const name of [SAMPLE_VIDEO_FILE, ...images, SAMPLE_PROJECT_FILE]) {
        if (await exists(path.join(destDir, name))) continue;
        await fsp.mkdir(path.dirname(path.join(destDir, name)), { recursive: true });
        await fsp.rename(path.join(stage, name), path.join(destDir, name));
      }
    }
  } catch (err) {
    throw describeCopyError(err, destDir);
  } finally {
    await fsp.rm(stage, { recursive: true, force: true }).catch(() => undefined);
  }
  return target;
}

/**
 * The painted keyframe images the bundled sample refers to (its assets folder), as paths relative to the
 * sample's folder; each must be a file inside that folder, or the bundle is damaged.
 */
function sampleKeyframeImages(sample: Project, bundledDir: string, bundledProject: string): string[] {
  const images = sample.keyframes.flatMap((k) => [k.image, ...k.history.map((h) => h.image)]).filter((i): i is string => !!i);
  return [...new Set(images)].map((image) => {
    const rel = path.relative(bundledDir, path.resolve(bundledDir, image));
    if (rel.startsWith('..') || path.isAbsolute(rel) || !fs.statSync(path.join(bundledDir, rel), { throwIfNoEntry: false })?.isFile()) {
      throw new UserError(`the bundled sample project's keyframe image "${image}" is missing; reinstall Rerender`, bundledProject);
    }
    return rel;
  });
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(() => true, () => false);
}

/** Copies and flushes to disk, so the rename that publishes the copy never reveals an empty file. */
async function copyDurably(from: string, to: string, mtime?: Date): Promise<void> {
  await fsp.copyFile(from, to);
  const h = await fsp.open(to, 'r+');
  try { await h.sync(); } finally { await h.close(); }
  if (mtime) await fsp.utimes(to, mtime, mtime);
}

function describeCopyError(err: unknown, destDir: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  const next = 'or open a project of your own with File › Open';
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError(`cannot copy the sample project here: the folder is not writable (${code}); make it writable, ${next}`, destDir);
  }
  if (code === 'ENOSPC') return new UserError(`cannot copy the sample project here: the disk is full; free some space, ${next}`, destDir);
  return new UserError(`cannot copy the sample project here (${code ?? (err as Error).message}); ${next}`, destDir);
}
