// Probing a video: display size (pixel aspect and rotation applied), frame rate (incl. variable), the
// frames the container announces and holds, duration, start offset, audio and subtitle streams.
import { findTools, runTool, ToolError } from './ffmpeg';
import { ntscRate, parseRational, reduce } from '../frames';
import type { Rational } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { MAX_IMAGE_SIDE } from '../../../native-models/src/image';
import { requireRegularFile } from '../fs/regular-file';

/** Frame sides we accept: smaller has nothing to stylise, larger is beyond any camera (8K DCI is 8192 wide). */
export const MIN_SIDE = 16;
export const MAX_SIDE = MAX_IMAGE_SIDE;
/** More frames than this (about 23 hours at 24 fps) is beyond what a frame cache can hold. */
export const MAX_FRAMES = 2_000_000;

/** Frames a decode may differ from what a container announces without being called truncated. */
export function frameTolerance(announced: number): number {
  return Math.max(2, Math.ceil(announced * 0.01));
}

export interface VideoInfo {
  /** Display size: square pixels (the pixel aspect applied, as decoding does), after the rotation. */
  width: number;
  height: number;
  /** Size as stored, and the pixel aspect (4:3 for an anamorphic 720×480 that shows as 960×480). */
  storedWidth: number;
  storedHeight: number;
  pixelAspect: Rational;
  /** Clockwise rotation the player applies (0, 90, 180, 270). */
  rotation: 0 | 90 | 180 | 270;
  /** Constant frame rate, or the average rate for variable-rate videos. */
  fps: Rational;
  variableFrameRate: boolean;
  /** Frames expected from decoding every frame once (announced, else counted). */
  frameCount: number;
  /** Frames the container announces (header count, else duration × rate); undefined when it says nothing. */
  announcedFrames: number | undefined;
  durationSeconds: number;
  /** When the first video frame comes after the start of the file (audio first), in seconds. */
  videoStartSeconds: number;
  hasAudio: boolean;
  /** Every audio and subtitle stream: index in its kind, codec and language where tagged. */
  audioStreams: StreamSummary[];
  subtitleStreams: StreamSummary[];
  codec: string;
  pixelFormat: string;
}

export interface StreamSummary {
  codec: string;
  language?: string;
  /** Audio: bits per sample where the stream says (24 for 24-bit PCM or FLAC; absent for AAC, Opus, MP3). */
  bits?: number;
}

interface ProbeStream {
  codec_type?: string; codec_name?: string; width?: number; height?: number; pix_fmt?: string; sample_aspect_ratio?: string;
  r_frame_rate?: string; avg_frame_rate?: string; bits_per_sample?: number; bits_per_raw_sample?: string; nb_frames?: string; nb_read_packets?: string; duration?: string; start_time?: string;
  tags?: Record<string, string>; side_data_list?: Array<{ rotation?: number }>;
  disposition?: { attached_pic?: number };
}

function normaliseRotation(deg: number): 0 | 90 | 180 | 270 {
  const r = (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
  return r as 0 | 90 | 180 | 270;
}

/**
 * Rotation as ffprobe prints it and users read it ("displaymatrix: rotation of 90.00 degrees", the
 * counter-clockwise angle in (-180, 180]), from our clockwise value.
 */
export function ffprobeRotation(clockwise: 0 | 90 | 180 | 270): number {
  return clockwise === 0 ? 0 : clockwise === 180 ? 180 : clockwise === 90 ? -90 : 90;
}

/** "00:01:02.500000000" (Matroska's DURATION tag) → seconds. */
function parseClock(text: string | undefined): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text ?? '');
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/** Display size of stored pixels with aspect `sar` (the decoder's filter stretches the same way). */
function squarePixelSize(w: number, h: number, sar: Rational): { width: number; height: number } {
  const a = sar.num / sar.den;
  return { width: a > 1 ? Math.round(w * a) : w, height: a < 1 ? Math.round(h / a) : h };
}

