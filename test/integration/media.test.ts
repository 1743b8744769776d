// Media on real ffmpeg: probe, decode to the frame cache, export — on videos generated here.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { probeVideo } from '../../main/engine/media/probe';
import { decodeToFrames, readFrameTimes } from '../../main/engine/media/decode';
import { exportFrames, EXPORT_MARKER } from '../../main/engine/media/export';
import { CancelToken, UserError, isCancelled } from '../../native-models/src/errors';
import { makeVideo, tempDir, ffprobeStreams } from '../helpers/media';

describe('probe', () => {
  const dir = tempDir();

  test('given an odd-sized video with audio, then size, fps, frame count and audio are reported', async () => {
    const v = makeVideo(dir, 'odd', { width: 97, height: 61, fps: 25, frames: 30, audio: true });
    const info = await probeVideo(v);
    assert.equal(info.width, 97);
    assert.equal(info.height, 61);
    assert.deepEqual(info.fps, { num: 25, den: 1 });
    assert.equal(info.frameCount, 30);
    assert.equal(info.hasAudio, true);
    assert.equal(info.variableFrameRate, false);
  });

  test('given a rotated phone video, then the display size is swapped', async () => {
    const v = makeVideo(dir, 'rot', { width: 160, height: 96, rotation: 90 });
    const info = await probeVideo(v);
    assert.ok(info.rotation === 90 || info.rotation === 270);
    assert.equal(info.width, 96);
    assert.equal(info.height, 160);
  });

  test('given a variable-frame-rate video, then it is flagged and gets a constant rate', async () => {
    const v = makeVideo(dir, 'vfr', { fps: 30, frames: 60, variable: true });
    const info = await probeVideo(v);
    assert.equal(info.variableFrameRate, true);
    assert.ok(info.fps.num / info.fps.den > 10 && info.fps.num / info.fps.den < 31);
  });

  test('given a truncated video, a text file and an empty file, then each gets a clear error naming it', async () => {
    const good = makeVideo(dir, 'good', { frames: 48 });
    const truncated = path.join(dir, 'truncated.mp4');
    fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, 2000));
    const text = path.join(dir, 'notes.mp4');
    fs.writeFileSync(text, 'this is not a video\n'.repeat(50));
    const empty = path.join(dir, 'empty.mp4');
    fs.writeFileSync(empty, '');
    for (const [file, pattern] of [[truncated, /not a readable video|no video/], [text, /not a readable video/], [empty, /empty/]] as const) {
      await assert.rejects(probeVideo(file), (e: unknown) => e instanceof UserError && pattern.test(e.message) && e.message.includes(file));
    }
  });

  test('given an audio-only file, then the error says there is no video', async () => {
    const a = path.join(dir, 'tone.m4a');
    require('node:child_process').execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', a]);
    await assert.rejects(probeVideo(a), /audio but no video/);
  });
});

describe('decode', () => {
  test('given a video, when decoded at a working size, then every frame and thumbnail exists at that size', async () => {
    const dir = tempDir();
    const v = makeVideo(dir, 'clip', { width: 200, height: 120, frames: 20 });
    const progress: number[] = [];
    const r = await decodeToFrames({
      video: v, framesDir: path.join(dir, 'frames'), thumbsDir: path.join(dir, 'thumbs'), width: 128, height: 64, crop: null,
      fps: { num: 24, den: 1 }, resample: false, expectedFrames: 20, onProgress: (f) => progress.push(f),
    });
    assert.equal(r.frameCount, 20);
    const files = fs.readdirSync(path.join(dir, 'frames')).filter((f) => f.endsWith('.png')).sort();
    assert.equal(files[0], '00000.png');
    assert.equal(files.length, 20);
    assert.deepEqual(readFrameTimes(path.join(dir, 'frames'), 20), Array.from({ length: 20 }, (_, i) => Math.round((i * 1e6) / 24)), 'each frame\'s time is kept');
    const meta = await sharp(path.join(dir, 'frames', '00019.png')).metadata();
    assert.equal(meta.width, 128);
    assert.equal(meta.height, 64);
    assert.equal(fs.readdirSync(path.join(dir, 'thumbs')).length, 20);
    assert.equal(progress[progress.length - 1], 1);
  });

  test('given a running decode, when cancelled, then it stops and leaves no partial frame folder', async () => {
    const dir = tempDir();
    const v = makeVideo(dir, 'long', { width: 640, height: 360, frames: 400 });
    const cancel = new CancelToken();
    const framesDir = path.join(dir, 'frames');
    const job = decodeToFrames({
      video: v, framesDir, thumbsDir: path.join(dir, 'thumbs'), width: 512, height: 320, crop: null,
      fps: { num: 24, den: 1 }, resample: false, expectedFrames: 400, cancel, onProgress: (f) => { if (f > 0.05) cancel.cancel(); },
    });
    await assert.rejects(job, (e) => isCancelled(e));
    assert.equal(fs.existsSync(framesDir), false);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.includes('decoding')), []);
  });
});

