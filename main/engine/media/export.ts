// Exporting frames to MP4 (H.264), WebM (VP9), GIF or a PNG sequence at the project fps, with the
// source audio; written to a temp file and moved into place only on success.
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { findTools, ToolError, hasEncoder } from './ffmpeg';
import { formatRational } from '../frames';
import type { Rational } from '../../../preload/project-schema';
import { CancelToken, CancelledError, ProgressFn, UserError } from '../../../native-models/src/errors';
import { describeWriteError, replaceWith, tempPathFor } from '../fs/atomic';
import { frameFileName } from '../project/paths';

export type ExportFormat = 'mp4' | 'webm' | 'gif' | 'png';

export interface ExportRequest {
  out: string;
  format: ExportFormat;
  width: number;
  height: number;
  fps: Rational;
  /** Frame indices to write, in order (the whole video or a range). */
  frames: number[];
  /** The image for a frame (an output frame, or the source frame where allowed). */
  frameFile(index: number): string;
  /** Source frame for the side-by-side view; when given, output is [source | result]. */
  sourceFrameFile?: (index: number) => string;
  /** Video whose first audio stream is muxed in, offset to the first exported frame. */
  audioFrom?: string;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

export function formatFromPath(file: string): ExportFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mp4' || ext === '.m4v' || ext === '.mov') return 'mp4';
  if (ext === '.webm') return 'webm';
  if (ext === '.gif') return 'gif';
  if (ext === '' || ext === '.png') return 'png';
  return undefined;
}

async function readRgb(file: string, width: number, height: number): Promise<Buffer> {
  try {
    const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.width === width && info.height === height && info.channels === 3) return data;
    return await sharp(file).removeAlpha().resize(width, height, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    throw new UserError(`cannot read frame image: ${(err as Error).message}`, file);
  }
}

async function composeFrame(req: ExportRequest, index: number): Promise<Buffer> {
  const result = await readRgb(req.frameFile(index), req.width, req.height);
  if (!req.sourceFrameFile) return result;
  const source = await readRgb(req.sourceFrameFile(index), req.width, req.height);
  const row = req.width * 3;
  const both = Buffer.allocUnsafe(row * 2 * req.height);
  for (let y = 0; y < req.height; y++) {
    source.copy(both, y * row * 2, y * row, (y + 1) * row);
    result.copy(both, y * row * 2 + row, y * row, (y + 1) * row);
  }
  return both;
}

function encoderArgs(format: Exclude<ExportFormat, 'png'>, withAudio: boolean): string[] {
  switch (format) {
    case 'mp4': {
      const video = hasEncoder('libx264')
        ? ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18']
        : ['-c:v', 'mpeg4', '-q:v', '2'];
      return [...video, '-pix_fmt', 'yuv420p', '-movflags', '+faststart', ...(withAudio ? ['-c:a', 'aac', '-b:a', '192k'] : []), '-f', 'mp4'];
    }
    case 'webm':
      return ['-c:v', 'libvpx-vp9', '-crf', '32', '-b:v', '0', '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1', '-pix_fmt', 'yuv420p', ...(withAudio ? ['-c:a', 'libopus', '-b:a', '128k'] : []), '-f', 'webm'];
    case 'gif':
      return ['-filter_complex', '[0:v]split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=3', '-loop', '0', '-f', 'gif'];
  }
}

export async function exportFrames(req: ExportRequest): Promise<{ out: string; frames: number }> {
  if (req.frames.length === 0) throw new UserError('nothing to export: the frame range is empty');
  await fsp.mkdir(path.dirname(path.resolve(req.out)), { recursive: true }).catch((e) => { throw describeWriteError(e, req.out); });
  if (req.format === 'png') return exportPngSequence(req);
  return exportVideo(req as ExportRequest & { format: Exclude<ExportFormat, 'png'> });
}

async function exportPngSequence(req: ExportRequest): Promise<{ out: string; frames: number }> {
  const tmp = tempPathFor(path.resolve(req.out), 'exporting');
  await fsp.mkdir(tmp).catch((e) => { throw describeWriteError(e, req.out); });
  try {
    for (let i = 0; i < req.frames.length; i++) {
      req.cancel?.throwIfCancelled();
      const index = req.frames[i];
      const target = path.join(tmp, frameFileName(i));
      if (req.sourceFrameFile) {
        const rgb = await composeFrame(req, index);
        await sharp(rgb, { raw: { width: req.width * 2, height: req.height, channels: 3 } }).png().toFile(target);
      } else {
        await fsp.copyFile(req.frameFile(index), target).catch((e) => { throw describeWriteError(e, req.out); });
      }
      req.onProgress?.((i + 1) / req.frames.length, `frame ${i + 1} of ${req.frames.length}`);
    }
    await replaceWith(tmp, path.resolve(req.out));
    return { out: path.resolve(req.out), frames: req.frames.length };
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function exportVideo(req: ExportRequest & { format: Exclude<ExportFormat, 'png'> }): Promise<{ out: string; frames: number }> {
  const { ffmpeg } = findTools();
  const out = path.resolve(req.out);
  const tmp = tempPathFor(out, 'exporting');
  const width = req.sourceFrameFile ? req.width * 2 : req.width;
  const withAudio = !!req.audioFrom && req.format !== 'gif';
  const startSeconds = (req.frames[0] * req.fps.den) / req.fps.num;
  const args = [
    '-hide_banner', '-v', 'error', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${req.height}`, '-r', formatRational(req.fps), '-i', 'pipe:0',
    ...(withAudio ? ['-ss', startSeconds.toFixed(6), '-i', req.audioFrom!, '-map', '0:v:0', '-map', '1:a:0?', '-shortest'] : ['-map', '0:v:0']),
    ...encoderArgs(req.format, withAudio),
    tmp,
  ];
  const child = spawn(ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => { stderr = (stderr + c).slice(-32_000); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const spawnError = new Promise<never>((_, reject) => child.on('error', (e) => reject(new UserError(`cannot run ffmpeg: ${e.message}`))));
  let stdinBroken = false;
  child.stdin.on('error', () => { stdinBroken = true; });
  const cancelled = () => req.cancel?.cancelled ?? false;
  req.cancel?.onCancel(() => child.kill('SIGKILL'));
  try {
    for (let i = 0; i < req.frames.length && !stdinBroken && !cancelled(); i++) {
      const rgb = await composeFrame(req, req.frames[i]);
      if (!child.stdin.write(rgb)) await Promise.race([new Promise((r) => child.stdin.once('drain', r)), exited, spawnError]);
      req.onProgress?.(Math.min(0.99, (i + 1) / req.frames.length), `encoding frame ${i + 1} of ${req.frames.length}`);
    }
    child.stdin.end();
    const { code, signal } = await Promise.race([exited, spawnError]);
    if (cancelled()) throw new CancelledError();
    if (code !== 0) {
      const e = new ToolError('ffmpeg', code, signal, stderr);
      if (/No space left/i.test(stderr)) throw new UserError('the disk is full; free some space and export again (the earlier export was kept)', out);
      throw new UserError(`export failed: ${e.detail}`, out);
    }
    await replaceWith(tmp, out);
    req.onProgress?.(1, 'export finished');
    return { out, frames: req.frames.length };
  } catch (err) {
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}