export async function probeVideo(file: string): Promise<VideoInfo> {
  const stat = requireRegularFile(file, 'video');
  if (stat.size === 0) throw new UserError('the file is empty (0 bytes)', file);
  const { ffprobe } = findTools();
  if (!ffprobe) throw new UserError('ffprobe was not found beside ffmpeg or on PATH; install ffmpeg (which includes ffprobe) or set RERENDER_FFPROBE');
  let json: { streams?: ProbeStream[]; format?: { duration?: string; start_time?: string } };
  try {
    const { stdout } = await runTool(ffprobe, ['-v', 'error', '-count_packets', '-print_format', 'json', '-show_streams', '-show_format', file]);
    json = JSON.parse(stdout);
  } catch (err) {
    if (err instanceof ToolError) throw new UserError('not a readable video: ffprobe recognises no video format in it (the file may be damaged, incomplete, or not a video at all)', file, `ffprobe: ${err.detail}`);
    throw err;
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const audioOnly = streams.some((s) => s.codec_type === 'audio');
    throw new UserError(audioOnly ? 'the file has audio but no video stream' : 'the file has no video stream', file);
  }
  if (!video.width || !video.height) throw new UserError('the video stream has no frame size (damaged file?)', file);
  const sar = parseRational(video.sample_aspect_ratio?.replace(':', '/')) ?? { num: 1, den: 1 };
  const square = squarePixelSize(video.width, video.height, sar);
  const sides = [video.width, video.height, square.width, square.height];
  if (Math.min(...sides) < MIN_SIDE) throw new UserError(`the video is too small (${video.width}×${video.height}); Rerender needs at least ${MIN_SIDE}×${MIN_SIDE} pixels`, file);
  if (Math.max(...sides) > MAX_SIDE) throw new UserError(`the video is too large (${square.width}×${square.height}); the largest supported frame is ${MAX_SIDE} pixels per side`, file);
  const sideRotation = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  // The display matrix stores counter-clockwise degrees; the legacy `rotate` tag is clockwise.
  const rotation = normaliseRotation(sideRotation !== undefined ? -sideRotation : Number(video.tags?.rotate ?? 0));
  const swap = rotation === 90 || rotation === 270;
  const rFps = parseRational(video.r_frame_rate);
  const avgFps = parseRational(video.avg_frame_rate);
  const counted = Number(video.nb_read_packets) || 0;
  const duration = Number(video.duration) || parseClock(video.tags?.DURATION) || Number(json.format?.duration) || 0;
  let fps = avgFps ?? rFps;
  if (!fps && counted > 0 && duration > 0) fps = reduce({ num: Math.round((counted / duration) * 1000), den: 1000 });
  if (!fps) throw new UserError('cannot tell the frame rate of the video', file);
  const variable = !!(rFps && avgFps && Math.abs(rFps.num / rFps.den - avgFps.num / avgFps.den) / (rFps.num / rFps.den) > 0.01);
  if (variable) fps = roundFps(avgFps!);
  // What the container says it holds: its header count, else its video duration at the frame rate.
  const streamDuration = Number(video.duration) || parseClock(video.tags?.DURATION);
  const announcedFrames = Number(video.nb_frames) || (streamDuration ? Math.round((streamDuration * fps.num) / fps.den) : undefined);
  const frameCount = announcedFrames || counted || Math.round((duration * fps.num) / fps.den);
  if (frameCount <= 0) throw new UserError('the video has no frames', file);
  if (frameCount > MAX_FRAMES) throw new UserError(`the video has ${frameCount} frames; a project holds at most ${MAX_FRAMES} (cut it into parts first)`, file);
  const summary = (s: ProbeStream): StreamSummary => {
    const bits = Number(s.bits_per_raw_sample) || Number(s.bits_per_sample) || 0;
    return { codec: s.codec_name ?? 'unknown', ...(s.tags?.language ? { language: s.tags.language } : {}), ...(bits ? { bits } : {}) };
  };
  const audioStreams = streams.filter((s) => s.codec_type === 'audio').map(summary);
  return {
    width: swap ? square.height : square.width,
    height: swap ? square.width : square.height,
    storedWidth: video.width,
    storedHeight: video.height,
    pixelAspect: sar,
    rotation,
    fps,
    variableFrameRate: variable,
    frameCount,
    announcedFrames,
    durationSeconds: duration || (frameCount * fps.den) / fps.num,
    videoStartSeconds: Math.max(0, (Number(video.start_time) || 0) - (Number(json.format?.start_time) || 0)),
    hasAudio: audioStreams.length > 0,
    audioStreams,
    subtitleStreams: streams.filter((s) => s.codec_type === 'subtitle').map(summary),
    codec: video.codec_name ?? 'unknown',
    pixelFormat: video.pix_fmt ?? 'unknown',
  };
}

/** Video packets in a file we wrote (an export being checked), or undefined when it cannot be read (no index). */
export async function countVideoPackets(file: string): Promise<number | undefined> {
  const { ffprobe } = findTools();
  if (!ffprobe) return undefined;
  try {
    const { stdout } = await runTool(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', file]);
    const n = Number(stdout.trim().split(/\s+/)[0]);
    return Number.isFinite(n) && stdout.trim() !== '' ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A variable-rate video resampled on request goes to its average rate, rounded to 1/100 fps (or an NTSC rate). */
function roundFps(r: Rational): Rational {
  const v = r.num / r.den;
  return ntscRate(v) ?? reduce({ num: Math.max(1, Math.round(v * 100)), den: 100 });
}
