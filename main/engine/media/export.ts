// Exporting frames to MP4 (H.264), WebM (VP9), GIF, ProRes 422 HQ in a MOV or a PNG sequence, at the project's
// rate or with the source's own frame times, with the source's audio and subtitle tracks where the container
// holds them.
// Written to a temp file, checked (probed: every frame there) and only then moved into place; an export
// never replaces what the app did not write, and replaces an earlier export only when the user says so.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findTools, hasEncoder, runTool, ToolError, toolProblem } from './ffmpeg';
import { countVideoPackets, type StreamSummary } from './probe';
import { imageConcatList } from './concat-list';
import { formatRational } from '../frames';
import type { Rational } from '../../../preload/project-schema';
import { CancelToken, ProgressFn, UserError } from '../../../native-models/src/errors';
import { describeWriteError, folderReplaceRefusal, moveFileIntoPlace, moveFolderIntoPlace, removeLeftovers, tempPathFor, type OwnedFolder } from '../fs/atomic';
import { diskFullError, freeBytes, isDiskFull, requireFreeSpace } from '../fs/disk-space';
import { requireRegularFile } from '../fs/regular-file';

import type { ExportFormat } from '../../../preload/project-schema';

export type { ExportFormat } from '../../../preload/project-schema';

/** Each video format in the user's words and its file extension (PNG frames go into a folder). */
const VIDEO_FORMATS: Record<Exclude<ExportFormat, 'png'>, { label: string; ext: string }> = {
  mp4: { label: 'MP4', ext: 'mp4' }, webm: { label: 'WebM', ext: 'webm' }, gif: { label: 'GIF', ext: 'gif' }, prores: { label: 'ProRes', ext: 'mov' },
};
/** Frame numbers a PNG sequence may start from (editors expect 0, 1, or a timecode's frame like 86400). */
export const MAX_START_NUMBER = 99_999_999;

/** The file every frames export of ours holds, so a later export may replace it and nothing else. */
export const EXPORT_MARKER = '.rerender-export';
export const FRAMES_EXPORT: OwnedFolder = { owns: (n) => /^\d{5,}\.png$/.test(n), marker: EXPORT_MARKER, what: 'a frames export' };
/** How to confirm replacing an earlier export, for the error that asks. */
export const HOW_TO_REPLACE = 'replace it with --force (the editor asks first), or choose another name';

export interface ExportAudio {
  /** The source video, whose audio and subtitle tracks are taken. */
  file: string;
  /** Time in the source file of the first exported frame, in seconds. */
  startSeconds: number;
  audioStreams: StreamSummary[];
  subtitleStreams: StreamSummary[];
}

export interface ExportRequest {
  out: string;
  format: ExportFormat;
  width: number;
  height: number;
  /** The project's rate: the constant output rate, or the average rate when frame times are given. */
  fps: Rational;
  /** Frame indices to write, in order (the whole video or a range). */
  frames: number[];
  /** The image for a frame (an output frame, or the source frame where allowed). */
  frameFile(index: number): string;
  /** Source frame for the side-by-side view; when given, output is [source | result]. */
  sourceFrameFile?: (index: number) => string;
  /** Each frame's time in microseconds (the source's own times); absent: a constant rate at `fps`. */
  frameTimes?: (index: number) => number;
  /** Tracks muxed in from the source, cut to the exported range. */
  audio?: ExportAudio;
  /** The user confirmed replacing an existing export at `out` (`--force`, or the editor's dialog). */
  overwrite?: boolean;
  /** PNG frames: the first file's number (default 0); names are padded to one width, at least 5 digits. */
  startNumber?: number;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

export interface ExportResult {
  out: string;
  frames: number;
  /** Tracks of the source the format cannot hold, in the user's words ("subtitle track 2 (hdmv_pgs_subtitle)"). */
  leftOut: string[];
}

export function formatFromPath(file: string): ExportFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mp4' || ext === '.m4v') return 'mp4';
  if (ext === '.mov') return 'prores';
  if (ext === '.webm') return 'webm';
  if (ext === '.gif') return 'gif';
  if (ext === '' || ext === '.png') return 'png';
  return undefined;
}