describe('export', () => {
  test('given frames, when exported to each format, then fps, frame count, codec and audio are right', async () => {
    const dir = tempDir();
    const v = makeVideo(dir, 'src', { width: 128, height: 64, fps: 12, frames: 18, audio: true });
    await decodeToFrames({ video: v, framesDir: path.join(dir, 'f'), thumbsDir: path.join(dir, 't'), width: 128, height: 64, crop: null, fps: { num: 12, den: 1 }, resample: false, expectedFrames: 18 });
    const frames = Array.from({ length: 18 }, (_, i) => i);
    const frameFile = (i: number) => path.join(dir, 'f', `${String(i).padStart(5, '0')}.png`);
    const { audioStreams } = await probeVideo(v);
    for (const [format, codec, audio] of [['mp4', 'h264', 'aac'], ['webm', 'vp9', 'opus'], ['gif', 'gif', undefined]] as const) {
      const out = path.join(dir, `out.${format}`);
      await exportFrames({ out, format, width: 128, height: 64, fps: { num: 12, den: 1 }, frames, frameFile, audio: { file: v, startSeconds: 0, audioStreams, subtitleStreams: [] } });
      const streams = ffprobeStreams(out);
      const video = streams.find((s) => s.codec_type === 'video')!;
      assert.equal(video.codec_name, codec);
      assert.equal(Number(video.nb_read_frames), 18, `${format} frame count`);
      // GIF stores delays in 1/100 s, so 12 fps can only be approximated there.
      const [n, d] = video.r_frame_rate!.split('/').map(Number);
      if (format === 'gif') assert.ok(Math.abs(n / d - 12) < 0.6); else assert.equal(video.r_frame_rate, '12/1');
      if (format === 'mp4') assert.equal(video.pix_fmt, 'yuv420p');
      assert.equal(streams.find((s) => s.codec_type === 'audio')?.codec_name, audio);
    }
    const pngDir = path.join(dir, 'png-out');
    await exportFrames({ out: pngDir, format: 'png', width: 128, height: 64, fps: { num: 12, den: 1 }, frames, frameFile, sourceFrameFile: frameFile });
    assert.equal(fs.readdirSync(pngDir).filter((f) => f.endsWith('.png')).length, 18);
    assert.ok(fs.existsSync(path.join(pngDir, EXPORT_MARKER)), 'the folder is marked as ours');
    assert.equal((await sharp(path.join(pngDir, '00000.png')).metadata()).width, 256, 'side by side doubles the width');
  });

  test('given an earlier export, when a new export fails, then the earlier file is intact', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'keep.mp4');
    fs.writeFileSync(out, 'earlier export');
    await assert.rejects(exportFrames({ out, format: 'mp4', width: 64, height: 64, fps: { num: 24, den: 1 }, frames: [0, 1], frameFile: () => path.join(dir, 'missing.png'), overwrite: true }), /image for frame 0 does not exist/);
    assert.equal(fs.readFileSync(out, 'utf8'), 'earlier export');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f !== 'keep.mp4'), [], 'no temp files left behind');
  });
});
