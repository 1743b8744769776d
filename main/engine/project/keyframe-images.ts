// Keyframe images the user brings (imported or painted): validated, resized to the working size and
// copied into the project's assets folder, so the project never depends on the original file.
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Project } from '../../../preload/project-schema';
import { projectPaths } from './paths';
import { addKeyframe, keyframeAt, updateKeyframe } from './keyframes';
import { writeFileAtomic } from '../fs/atomic';
import { requireRegularFile } from '../fs/regular-file';
import { UserError } from '../../../native-models/src/errors';
import { checkImageSize, MAX_IMAGE_SIDE } from '../../../native-models/src/image';
import { checkProjectFolders } from './confinement';

/**
 * What fitting a w×h image to the working frames (width×height) cuts off, in the user's words, or
 * undefined when the shapes match (less than a working pixel would go). The image is scaled to cover the
 * frames and centre-cropped, so a frame-sized painting lands pixel for pixel.
 */
export function describeCrop(w: number, h: number, width: number, height: number): string | undefined {
  const scale = Math.max(width / w, height / h);
  if (w * scale - width < 1 && h * scale - height < 1) return undefined;
  const wider = w * scale - width >= 1;
  const [keptW, keptH] = [Math.min(w, Math.round(width / scale)), Math.min(h, Math.round(height / scale))];
  const cut = wider ? (w - keptW) / 2 : (h - keptH) / 2;
  const px = `${Number.isInteger(cut) ? cut : cut.toFixed(1)} px`;
  return `centre-cropped: the image (${w}×${h}) is ${wider ? 'wider' : 'taller'} than the working frames (${width}×${height}), so it was scaled to their ${wider ? 'height' : 'width'} and ${px} were cut from its ${wider ? 'left and right' : 'top and bottom'} (${keptW}×${keptH} of it kept)`;
}

/** The image as the keyframe's PNG at the working size; `cropped` says what fitting it cut off (see describeCrop). */
export async function readImageForKeyframe(file: string, width: number, height: number): Promise<{ png: Buffer; cropped?: string }> {
  const stat = requireRegularFile(file, 'image file');
  if (stat.size === 0) throw new UserError('the image file is empty (0 bytes)', file);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(file).metadata();
  } catch (err) {
    throw new UserError(`not a readable image (PNG, JPEG, WebP, TIFF, GIF, AVIF and HEIF are supported): ${(err as Error).message.replace(/^Input (file|buffer) /, '')}`, file);
  }
  if (meta.width && meta.height) checkImageSize(meta.width, meta.height, file); // before decoding: a decompression bomb guard
  try {
    // Decoding is held to the same limit: a header that lies about its size is stopped by sharp.
    const img = sharp(file, { limitInputPixels: MAX_IMAGE_SIDE * MAX_IMAGE_SIDE, failOn: 'error' });
    if (!meta.width || !meta.height) throw new Error('no image size');
    const png = await img.rotate().removeAlpha().toColourspace('srgb').resize(width, height, { fit: 'cover', position: 'centre' }).png().toBuffer();
    // EXIF orientations 5 to 8 turn the picture a quarter: its upright size has the sides swapped.
    const [w, h] = (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
    return { png, cropped: describeCrop(w, h, width, height) };
  } catch (err) {
    const msg = (err as Error).message.replace(/^Input (file|buffer) /, '');
    throw new UserError(`not a readable image (PNG, JPEG, WebP, TIFF, GIF, AVIF and HEIF are supported): ${msg}`, file);
  }
}

/**
 * Sets the keyframe at `frame` (created if needed) to a copy of `image`; the old image goes to history. An
 * image of another shape than the frames is centre-cropped, and the keyframe's note says so (the inspector,
 * the timeline's tooltip, `rerender info` and the import's own message show it).
 */
export async function importKeyframeImage(projectFile: string, p: Project, frame: number, image: string, source: 'imported' | 'painted' = 'imported'): Promise<Project> {
  const { png, cropped } = await readImageForKeyframe(image, p.working.width, p.working.height);
  let next = addKeyframe(p, frame);
  const k = keyframeAt(next, frame)!;
  const paths = projectPaths(projectFile);
  checkProjectFolders(projectFile); // the copy goes into the project's own assets folder, never through a link
  await fsp.mkdir(paths.assetsDir, { recursive: true });
  const revision = k.revision + 1;
  const name = `keyframe-${k.id}-r${revision}.png`;
  await writeFileAtomic(path.join(paths.assetsDir, name), png);
  const rel = path.relative(paths.dir, path.join(paths.assetsDir, name)).split(path.sep).join('/');
  next = updateKeyframe(next, k.id, (old) => ({
    ...old,
    source,
    image: rel,
    status: 'done',
    revision,
    note: cropped,
    history: old.image ? [...old.history, { image: old.image, seed: old.source === 'diffusion' ? old.overrides.seed ?? p.render.seed : 0, createdAt: new Date().toISOString(), source: old.source }].slice(-100) : old.history,
  }));
  return next;
}
