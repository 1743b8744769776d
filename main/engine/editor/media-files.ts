// Maps media URLs (app:// in Electron, /media/ in serve mode) and renderer asset URLs to files, strictly
// inside the project folder or the renderer folder: no traversal, no encoded separators, no symlink escapes.
import fs from 'node:fs';
import type { Project } from '../../../preload/project-schema';
import { resultFrameFile, segmentOutputDir, segmentOutputKey, staleFrameFile } from '../project/output-keys';
import { segmentsOf } from '../project/keyframes';
import { coverageMapFile } from '../propagation/coverage';
import path from 'node:path';
import { projectPaths } from '../project/paths';
import { checkProjectFolders } from '../project/confinement';

/** Why a URL was not served: 404 for a well-formed path to nothing, 403 for anything that tries to leave. */
export class MediaError extends Error {
  constructor(readonly status: 403 | 404, message: string) {
    super(message);
    this.name = 'MediaError';
  }
}

/**
 * Splits a URL path ("frames/00012.png") into decoded segments, refusing empty, dot, NUL and
 * separator-bearing segments (so %2F, %5C and %2E%2E cannot smuggle a traversal past the split).
 */
export function urlSegments(urlPath: string): string[] {
  const raw = urlPath.replace(/^\/+/, '').split('/');
  return raw.map((s) => {
    let seg: string;
    try {
      seg = decodeURIComponent(s);
    } catch {
      throw new MediaError(403, 'malformed URL encoding');
    }
    if (seg === '' || seg === '.' || seg === '..' || /[\\/\0]/.test(seg) || /^[a-zA-Z]:/.test(seg)) {
      throw new MediaError(403, `refused path segment "${s}"`);
    }
    return seg;
  });
}

function realInside(root: string, candidate: string): string {
  let realRoot: string, real: string;
  try {
    realRoot = fs.realpathSync(root);
    real = fs.realpathSync(candidate);
  } catch {
    throw new MediaError(404, 'not found');
  }
  const rel = path.relative(realRoot, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new MediaError(403, 'the file is outside the allowed folder');
  if (!fs.statSync(real).isFile()) throw new MediaError(404, 'not a file');
  return real;
}

/** A file under `root` named by URL segments; symlinks are followed and must still land inside `root`. */
export function confinedFile(root: string, segments: string[]): string {
  const candidate = path.resolve(root, ...segments);
  const rel = path.relative(path.resolve(root), candidate);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new MediaError(403, 'the path leaves the allowed folder');
  return realInside(root, candidate);
}

const NUMBERED: Record<string, { dir: keyof ReturnType<typeof projectPaths>; ext: RegExp }> = {
  frames: { dir: 'framesDir', ext: /^\d{5,8}\.png$/ },
  thumbs: { dir: 'thumbsDir', ext: /^\d{5,8}\.jpg$/ },
};

/** Output frames are looked up by the open document's output keys (output-keys.ts), never by file name alone. */
const OUTPUT = /^(\d{5,8})\.png$/;

/** The coverage map of frame i under its segment's current output key, or undefined. */
function coverageMapOf(projectFile: string, p: Project, index: number): string | undefined {
  const s = segmentsOf(p).find((x) => x.start <= index && index <= x.end);
  const file = s && coverageMapFile(segmentOutputDir(projectFile, segmentOutputKey(p, s)), index);
  return file && fs.existsSync(file) ? file : undefined;
}

/**
 * The file behind a media path (after the `media/` prefix): `frames/NNNNN.png`, `thumbs/NNNNN.jpg`,
 * `output/NNNNN.png` (frame N of the output of `document`, the project as the editor holds it: a
 * keyframe's image or its segment's frame for the current inputs), `output-stale/NNNNN.png` (the frame
 * a stale segment's last propagation made, shown marked stale), `coverage/NNNNN.png` (that frame's
 * coverage map), or `project/<path relative to the
 * project folder>` inside the project's assets or cache folder (keyframe images). Numbered kinds resolve
 * in their cache folder.
 */
export function resolveMediaFile(projectFile: string, mediaPath: string, document?: Project): string {
  const segments = urlSegments(mediaPath);
  const paths = projectPaths(projectFile);
  try {
    checkProjectFolders(projectFile); // an assets or cache folder that is a link leads outside: nothing served
  } catch {
    throw new MediaError(403, 'a project folder is a symbolic link');
  }
  const [kind, ...rest] = segments;
  if (kind === 'output' || kind === 'output-stale' || kind === 'coverage') {
    const m = rest.length === 1 ? OUTPUT.exec(rest[0]) : null;
    const find = kind === 'output' ? resultFrameFile : kind === 'output-stale' ? staleFrameFile : coverageMapOf;
    const file = m && document ? find(projectFile, document, Number(m[1])) : undefined;
    if (!file) throw new MediaError(404, `no such ${kind} file`);
    return realInside(paths.dir, file);
  }
  const numbered = NUMBERED[kind];
  if (numbered) {
    if (rest.length !== 1 || !numbered.ext.test(rest[0])) throw new MediaError(404, `no such ${kind} file`);
    const dir = paths[numbered.dir] as string;
    return realInside(dir, path.join(dir, rest[0]));
  }
  if (kind === 'project' && rest.length > 1) {
    // Only the project's own folders: a project saved in a home folder must not expose its neighbours.
    const own = [paths.assetsDir, paths.cacheDir].map((d) => path.basename(d));
    if (!own.includes(rest[0])) throw new MediaError(403, 'only the project\'s assets and cache are served');
    return confinedFile(path.join(paths.dir, rest[0]), rest.slice(1));
  }
  throw new MediaError(404, 'unknown media kind');
}

/** Content types of the files we serve; anything else is sent as bytes and never sniffed. */
export function contentTypeOf(file: string): string {
  switch (path.extname(file).toLowerCase()) {
    case '.html': return 'text/html; charset=utf-8';
    case '.js': return 'text/javascript; charset=utf-8';
    case '.css': return 'text/css; charset=utf-8';
    case '.map': case '.json': return 'application/json';
    case '.png': return 'image/png';
    case '.jpg': case '.jpeg': return 'image/jpeg';
    case '.webp': return 'image/webp';
    case '.svg': return 'image/svg+xml';
    case '.woff2': return 'font/woff2';
    default: return 'application/octet-stream';
  }
}

/** The renderer's strict Content-Security-Policy: own code, own images, its own media by fetch, and the bridge socket. */
export function rendererCsp(connectSrc: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    // The image decoder (renderer/image-worker.js), which fetches the project's media itself.
    "worker-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src ${connectSrc}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
