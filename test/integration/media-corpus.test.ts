// The files users bring, made here by ffmpeg: each codec and container keeps every frame once, its rate
// and its sound; anamorphic pixels, rotation, late or early video, variable rates, extra tracks and
// unicode names are handled as a player shows them. RERENDER_LOAD=1 adds a 4K and a 5-minute file.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createProject } from '../../main/engine/project/create';
import { exportProject } from '../../main/engine/project/export-project';
import { hasEncoder } from '../../main/engine/media/ffmpeg';
import { rerender } from '../helpers/cli';
import { tempDir, ffprobeStreams } from '../helpers/media';

const dir = tempDir('rerender-media-corpus-');
const ffmpeg = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: 'pipe' });
const pattern = (w: number, h: number, rate: string, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${rate}:duration=${seconds}`];
const tone = (seconds: number, hz = 440) => ['-f', 'lavfi', '-i', `sine=frequency=${hz}:sample_rate=48000:duration=${seconds}`];
/** Silence, then a tone from `at` seconds on: where the tone starts in an export shows whether sound and picture stay in sync. */
const beepAt = (at: number, seconds: number) => ['-f', 'lavfi', '-i', `aevalsrc='if(gte(t,${at}),sin(2*PI*1000*t),0)':s=48000:d=${seconds}`];

const video = (file: string) => ffprobeStreams(file).find((s) => s.codec_type === 'video')!;
const frameCount = (file: string) => Number(video(file).nb_read_frames);
const packetTimes = (file: string) => execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file], { encoding: 'utf8' })
  .trim().split('\n').map(Number).sort((a, b) => a - b);
const ffmpegLog = (...args: string[]) => spawnSync('ffmpeg', ['-hide_banner', ...args], { encoding: 'utf8' }).stderr;
/** Seconds from the start of `file` to the first sound (silencedetect's first silence end). */
function soundStarts(file: string): number {
  const m = /silence_end: ([\d.]+)/.exec(ffmpegLog('-i', file, '-af', 'silencedetect=n=-30dB:d=0.3', '-f', 'null', '-'));
  assert.ok(m, `no sound found in ${file}`);
  return Number(m[1]);
}
/** How alike two images are (dB; identical is infinite). */
function psnr(a: string, b: string): number {
  const m = /average:([\d.]+|inf)/.exec(ffmpegLog('-i', a, '-i', b, '-lavfi', 'psnr', '-f', 'null', '-'));
  assert.ok(m, `cannot compare ${a} and ${b}`);
  return m[1] === 'inf' ? Infinity : Number(m[1]);
}

async function project(name: string, file: string, size = 64) {
  return createProject(path.join(dir, `${name}.rerender`), file, { size });
}

interface Case { name: string; encoder?: string; make(file: string): void; ext: string; audio: boolean; fps: string }

const corpus: Case[] = [
  { name: 'H.264 8-bit with AAC', ext: 'mp4', audio: true, fps: '24/1', make: (f) => ffmpeg(...pattern(160, 96, '24', 1), ...tone(1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', f) },
  { name: 'H.264 10-bit', ext: 'mp4', audio: false, fps: '25/1', make: (f) => ffmpeg(...pattern(160, 96, '25', 1), '-c:v', 'libx264', '-pix_fmt', 'yuv420p10le', f) },
  { name: 'H.264 4:4:4', ext: 'mp4', audio: false, fps: '30/1', make: (f) => ffmpeg(...pattern(160, 96, '30', 1), '-c:v', 'libx264', '-pix_fmt', 'yuv444p', f) },
  { name: 'HEVC', encoder: 'libx265', ext: 'mp4', audio: false, fps: '24/1', make: (f) => ffmpeg(...pattern(160, 96, '24', 1), '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1', f) },
  { name: 'VP9 with Opus', encoder: 'libvpx-vp9', ext: 'webm', audio: true, fps: '25/1', make: (f) => ffmpeg(...pattern(160, 96, '25', 1), ...tone(1), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-c:a', 'libopus', '-shortest', f) },
  { name: 'AV1', encoder: 'libsvtav1', ext: 'mp4', audio: false, fps: '24/1', make: (f) => ffmpeg(...pattern(160, 96, '24', 1), '-c:v', 'libsvtav1', '-preset', '12', f) },
  { name: 'ProRes with PCM', encoder: 'prores_ks', ext: 'mov', audio: true, fps: '25/1', make: (f) => ffmpeg(...pattern(160, 96, '25', 1), ...tone(1), '-c:v', 'prores_ks', '-profile:v', '2', '-c:a', 'pcm_s16le', '-shortest', f) },
  { name: 'MJPEG', encoder: 'mjpeg', ext: 'avi', audio: false, fps: '15/1', make: (f) => ffmpeg(...pattern(160, 96, '15', 1), '-c:v', 'mjpeg', '-q:v', '5', f) },
  { name: 'GIF', encoder: 'gif', ext: 'gif', audio: false, fps: '10/1', make: (f) => ffmpeg(...pattern(160, 96, '10', 2), f) },
  { name: 'odd size 97×61', ext: 'mp4', audio: true, fps: '25/1', make: (f) => ffmpeg(...pattern(98, 62, '25', 1), ...tone(1), '-vf', 'scale=97:61', '-c:v', 'libx264', '-pix_fmt', 'yuv444p', '-c:a', 'aac', '-shortest', f) },
  { name: 'NTSC 29.97', ext: 'mp4', audio: true, fps: '30000/1001', make: (f) => ffmpeg(...pattern(160, 96, '30000/1001', 2), ...tone(2), '-c:v', 'libx264', '-c:a', 'aac', '-shortest', f) },
  { name: 'NTSC 23.976', ext: 'mov', audio: false, fps: '24000/1001', make: (f) => ffmpeg(...pattern(160, 96, '24000/1001', 2), '-c:v', 'libx264', f) },
];

describe('the media corpus', () => {
  for (const c of corpus) {
    const skip = c.encoder && !hasEncoder(c.encoder) ? `this ffmpeg has no ${c.encoder} encoder to make the file` : undefined;
    test(`given ${c.name}, when a project is made, then every frame is there once at the source rate${c.audio ? ', with its sound' : ''}`, { skip }, async () => {
      const file = path.join(dir, `${c.name.replace(/\W+/g, '-')}.${c.ext}`);
      c.make(file);
      const p = await project(c.name.replace(/\W+/g, '-'), file);
      assert.equal(p.frames.count, frameCount(file));
      assert.equal(`${p.frames.fps.num}/${p.frames.fps.den}`, c.fps);
      assert.equal(p.source.hasAudio, c.audio);
      const cache = path.join(dir, `${c.name.replace(/\W+/g, '-')}.cache`, 'frames');
      assert.equal(fs.readdirSync(cache).filter((n) => n.endsWith('.png')).length, p.frames.count);
    });
  }

  test('given an anamorphic 720×480 with pixel aspect 4:3, then it is shown 960×480 (2:1), decoded at 2:1 and info reports the pixel aspect', async () => {
    const file = path.join(dir, 'anamorphic.mp4');
    ffmpeg(...pattern(720, 480, '30000/1001', 0.5), '-vf', 'setsar=4/3', '-c:v', 'libx264', file);
    const r = rerender(['new', path.join(dir, 'anamorphic.rerender'), '--video', file, '--short-side', '64', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.json().width, r.json().height], [128, 64]);
    const info = rerender(['info', path.join(dir, 'anamorphic.rerender'), '--json']).json();
    assert.deepEqual([info.source.width, info.source.height, info.source.pixelAspect], [960, 480, { num: 4, den: 3 }]);
    assert.match(rerender(['info', path.join(dir, 'anamorphic.rerender')]).stdout, /source 960×480, pixel aspect 4:3/);
  });

  test('given a phone video ffprobe says is rotated 90°, then info says 90 too and the frames are turned as a player turns them', async () => {
    const plain = path.join(dir, 'upright.mp4');
    ffmpeg(...pattern(160, 96, '25', 0.4), '-c:v', 'libx264', plain);
    const file = path.join(dir, 'rotated.mp4');
    ffmpeg('-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', file);
    const ffprobeSays = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-of', 'json', file], { encoding: 'utf8' })).streams[0].side_data_list[0].rotation;
    const r = rerender(['new', path.join(dir, 'rotated.rerender'), '--video', file, '--long-side', '160', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = rerender(['info', path.join(dir, 'rotated.rerender'), '--json']).json();
    assert.equal(info.source.rotation, ffprobeSays);
    assert.deepEqual([info.source.width, info.source.height], [96, 160]);
    // The first frame as a player shows it (ffmpeg turns it the same way), brought to the working size.
    const { width, height } = r.json();
    const shown = path.join(dir, 'shown.png');
    ffmpeg('-i', file, '-frames:v', '1', '-vf', `scale=${width}:${height}:force_original_aspect_ratio=increase:flags=lanczos,crop=${width}:${height}`, shown);
    assert.ok(psnr(shown, path.join(dir, 'rotated.cache', 'frames', '00000.png')) > 30, 'turned the way a player turns it');
  });

  test('given a variable frame rate with gaps of 0.64 s and 0.36 s, then each of its 77 frames is there once and the export keeps their times', async () => {
    const file = path.join(dir, 'gaps.mp4');
    ffmpeg(...pattern(160, 96, '25', 4.08), ...tone(4.08), '-vf', "select='not(between(n\\,20\\,35))*not(between(n\\,60\\,68))'", '-fps_mode', 'vfr', '-c:v', 'libx264', '-c:a', 'aac', file);
    assert.equal(frameCount(file), 77);
    const p = await project('gaps', file);
    assert.equal(p.frames.count, 77);
    const out = path.join(dir, 'gaps-out.mp4');
    await exportProject(path.join(dir, 'gaps.rerender'), p, { out, allowIncomplete: true });
    const source = packetTimes(file);
    const exported = packetTimes(out);
    assert.equal(exported.length, 77);
    exported.forEach((t, i) => assert.ok(Math.abs(t - (source[i] - source[0])) < 0.002, `frame ${i} at ${t} s, the source has it at ${source[i] - source[0]} s`));
  });

  test('given a start time of 3 s with the sound starting 22 ms before the picture, then 100 frames (none doubled) and the sound stays in sync', async () => {
    const file = path.join(dir, 'offset.mp4');
    ffmpeg(...pattern(160, 96, '25', 4), ...beepAt(2.022, 4.1), '-c:v', 'libx264', '-c:a', 'aac', '-output_ts_offset', '3', file);
    const p = await project('offset', file);
    assert.equal(p.frames.count, 100);
    const out = path.join(dir, 'offset-out.mp4');
    await exportProject(path.join(dir, 'offset.rerender'), p, { out, allowIncomplete: true });
    assert.equal(frameCount(out), 100);
    assert.ok(Math.abs(soundStarts(out) - 2.0) < 0.04, `the tone starts at ${soundStarts(out)} s of the export, at frame 50 (2.0 s) in the source`);
  });

  test('given video starting 0.12 s after the sound, then 100 frames (not 103) and the sound stays in sync', async () => {
    const plain = path.join(dir, 'picture.mp4');
    ffmpeg(...pattern(160, 96, '25', 4), '-c:v', 'libx264', plain);
    const file = path.join(dir, 'late.mp4');
    ffmpeg('-itsoffset', '0.12', '-i', plain, ...beepAt(2.12, 4.12), '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', file);
    const p = await project('late', file);
    assert.equal(p.frames.count, 100);
    const out = path.join(dir, 'late-out.mp4');
    await exportProject(path.join(dir, 'late.rerender'), p, { out, allowIncomplete: true });
    assert.ok(Math.abs(soundStarts(out) - 2.0) < 0.04, `the tone starts at ${soundStarts(out)} s of the export, at frame 50 in the source`);
  });

  test('given two audio tracks and subtitles, then MP4 and WebM exports keep them all, and a GIF says what it left out', async () => {
    const subs = path.join(dir, 'words.srt');
    fs.writeFileSync(subs, '1\n00:00:00,100 --> 00:00:00,900\nhello\n');
    const file = path.join(dir, 'tracks.mkv');
    ffmpeg(...pattern(160, 96, '25', 1), ...tone(1, 440), ...tone(1, 880), '-i', subs, '-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:s',
      '-c:v', 'libx264', '-c:a', 'aac', '-c:s', 'srt', '-metadata:s:a:1', 'language=fra', file);
    const p = await project('tracks', file);
    const kinds = (f: string) => ffprobeStreams(f).map((s) => `${s.codec_type}:${s.codec_name}`);
    const mp4 = await exportProject(path.join(dir, 'tracks.rerender'), p, { out: path.join(dir, 'tracks.mp4'), allowIncomplete: true });
    assert.deepEqual(kinds(mp4.out), ['video:h264', 'audio:aac', 'audio:aac', 'subtitle:mov_text']);
    assert.deepEqual(mp4.leftOut, []);
    const webm = await exportProject(path.join(dir, 'tracks.rerender'), p, { out: path.join(dir, 'tracks.webm'), allowIncomplete: true });
    assert.deepEqual(kinds(webm.out), ['video:vp9', 'audio:opus', 'audio:opus', 'subtitle:webvtt']);
    const gif = rerender(['export', path.join(dir, 'tracks.rerender'), '--out', path.join(dir, 'tracks.gif'), '--allow-incomplete']);
    assert.equal(gif.code, 0, gif.stderr);
    assert.match(gif.stdout, /left out: audio track 1 \(aac\): GIF holds no sound/);
    assert.match(gif.stdout, /left out: audio track 2 \(aac, fra\): GIF holds no sound/);
    assert.match(gif.stdout, /left out: subtitles \(subrip\): GIF holds no subtitles/);
  });

  test('given a file with a unicode name in a unicode folder, then new, info and export work with it', () => {
    const folder = path.join(dir, 'Vidéos — 日本');
    fs.mkdirSync(folder);
    const file = path.join(folder, 'été à la plage ☀.mp4');
    ffmpeg(...pattern(160, 96, '24', 0.5), ...tone(0.5), '-c:v', 'libx264', '-c:a', 'aac', '-shortest', file);
    const project = path.join(folder, 'plage ☀.rerender');
    assert.equal(rerender(['new', project, '--video', file, '--short-side', '64']).code, 0);
    assert.equal(rerender(['info', project, '--json']).json().source.path, 'été à la plage ☀.mp4');
    const out = path.join(folder, "l'été.mp4");
    const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(frameCount(out), 12);
  });
});

describe('large files (RERENDER_LOAD=1)', () => {
  const skip = process.env.RERENDER_LOAD ? undefined : 'a 4K and a 5-minute file take minutes; set RERENDER_LOAD=1';

  test('given a 4K video, then every frame decodes at the working size', { skip }, async () => {
    const file = path.join(dir, '4k.mp4');
    ffmpeg(...pattern(3840, 2160, '30', 2), ...tone(2), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', '-shortest', file);
    const p = await project('4k', file, 512);
    assert.equal(p.frames.count, 60);
    assert.deepEqual([p.source.width, p.source.height, p.working.width, p.working.height], [3840, 2160, 896, 512]);
  });

  test('given a 5-minute video, then all 9,000 frames are there and the sound lasts as long as the picture', { skip }, async () => {
    const file = path.join(dir, 'five-minutes.mp4');
    ffmpeg(...pattern(160, 96, '30', 300), ...beepAt(290, 300), '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', file);
    const p = await project('five-minutes', file);
    assert.equal(p.frames.count, 9000);
    const out = path.join(dir, 'five-minutes-out.mp4');
    await exportProject(path.join(dir, 'five-minutes.rerender'), p, { out, allowIncomplete: true });
    assert.equal(frameCount(out), 9000);
    assert.ok(Math.abs(soundStarts(out) - 290) < 0.05, `the tone at 290 s is at ${soundStarts(out)} s of the export`);
  });
});
