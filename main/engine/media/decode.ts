// Decoding a video (or an image sequence) to the frame cache at the working resolution, with timeline
// thumbnails, in one streaming ffmpeg pass (memory does not grow with video length). Every source frame
// is written once, with its time (frame-times.txt), unless the user chose to resample to a constant rate.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { findTools, runTool, ToolError, toolProblem } from './ffmpeg';
import { imageConcatList } from './concat-list';
import { formatRational } from '../frames';
import type { Crop, Rational } from '../../../preload/project-schema';
import { CancelToken, ProgressFn, UserError } from '../../../native-models/src/errors';
import { moveFolderIntoPlace, tempPathFor, describeWriteError, removeLeftovers, type OwnedFolder } from '../fs/atomic';
import { diskFullError, isDiskFull, requireFreeSpace } from '../fs/disk-space';
import { requireRegularFile } from '../fs/regular-file';
import { count } from '../../../preload/plural';

export const THUMBNAIL_HEIGHT = 64;
/** Each frame's presentation time in microseconds from the start of the file, one per line. */
export const FRAME_TIMES_FILE = 'frame-times.txt';

/** The frame cache's folders hold only the numbered images (and the frame times) decoding writes. */
export const FRAMES_FOLDER: OwnedFolder = { owns: (n) => /^\d{5,}\.png$/.test(n) || n === FRAME_TIMES_FILE, what: 'the frame cache' };
export const THUMBS_FOLDER: OwnedFolder = { owns: (n) => /^\d{5,}\.jpg$/.test(n), what: 'the thumbnail cache' };

export interface DecodeRequest {
  /** The source video, or the folder of an image sequence (then `frames` lists its files). */
  video: string;
  /** An image sequence's files in frame order, one frame each at `fps`. */
  frames?: string[];
  framesDir: string;
  thumbsDir: string;
  width: number;
  height: number;
  crop: Crop | null;
  /** The project's rate: the output rate when resampling. */
  fps: Rational;
  /** Resample to `fps` (the user's choice for variable-rate sources); otherwise every frame once. */
  resample: boolean;
  /** For progress and the disk-space check: frames expected. */
  expectedFrames: number;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

export interface DecodeResult { frameCount: number }

/** Stretches anamorphic pixels to square ones without losing resolution (a no-op when they are square). */
const SQUARE_PIXELS = "scale='if(gt(sar,1),round(iw*sar),iw)':'if(lt(sar,1),round(ih/sar),ih)'";

/** The filter graph: crop → (resample) → scale to cover → centre-crop → times → split into frames and thumbnails. */
export function decodeFilter(req: Pick<DecodeRequest, 'width' | 'height' | 'crop' | 'fps' | 'resample'>): string {
  // Pixels are made square first (anamorphic sources), so the crop and the working size are in display pixels.
  const steps: string[] = [SQUARE_PIXELS, 'setsar=1'];
  if (req.crop) {
    const c = req.crop;
    steps.push(`crop=iw-${c.left + c.right}:ih-${c.top + c.bottom}:${c.left}:${c.top}`);
  }
  if (req.resample) steps.push(`fps=${formatRational(req.fps)}`);
  steps.push(`scale=${req.width}:${req.height}:force_original_aspect_ratio=increase:flags=lanczos`);
  steps.push(`crop=${req.width}:${req.height}`, 'setsar=1', 'format=rgb24');
  // Times in microseconds (settb), printed for every frame (print needs a metadata entry to print).
  steps.push('settb=1/1000000', 'metadata=mode=add:key=rerender:value=1', `metadata=mode=print:file=${FRAME_TIMES_FILE}.raw`);
  steps.push('split=2[frames][t]');
  return `[0:v:0]${steps.join(',')};[t]scale=-2:${THUMBNAIL_HEIGHT}:flags=area[thumbs]`;
}

/** Conservative bytes per frame (PNG at low compression of natural content rarely goes below this). */
const MIN_BYTES_PER_PIXEL = 0.3;

function folderBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const n of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!n.isFile()) continue;
    bytes += fs.statSync(path.join(dir, n.name)).size;
    files++;
  }
  return { bytes, files };
}

/** The times metadata=print wrote ("frame:N pts:P pts_time:T" lines) as microseconds, one per line. */
async function writeFrameTimes(raw: string, out: string, frames: number): Promise<void> {
  const text = await fsp.readFile(raw, 'utf8').catch(() => '');
  const times = [...text.matchAll(/^frame:\s*\d+\s+pts:\s*(-?\d+)/gm)].map((m) => Number(m[1]));
  await fsp.rm(raw, { force: true });
  if (times.length !== frames) return; // no times: exports fall back to the constant rate
  await fsp.writeFile(out, times.join('\n') + '\n');
}