/**
 * A file named for one format never holds another (ProRes in a .mp4, MP4 in a .mov or .mkv): refused, naming
 * both and the name to use, for the CLI and the editor alike (both call checkExportDestination first).
 */
export function checkNameMatchesFormat(out: string, format: ExportFormat): void {
  const ext = path.extname(out).toLowerCase();
  const named = formatFromPath(out);
  if (format === 'png') {
    if (named && named !== 'png') throw new UserError(`a PNG frames export goes into a folder, but the name ends ${ext} (a ${VIDEO_FORMATS[named].label} file); choose a folder name without it, or the ${VIDEO_FORMATS[named].label} format`, out);
    return;
  }
  if (named === format) return;
  const { label, ext: want } = VIDEO_FORMATS[format];
  const stem = ext ? out.slice(0, -ext.length) : out;
  const holds = named && named !== 'png' ? ` is for ${VIDEO_FORMATS[named].label}` : ext ? ' is not one a player expects for it' : ' is missing';
  throw new UserError(`${label === 'MP4' ? 'an' : 'a'} ${label} export needs a name ending .${want}: the extension${ext ? ` ${ext}` : ''}${holds}; use ${path.basename(stem)}.${want}${named && named !== 'png' ? `, or the ${VIDEO_FORMATS[named].label} format` : ''}`, out);
}

/**
 * Whether an export may write `out` (called before any work, and by the editor before it starts the job):
 * a frames export needs a new, empty or earlier-export folder; a video an absent file, or `overwrite`.
 */
