// Probing a video: size, display rotation, frame rate (incl. variable), frame count, duration, audio.
import fs from 'node:fs';
import { findTools, runTool, ToolError } from './ffmpeg';
import { parseRational, reduce } from '../frames';
import type { Rational } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';

/** Frame sides we accept: smaller has nothing to stylise, larger is beyond any camera (8K DCI is 8192 wide). */
export const MIN_SIDE = 16;
export const MAX_SIDE = 8192;

export interface VideoInfo {
  /** Display size: after applying the rotation. */
  width: number;
  height: number;
  /** Clockwise rotation the player applies (0, 90, 180, 270). */
  rotation: 0 | 90 | 180 | 270;
  /** Constant frame rate used for decoding (the average rate for variable-rate videos). */
  fps: Rational;
  variableFrameRate: boolean;
  /** Frames the container declares or the demuxer counted (decoding at `fps` may differ slightly for VFR). */
  frameCount: number;
  durationSeconds: number;
  hasAudio: boolean;
  codec: string;
  pixelFormat: string;
}

interface ProbeStream {
  codec_type?: string; codec_name?: string; width?: number; height?: number; pix_fmt?: string;
  r_frame_rate?: string; avg_frame_rate?: string; nb_frames?: string; nb_read_packets?: string; duration?: string;
  tags?: Record<string, string>; side_data_list?: Array<{ rotation?: number }>;
  disposition?: { attached_pic?: number };
}

function normaliseRotation(deg: number): 0 | 90 | 180 | 270 {
  const r = (((Math.round(deg / 90) * 90) % 360) + 360) % 360;
  return r as 0 | 90 | 180 | 270;
}

export async function probeVideo(file: string): Promise<VideoInfo> {
  let stat;
  try { stat = fs.statSync(file); } catch { throw new UserError('no such file', file); }
  if (!stat.isFile()) throw new UserError('not a file', file);
  if (stat.size === 0) throw new UserError('the file is empty (0 bytes)', file);
  const { ffprobe } = findTools();
  if (!ffprobe) throw new UserError('ffprobe was not found beside ffmpeg or on PATH; install ffmpeg (which includes ffprobe) or set RERENDER_FFPROBE');
  let json: { streams?: ProbeStream[]; format?: { duration?: string; format_name?: string } };
  try {
    const { stdout } = await runTool(ffprobe, ['-v', 'error', '-count_packets', '-print_format', 'json', '-show_streams', '-show_format', file]);
    json = JSON.parse(stdout);
  } catch (err) {
    if (err instanceof ToolError) throw new UserError(`not a readable video (it may be damaged, truncated or not a video): ${err.detail}`, file);
    throw err;
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const audioOnly = streams.some((s) => s.codec_type === 'audio');
    throw new UserError(audioOnly ? 'the file has audio but no video stream' : 'the file has no video stream', file);
  }
  if (!video.width || !video.height) throw new UserError('the video stream has no frame size (damaged file?)', file);
  if (video.width < MIN_SIDE || video.height < MIN_SIDE) throw new UserError(`the video is too small (${video.width}×${video.height}); Rerender needs at least ${MIN_SIDE}×${MIN_SIDE} pixels`, file);
  if (video.width > MAX_SIDE || video.height > MAX_SIDE) throw new UserError(`the video is too large (${video.width}×${video.height}); the largest supported frame is ${MAX_SIDE} pixels per side`, file);
  const sideRotation = video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  // The display matrix stores counter-clockwise degrees; the legacy `rotate` tag is clockwise.
  const rotation = normaliseRotation(sideRotation !== undefined ? -sideRotation : Number(video.tags?.rotate ?? 0));
  const swap = rotation === 90 || rotation === 270;
  const rFps = parseRational(video.r_frame_rate);
  const avgFps = parseRational(video.avg_frame_rate);
  const declared = Number(video.nb_frames) || Number(video.nb_read_packets) || 0;
  const duration = Number(video.duration) || Number(json.format?.duration) || 0;
  let fps = avgFps ?? rFps;
  if (!fps && declared > 0 && duration > 0) fps = reduce({ num: Math.round((declared / duration) * 1000), den: 1000 });
  if (!fps) throw new UserError('cannot tell the frame rate of the video', file);
  const variable = !!(rFps && avgFps && Math.abs(rFps.num / rFps.den - avgFps.num / avgFps.den) / (rFps.num / rFps.den) > 0.01);
  if (variable) fps = roundFps(avgFps!);
  const frameCount = declared || Math.round((duration * fps.num) / fps.den);
  if (frameCount <= 0) throw new UserError('the video has no frames', file);
  return {
    width: swap ? video.height : video.width,
    height: swap ? video.width : video.height,
    rotation,
    fps,
    variableFrameRate: variable,
    frameCount,
    durationSeconds: duration || (frameCount * fps.den) / fps.num,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    codec: video.codec_name ?? 'unknown',
    pixelFormat: video.pix_fmt ?? 'unknown',
  };
}

/** A variable-rate video is resampled to its average rate, rounded to 1/100 fps (or an NTSC rate). */
function roundFps(r: Rational): Rational {
  const v = r.num / r.den;
  for (const base of [24, 30, 60]) if (Math.abs(v - (base * 1000) / 1001) < 0.01) return { num: base * 1000, den: 1001 };
  return reduce({ num: Math.max(1, Math.round(v * 100)), den: 100 });
}
