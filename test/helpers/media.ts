// Test media made on the fly with ffmpeg's generators: videos of any size, rate, rotation, with or without audio.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'rerender-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface VideoSpec {
  width?: number;
  height?: number;
  fps?: number;
  frames?: number;
  audio?: boolean;
  /** Clockwise display rotation written into the container. */
  rotation?: 0 | 90 | 180 | 270;
  /** Drop every third frame's timestamp pattern to make a variable-frame-rate file. */
  variable?: boolean;
  codec?: 'libx264' | 'libvpx-vp9' | 'mpeg4';
  ext?: string;
}

/** A moving test pattern (testsrc2: texture + motion) with an optional sine tone. */
export function makeVideo(dir: string, name: string, spec: VideoSpec = {}): string {
  const { width = 160, height = 96, fps = 24, frames = 24, audio = false, rotation = 0, variable = false } = spec;
  const codec = spec.codec ?? 'libx264';
  const out = path.join(dir, `${name}.${spec.ext ?? (codec === 'libvpx-vp9' ? 'webm' : 'mp4')}`);
  const duration = frames / fps;
  const odd = width % 2 === 1 || height % 2 === 1;
  const args = ['-v', 'error', '-y'];
  if (variable) {
    // First half at fps, second half at a third of it: a real variable-frame-rate stream.
    const half = duration / 2;
    args.push('-filter_complex', `testsrc2=size=${width}x${height}:rate=${fps}:duration=${half}[a];testsrc2=size=${width}x${height}:rate=${fps / 3}:duration=${half}[b];[a][b]concat=n=2:v=1[v]`, '-map', '[v]');
    if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${duration}`, '-map', '0:a');
    args.push('-fps_mode', 'vfr');
  } else {
    // testsrc2 rounds sizes to even numbers; scale afterwards for odd sizes.
    args.push('-f', 'lavfi', '-i', `testsrc2=size=${width + (width % 2)}x${height + (height % 2)}:rate=${fps}:duration=${duration}`);
    if (audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${duration}`);
    if (odd) args.push('-vf', `scale=${width}:${height}`);
  }
  args.push('-c:v', codec);
  if (codec === 'libx264') args.push('-pix_fmt', odd ? 'yuv444p' : 'yuv420p');
  if (audio) args.push('-c:a', codec === 'libvpx-vp9' ? 'libopus' : 'aac', '-shortest');
  if (rotation) {
    // Written as container metadata by a remux, the way phones store portrait videos.
    const plain = out.replace(/(\.\w+)$/, '.plain$1');
    execFileSync('ffmpeg', [...args, plain]);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', `rotate=${rotation}`, out]);
    fs.rmSync(plain);
    return out;
  }
  args.push(out);
  execFileSync('ffmpeg', args);
  return out;
}

export interface StreamInfo { codec_type: string; codec_name: string; width?: number; height?: number; r_frame_rate?: string; nb_read_frames?: string; pix_fmt?: string }

export function ffprobeStreams(file: string): StreamInfo[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_streams', file], { encoding: 'utf8' });
  return JSON.parse(out).streams;
}

export interface SequenceSpec {
  count?: number;
  width?: number;
  height?: number;
  /** File name of frame k (0-based); default `0001.png` from 1. */
  name?: (k: number) => string;
}

/**
 * A folder of frames made by ffmpeg: frame k is a flat colour with red = 10·k (green 128, blue 255 − 10·k),
 * so a test can tell from the picture which frame it is. JPEG or PNG by the names' extension.
 */
export function makeImageSequence(dir: string, folder: string, spec: SequenceSpec = {}): string {
  const { count = 12, width = 160, height = 96, name = (k: number) => `${String(k + 1).padStart(4, '0')}.png` } = spec;
  const out = path.join(dir, folder);
  fs.mkdirSync(out, { recursive: true });
  const ext = path.extname(name(0)).toLowerCase() === '.png' ? 'png' : 'jpg';
  const made = fs.mkdtempSync(path.join(dir, '.frames-'));
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=black:size=${width}x${height}:rate=24`, '-vf', "format=rgb24,geq=r='10*N':g='128':b='255-10*N'",
    '-frames:v', String(count), '-start_number', '0', ...(ext === 'jpg' ? ['-q:v', '2'] : []), path.join(made, `%05d.${ext}`)]);
  for (let k = 0; k < count; k++) fs.renameSync(path.join(made, `${String(k).padStart(5, '0')}.${ext}`), path.join(out, name(k)));
  fs.rmSync(made, { recursive: true });
  return out;
}
