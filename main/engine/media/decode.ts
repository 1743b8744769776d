// Decoding a video to the frame cache at the working resolution, with timeline thumbnails, in one
// streaming ffmpeg pass (memory does not grow with video length).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { findTools, runTool, ToolError } from './ffmpeg';
import { formatRational } from '../frames';
import type { Crop, Rational } from '../../../preload/project-schema';
import { CancelToken, ProgressFn, UserError } from '../../../native-models/src/errors';
import { replaceWith, tempPathFor, describeWriteError } from '../fs/atomic';

export const THUMBNAIL_HEIGHT = 64;

export interface DecodeRequest {
  video: string;
  framesDir: string;
  thumbsDir: string;
  width: number;
  height: number;
  crop: Crop | null;
  /** Constant output rate; variable-rate sources are resampled to it. */
  fps: Rational;
  resample: boolean;
  /** For progress only: frames expected. */
  expectedFrames: number;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

export interface DecodeResult { frameCount: number }

/** The filter graph: crop → (resample) → scale to cover → centre-crop → split into frames and thumbnails. */
export function decodeFilter(req: Pick<DecodeRequest, 'width' | 'height' | 'crop' | 'fps' | 'resample'>): string {
  const steps: string[] = [];
  if (req.crop) {
    const c = req.crop;
    steps.push(`crop=iw-${c.left + c.right}:ih-${c.top + c.bottom}:${c.left}:${c.top}`);
  }
  if (req.resample) steps.push(`fps=${formatRational(req.fps)}`);
  steps.push(`scale=${req.width}:${req.height}:force_original_aspect_ratio=increase:flags=lanczos`);
  steps.push(`crop=${req.width}:${req.height}`, 'setsar=1', 'format=rgb24', 'split=2[frames][t]');
  return `[0:v:0]${steps.join(',')};[t]scale=-2:${THUMBNAIL_HEIGHT}:flags=area[thumbs]`;
}

export async function decodeToFrames(req: DecodeRequest): Promise<DecodeResult> {
  const { ffmpeg } = findTools();
  for (const d of [req.framesDir, req.thumbsDir]) await fsp.mkdir(path.dirname(d), { recursive: true }).catch((e) => { throw describeWriteError(e, d); });
  const tmpFrames = tempPathFor(req.framesDir, 'decoding');
  const tmpThumbs = tempPathFor(req.thumbsDir, 'decoding');
  await fsp.mkdir(tmpFrames);
  await fsp.mkdir(tmpThumbs);
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error', '-nostats', '-progress', 'pipe:1',
    '-i', req.video,
    '-filter_complex', decodeFilter(req),
    '-map', '[frames]', '-f', 'image2', '-start_number', '0', '-c:v', 'png', '-compression_level', '1', path.join(tmpFrames, '%05d.png'),
    '-map', '[thumbs]', '-f', 'image2', '-start_number', '0', '-q:v', '5', path.join(tmpThumbs, '%05d.jpg'),
  ];
  try {
    await runTool(ffmpeg, args, {
      cancel: req.cancel,
      onStdoutLine: (line) => {
        const m = /^frame=(\d+)/.exec(line);
        if (m && req.onProgress) req.onProgress(Math.min(0.999, Number(m[1]) / Math.max(1, req.expectedFrames)), `decoding frame ${m[1]} of ~${req.expectedFrames}`);
      },
    });
    const frameCount = (await fsp.readdir(tmpFrames)).filter((f) => f.endsWith('.png')).length;
    if (frameCount === 0) throw new UserError('no frame could be decoded (the video may be damaged or truncated)', req.video);
    await replaceWith(tmpFrames, req.framesDir);
    await replaceWith(tmpThumbs, req.thumbsDir);
    req.onProgress?.(1, `decoded ${frameCount} frames`);
    return { frameCount };
  } catch (err) {
    await fsp.rm(tmpFrames, { recursive: true, force: true });
    await fsp.rm(tmpThumbs, { recursive: true, force: true });
    if (err instanceof ToolError) {
      if (/No space left/i.test(err.detail)) throw new UserError('the disk is full while decoding frames; free some space and try again', req.framesDir);
      throw new UserError(`cannot decode the video: ${err.detail}`, req.video);
    }
    throw err;
  }
}