/** The decoded frames' times (µs from the start of the file), or undefined when the cache has none. */
export function readFrameTimes(framesDir: string, count: number): number[] | undefined {
  let text: string;
  try { text = fs.readFileSync(path.join(framesDir, FRAME_TIMES_FILE), 'utf8'); } catch { return undefined; }
  const times = text.split('\n').filter((l) => l.trim() !== '').map(Number);
  if (times.length < count || times.some((t, i) => !Number.isFinite(t) || (i > 0 && t <= times[i - 1]))) return undefined;
  return times;
}

/** The concat list that reads an image sequence as a video, written into the decode's temp folder. */
const SEQUENCE_LIST = 'sequence.ffconcat';
async function sequenceList(files: string[], fps: Rational, dir: string): Promise<string> {
  const list = path.join(dir, SEQUENCE_LIST);
  await fsp.writeFile(list, imageConcatList(files, files.map((_, i) => Math.round((i * fps.den * 1e6) / fps.num))));
  return list;
}

export async function decodeToFrames(req: DecodeRequest): Promise<DecodeResult> {
  const { ffmpeg } = findTools();
  const video = path.resolve(req.video);
  if (!req.frames) requireRegularFile(video, 'source video');
  const framesDir = path.resolve(req.framesDir);
  const thumbsDir = path.resolve(req.thumbsDir);
  for (const d of [framesDir, thumbsDir]) {
    await fsp.mkdir(path.dirname(d), { recursive: true }).catch((e) => { throw describeWriteError(e, d); });
    await removeLeftovers(path.dirname(d)); // a killed decode's temp folders
  }
  requireFreeSpace(path.dirname(framesDir), Math.round(req.expectedFrames * req.width * req.height * MIN_BYTES_PER_PIXEL), `decoding ${req.expectedFrames} frames at ${req.width}×${req.height}`);
  const tmpFrames = tempPathFor(framesDir, 'decoding');
  const tmpThumbs = tempPathFor(thumbsDir, 'decoding');
  await fsp.mkdir(tmpFrames).catch((e) => { throw describeWriteError(e, framesDir); });
  await fsp.mkdir(tmpThumbs).catch((e) => { throw describeWriteError(e, thumbsDir); });
  const input = req.frames ? ['-f', 'concat', '-safe', '0', '-i', await sequenceList(req.frames, req.fps, tmpFrames)] : ['-i', video];
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error', '-nostats', '-progress', 'pipe:1',
    ...input,
    '-filter_complex', decodeFilter(req),
    '-fps_mode', 'passthrough', '-map', '[frames]', '-f', 'image2', '-start_number', '0', '-c:v', 'png', '-compression_level', '1', path.join(tmpFrames, '%05d.png'),
    '-fps_mode', 'passthrough', '-map', '[thumbs]', '-f', 'image2', '-start_number', '0', '-q:v', '5', path.join(tmpThumbs, '%05d.jpg'),
  ];
  let decoded = 0;
  try {
    await runTool(ffmpeg, args, {
      cancel: req.cancel,
      cwd: tmpFrames, // the frame times are written here by name: no path escaping inside the filter graph
      onStdoutLine: (line) => {
        const m = /^frame=(\d+)/.exec(line);
        if (!m) return;
        decoded = Number(m[1]);
        req.onProgress?.(Math.min(0.999, decoded / Math.max(1, req.expectedFrames)), `decoding frame ${m[1]} of ~${req.expectedFrames}`);
      },
    });
    if (req.frames) await fsp.rm(path.join(tmpFrames, SEQUENCE_LIST));
    const frameCount = (await fsp.readdir(tmpFrames)).filter((f) => f.endsWith('.png')).length;
    if (frameCount === 0) throw new UserError('no frame could be decoded (the video may be damaged or truncated)', video);
    await writeFrameTimes(path.join(tmpFrames, `${FRAME_TIMES_FILE}.raw`), path.join(tmpFrames, FRAME_TIMES_FILE), frameCount);
    await moveFolderIntoPlace(tmpFrames, framesDir, FRAMES_FOLDER);
    await moveFolderIntoPlace(tmpThumbs, thumbsDir, THUMBS_FOLDER);
    req.onProgress?.(1, `decoded ${count(frameCount, 'frame')}`);
    return { frameCount };
  } catch (err) {
    const written = fs.existsSync(tmpFrames) ? folderBytes(tmpFrames) : { bytes: 0, files: 0 };
    await fsp.rm(tmpFrames, { recursive: true, force: true });
    await fsp.rm(tmpThumbs, { recursive: true, force: true });
    if (isDiskFull(err)) {
      const perFrame = written.files ? written.bytes / written.files : req.width * req.height * MIN_BYTES_PER_PIXEL;
      throw diskFullError(path.dirname(framesDir), `decoding ${req.expectedFrames} frames`, Math.round(perFrame * req.expectedFrames * 1.1), 'the partial frames were removed');
    }
    if (err instanceof ToolError) throw new UserError(`cannot decode ${path.basename(video)}: ${toolProblem(err, 'decoding')}`, video, `ffmpeg: ${err.detail}`);
    throw err;
  }
}