export function checkExportDestination(out: string, format: ExportFormat, overwrite = false): void {
  const target = path.resolve(out);
  if (format === 'png') {
    checkNameMatchesFormat(target, format);
    const refusal = folderReplaceRefusal(target, FRAMES_EXPORT);
    if (refusal) throw new UserError(refusal, target);
    if (fs.existsSync(target) && fs.readdirSync(target).length > 0 && !overwrite) throw new UserError(`an earlier frames export is in this folder; ${HOW_TO_REPLACE}`, target);
    return;
  }
  const stat = fs.lstatSync(target, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw new UserError(`this is a folder; a ${VIDEO_FORMATS[format].label} export needs a file name (e.g. ${path.join(target, `result.${VIDEO_FORMATS[format].ext}`)})`, target);
  checkNameMatchesFormat(target, format);
  if (!stat) return;
  if (!stat.isFile()) throw new UserError('something that is not a regular file exists at that name; choose another name', target);
  if (!overwrite) throw new UserError(`the file already exists; ${HOW_TO_REPLACE}`, target);
}

/** Text subtitles convert to MP4's and MOV's mov_text and WebM's WebVTT; bitmap ones (DVD, Blu-ray) cannot. */
const TEXT_SUBTITLES = new Set(['subrip', 'srt', 'ass', 'ssa', 'mov_text', 'webvtt', 'text']);

/** Which source tracks go into the export (as ffmpeg -map arguments) and which the format cannot hold. */
function trackPlan(format: ExportFormat, audio: ExportAudio | undefined): { maps: string[]; codecs: string[]; leftOut: string[] } {
  const leftOut: string[] = [];
  const maps: string[] = [];
  if (!audio) return { maps, codecs: [], leftOut };
  const name = (kind: string, i: number, s: StreamSummary, list: StreamSummary[]) => `${kind}${list.length > 1 ? ` track ${i + 1}` : ''} (${s.codec}${s.language ? `, ${s.language}` : ''})`;
  const video = format !== 'png' && format !== 'gif';
  audio.audioStreams.forEach((s, i) => {
    if (video) maps.push('-map', `1:a:${i}`);
    else leftOut.push(`${name('audio', i, s, audio.audioStreams)}: ${format.toUpperCase()} holds no sound`);
  });
  audio.subtitleStreams.forEach((s, i) => {
    if (!video) leftOut.push(`${name('subtitles', i, s, audio.subtitleStreams)}: ${format.toUpperCase()} holds no subtitles`);
    else if (!TEXT_SUBTITLES.has(s.codec)) leftOut.push(`${name('subtitles', i, s, audio.subtitleStreams)}: picture subtitles cannot go into ${format.toUpperCase()}`);
    else maps.push('-map', `1:s:${i}`);
  });
  const codecs = format === 'mp4' ? ['-c:a', 'aac', '-b:a', '192k', '-c:s', 'mov_text']
    : format === 'webm' ? ['-c:a', 'libopus', '-b:a', '128k', '-c:s', 'webvtt']
    // Uncompressed for editing: 24-bit where the source has more than 16 bits per sample, else 16-bit.
    : format === 'prores' ? [...audio.audioStreams.flatMap((s, i) => [`-c:a:${i}`, (s.bits ?? 0) > 16 ? 'pcm_s24le' : 'pcm_s16le']), '-c:s', 'mov_text']
    : [];
  return { maps, codecs, leftOut };
}

/** Rec. 709 tags for the encoder (the filter graph converts to it), so MP4, WebM and MOV all say what they hold. */
const BT709_TAGS = ['-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv'];

function encoderArgs(format: Exclude<ExportFormat, 'png'>): string[] {
  switch (format) {
    case 'mp4': {
      const video = hasEncoder('libx264') ? ['-c:v', 'libx264', '-preset', 'medium', '-crf', '18'] : ['-c:v', 'mpeg4', '-q:v', '2'];
      return [...video, '-pix_fmt', 'yuv420p', ...BT709_TAGS, '-movflags', '+faststart', '-f', 'mp4'];
    }
    case 'webm':
      return ['-c:v', 'libvpx-vp9', '-crf', '32', '-b:v', '0', '-deadline', 'good', '-cpu-used', '4', '-row-mt', '1', '-pix_fmt', 'yuv420p', ...BT709_TAGS, '-f', 'webm'];
    case 'gif':
      return ['-loop', '0', '-f', 'gif'];
    case 'prores':
      // ProRes 422 HQ (profile 3), 10-bit 4:2:2 (converted to Rec. 709 in the filter graph), Apple's vendor id.
      if (!hasEncoder('prores_ks')) throw new UserError('this ffmpeg has no ProRes encoder (prores_ks); install a full ffmpeg build or set RERENDER_FFMPEG to one');
      return ['-c:v', 'prores_ks', '-profile:v', '3', '-vendor', 'apl0', '-pix_fmt', 'yuv422p10le', ...BT709_TAGS, '-f', 'mov'];
  }
}

/** The frames' file names of a PNG export: numbered from `start`, all as wide as the last (at least 5 digits). */
export function pngExportNames(count: number, start = 0): { name(k: number): string; pattern: string } {
  const width = Math.max(5, String(start + count - 1).length);
  return { name: (k) => `${String(start + k).padStart(width, '0')}.png`, pattern: `%0${width}d.png` };
}

export async function exportFrames(req: ExportRequest): Promise<ExportResult> {
  if (req.frames.length === 0) throw new UserError('nothing to export: the frame range is empty');
  if (req.startNumber !== undefined) {
    if (req.format !== 'png') throw new UserError('a start number is for PNG frames: video files have no numbered frames');
    if (!Number.isInteger(req.startNumber) || req.startNumber < 0 || req.startNumber + req.frames.length - 1 > MAX_START_NUMBER) {
      throw new UserError(`the start number must be a whole number from 0 to ${MAX_START_NUMBER - req.frames.length + 1} for ${req.frames.length} frames, got ${req.startNumber}`);
    }
  }
  const out = path.resolve(req.out);
  checkExportDestination(out, req.format, req.overwrite);
  for (const i of req.frames) {
    requireRegularFile(req.frameFile(i), `image for frame ${i}`);
    if (req.sourceFrameFile) requireRegularFile(req.sourceFrameFile(i), `source image for frame ${i}`);
  }
  await fsp.mkdir(path.dirname(out), { recursive: true }).catch((e) => { throw describeWriteError(e, out); });
  await removeLeftovers(path.dirname(out)); // an export killed earlier left its temp file here
  // PNG frames already at the export size are copied as they are; others are scaled by ffmpeg.
  if (req.format === 'png' && !req.sourceFrameFile && pngSizeIs(req.frameFile(req.frames[0]), req.width, req.height)) return copyPngSequence(req, out);
  return encode(req, out);
}

/** Whether a PNG file's header (IHDR) says it is `width`×`height`. */
function pngSizeIs(file: string, width: number, height: number): boolean {
  const head = Buffer.alloc(24);
  const fd = fs.openSync(file, 'r');
  try { fs.readSync(fd, head, 0, 24, 0); } finally { fs.closeSync(fd); }
  return head.toString('latin1', 12, 16) === 'IHDR' && head.readUInt32BE(16) === width && head.readUInt32BE(20) === height;
}

/** Frames exported as they are: copies of the PNG files (bit for bit), into a temp folder moved into place. */
async function copyPngSequence(req: ExportRequest, out: string): Promise<ExportResult> {
  const bytes = req.frames.reduce((n, i) => n + fs.statSync(req.frameFile(i)).size, 0);
  requireFreeSpace(path.dirname(out), bytes, `exporting ${req.frames.length} frames`);
  const tmp = tempPathFor(out, 'exporting');
  await fsp.mkdir(tmp).catch((e) => { throw describeWriteError(e, out); });
  try {
    const names = pngExportNames(req.frames.length, req.startNumber);
    for (let k = 0; k < req.frames.length; k++) {
      req.cancel?.throwIfCancelled();
      await fsp.copyFile(req.frameFile(req.frames[k]), path.join(tmp, names.name(k)));
      req.onProgress?.((k + 1) / req.frames.length, `frame ${k + 1} of ${req.frames.length}`);
    }
    await markAsExport(tmp, req.frames.length, req.startNumber);
    await moveFolderIntoPlace(tmp, out, FRAMES_EXPORT);
    return { out, frames: req.frames.length, leftOut: trackPlan('png', req.audio).leftOut };
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    if (isDiskFull(err)) throw diskFullError(path.dirname(out), `exporting ${req.frames.length} frames`, bytes, 'the earlier export was kept');
    throw describeWriteError(err, out);
  }
}

async function markAsExport(dir: string, frames: number, startNumber = 0): Promise<void> {
  await fsp.writeFile(path.join(dir, EXPORT_MARKER), JSON.stringify({ app: 'rerender', frames, startNumber, createdAt: new Date().toISOString() }) + '\n');
}

/** Everything ffmpeg encodes: videos, and side-by-side frames (composed by ffmpeg's hstack). */
async function encode(req: ExportRequest, out: string): Promise<ExportResult> {
  const { ffmpeg } = findTools();
  const png = req.format === 'png';
  if (req.format === 'prores') {
    // ProRes is near constant-rate and large (HQ: about 0.45 bytes per pixel per frame); never below this.
    const pixels = req.width * req.height * (req.sourceFrameFile ? 2 : 1);
    requireFreeSpace(path.dirname(out), Math.round(req.frames.length * pixels * 0.15), `a ProRes export of ${req.frames.length} frames`);
  }
  const tmp = tempPathFor(out, 'exporting');
  const lists = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-export-'));
  const times = req.frames.map((i) => (req.frameTimes ? req.frameTimes(i) : Math.round((i * req.fps.den * 1e6) / req.fps.num)));
  const resultList = path.join(lists, 'result.ffconcat');
  await fsp.writeFile(resultList, imageConcatList(req.frames.map(req.frameFile), times));
  const inputs = ['-f', 'concat', '-safe', '0', '-i', resultList];
  const size = `scale=${req.width}:${req.height}:flags=lanczos,setsar=1,format=rgb24`;
  let graph = `[0:v]${size}[v]`;
  if (req.sourceFrameFile) {
    const sourceList = path.join(lists, 'source.ffconcat');
    await fsp.writeFile(sourceList, imageConcatList(req.frames.map(req.sourceFrameFile), times));
    inputs.push('-f', 'concat', '-safe', '0', '-i', sourceList);
    graph = `[0:v]${size}[r];[1:v]${size}[s];[s][r]hstack[v]`;
  }
  if (req.format === 'gif') graph = graph.replace(/\[v\]$/, ',split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=3[v]');
  // RGB to Rec. 709 studio range (ProRes 10-bit 4:2:2, MP4 and WebM 8-bit 4:2:0), tagged so in the stream
  // and the container (swscale would use the BT.601 matrix and tag nothing otherwise).
  const yuv = req.format === 'prores' ? 'yuv422p10le' : req.format === 'mp4' || req.format === 'webm' ? 'yuv420p' : undefined;
  if (yuv) graph = graph.replace(/\[v\]$/, `,scale=out_color_matrix=bt709:out_range=tv,format=${yuv},setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv[v]`);
  const plan = trackPlan(req.format, req.audio);
  const audioIndex = req.sourceFrameFile ? 2 : 1;
  const durationSeconds = (times[times.length - 1] - times[0]) / 1e6 + req.fps.den / req.fps.num;
  const tracks = plan.maps.length
    ? ['-ss', req.audio!.startSeconds.toFixed(6), '-t', durationSeconds.toFixed(6), '-i', req.audio!.file]
    : [];
  // Constant rate: snapped to the exact grid. Source times: kept as they are (µs), the last frame lasting one average frame.
  const timing = png ? ['-fps_mode', 'passthrough']
    : req.frameTimes ? ['-fps_mode', 'passthrough', '-r', formatRational(req.fps), '-enc_time_base:v', '1/1000000']
    : ['-fps_mode', 'cfr', '-r', formatRational(req.fps)];
  if (png) await fsp.mkdir(tmp).catch((e) => { throw describeWriteError(e, out); });
  const args = [
    '-hide_banner', '-nostdin', '-v', 'error', '-nostats', '-progress', 'pipe:1', '-y',
    ...inputs, ...tracks,
    '-filter_complex', graph, '-map', '[v]', ...plan.maps.map((m) => m.replace(/^1:/, `${audioIndex}:`)),
    ...timing,
    ...(png ? ['-f', 'image2', '-start_number', String(req.startNumber ?? 0), '-c:v', 'png', path.join(tmp, pngExportNames(req.frames.length, req.startNumber).pattern)]
      : [...plan.codecs, ...encoderArgs(req.format as Exclude<ExportFormat, 'png'>), tmp]),
  ];
  let encoded = 0;
  try {
    await runTool(ffmpeg, args, {
      cancel: req.cancel,
      onStdoutLine: (line) => {
        const m = /^frame=(\d+)/.exec(line);
        if (!m) return;
        encoded = Number(m[1]);
        req.onProgress?.(Math.min(0.99, encoded / req.frames.length), `encoding frame ${encoded} of ${req.frames.length}`);
      },
    });
    // ffmpeg can exit 0 after "No space left on device" while writing the trailer: check what it wrote.
    const written = png ? fs.readdirSync(tmp).filter((n) => n.endsWith('.png')).length
      : findTools().ffprobe ? await countVideoPackets(tmp) : req.frames.length; // without ffprobe only ffmpeg's word is there
    if (written !== req.frames.length) {
      const free = freeBytes(path.dirname(out)) ?? Infinity;
      const size = png ? 0 : fs.statSync(tmp, { throwIfNoEntry: false })?.size ?? 0;
      if (free < Math.max(1 << 20, size)) throw Object.assign(new Error('No space left on device'), { code: 'ENOSPC' });
      throw new UserError(`the export is incomplete: ffmpeg wrote ${written ?? 'no readable'} of ${req.frames.length} frames; nothing was replaced`, out);
    }
    if (png) {
      await markAsExport(tmp, req.frames.length, req.startNumber);
      await moveFolderIntoPlace(tmp, out, FRAMES_EXPORT);
    } else {
      await moveFileIntoPlace(tmp, out, { replace: !!req.overwrite, howToReplace: HOW_TO_REPLACE });
    }
    req.onProgress?.(1, 'export finished');
    return { out, frames: req.frames.length, leftOut: plan.leftOut };
  } catch (err) {
    const size = fs.statSync(tmp, { throwIfNoEntry: false })?.size ?? 0;
    await fsp.rm(tmp, { recursive: true, force: true });
    if (isDiskFull(err)) {
      const needed = size * (req.frames.length / Math.max(1, Math.min(encoded, req.frames.length))) * 1.1;
      throw diskFullError(path.dirname(out), `this export`, Math.round(needed), 'the earlier export was kept');
    }
    if (err instanceof ToolError) throw new UserError(`cannot export ${path.basename(out)}: ${toolProblem(err, 'exporting')}`, out, `ffmpeg: ${err.detail}`);
    throw err;
  } finally {
    await fsp.rm(lists, { recursive: true, force: true });
  }
}
