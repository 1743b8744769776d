// Exports for editing software, end to end through the CLI: ProRes 422 HQ in a MOV with the source's sound
// as PCM (checked with ffprobe, and its colours decoded back), and PNG frames numbered from a chosen start
// (Resolve and Premiere expect 1 or a timecode's frame), which keep every export-safety rule.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { rerender } from '../helpers/cli';
import { makeImageSequence, makeVideo, tempDir } from '../helpers/media';

interface ProbedStream {
  codec_type: string; codec_name: string; profile?: string; codec_tag_string?: string; pix_fmt?: string; sample_fmt?: string;
  width?: number; height?: number; r_frame_rate?: string; nb_read_frames?: string; color_space?: string; color_transfer?: string; color_primaries?: string; color_range?: string;
}

function probe(file: string): { streams: ProbedStream[]; format: { format_name: string } } {
  return JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_streams', '-show_format', file], { encoding: 'utf8' }));
}

function pngNames(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.png')).sort();
}

describe('ProRes 422 HQ export', () => {
  let dir: string;
  before(() => { dir = tempDir('rerender-prores-'); });

  test('given a video with AAC sound, when exported with --format prores, then the MOV holds ProRes HQ 10-bit 4:2:2 at the source rate and 16-bit PCM', () => {
    const video = makeVideo(dir, 'aac', { width: 160, height: 96, fps: 25, frames: 30, audio: true });
    const project = path.join(dir, 'aac.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    const out = path.join(dir, 'aac-result.mov');
    const r = rerender(['export', project, '--out', out, '--format', 'prores', '--allow-incomplete', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().leftOut, []);
    const { streams, format } = probe(out);
    assert.match(format.format_name, /mov/);
    const v = streams.find((s) => s.codec_type === 'video')!;
    assert.deepEqual([v.codec_name, v.profile, v.codec_tag_string, v.pix_fmt], ['prores', 'HQ', 'apch', 'yuv422p10le']);
    assert.deepEqual([v.width, v.height, v.r_frame_rate, Number(v.nb_read_frames)], [160, 80, '25/1', 30]);
    assert.deepEqual([v.color_space, v.color_transfer, v.color_primaries, v.color_range], ['bt709', 'bt709', 'bt709', 'tv']);
    const a = streams.filter((s) => s.codec_type === 'audio');
    assert.deepEqual(a.map((s) => s.codec_name), ['pcm_s16le']);
  });

  test('given a source with 24-bit PCM sound, when exported to a .mov (ProRes from the name), then the sound stays 24-bit', () => {
    const video = path.join(dir, 'hi-res.mov');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=24:duration=1', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=1',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'pcm_s24le', video]);
    const project = path.join(dir, 'hi-res.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    const out = path.join(dir, 'hi-res-result.mov');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--side-by-side']);
    assert.equal(r.code, 0, r.stderr);
    const { streams } = probe(out);
    const v = streams.find((s) => s.codec_type === 'video')!;
    assert.deepEqual([v.codec_name, v.profile, v.width, Number(v.nb_read_frames)], ['prores', 'HQ', 320, 24]);
    assert.deepEqual(streams.filter((s) => s.codec_type === 'audio').map((s) => s.codec_name), ['pcm_s24le']);
  });

  test('given flat colours, when exported to ProRes and decoded back as Rec. 709, then the colours are kept', async () => {
    const frames = makeImageSequence(dir, 'colours', { count: 8, width: 128, height: 64 });
    const project = path.join(dir, 'colours.rerender');
    assert.equal(rerender(['new', project, '--video', frames, '--fps', '24', '--short-side', '64']).code, 0);
    const out = path.join(dir, 'colours.mov');
    const r = rerender(['export', project, '--out', out, '--format', 'prores', '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(probe(out).streams.map((s) => s.codec_type), ['video'], 'a sequence has no sound');
    const back = path.join(dir, 'colours-frame-5.png');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', out, '-vf', 'select=eq(n\\,5),scale=in_color_matrix=bt709:in_range=tv,format=rgb24', '-frames:v', '1', back]);
    const { channels } = await sharp(back).stats();
    const [red, green, blue] = channels.map((c) => c.mean);
    for (const [got, want] of [[red, 50], [green, 128], [blue, 205]]) assert.ok(Math.abs(got - want) < 3, `${got} ≈ ${want}`);
  });
});

describe('PNG frames from a start number', () => {
  let dir: string;
  let project: string;
  const exportFrames = (out: string, ...more: string[]) => rerender(['export', project, '--out', out, '--format', 'png', '--allow-incomplete', ...more]);
  before(() => {
    dir = tempDir('rerender-start-number-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 20, fps: 24 });
    project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
  });

  test('given --start-number 1, then the frames are 00001.png to 00020.png', () => {
    const out = path.join(dir, 'from-1');
    assert.equal(exportFrames(out, '--start-number', '1').code, 0);
    const names = pngNames(out);
    assert.deepEqual([names.length, names[0], names[19]], [20, '00001.png', '00020.png']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, '.rerender-export'), 'utf8')).startNumber, 1);
  });

  test('given --start-number 86400 (01:00:00:00 at 24 fps), also side by side, then the frames are 86400.png to 86419.png', () => {
    for (const extra of [[], ['--side-by-side']]) {
      const out = path.join(dir, `from-86400${extra.length ? '-sbs' : ''}`);
      const r = exportFrames(out, '--start-number', '86400', ...extra);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(pngNames(out), Array.from({ length: 20 }, (_, k) => `${86400 + k}.png`));
    }
  });

  test('given a start whose last frame needs another digit, then every name has the same width (editors read one numbering)', () => {
    const out = path.join(dir, 'wide');
    assert.equal(exportFrames(out, '--start-number', '99990').code, 0);
    const names = pngNames(out);
    assert.deepEqual([names[0], names[9], names[10], names[19]], ['099990.png', '099999.png', '100000.png', '100009.png']);
  });

  test('given an earlier export from 0, when replaced with --force from 1, then only the new names are there', () => {
    const out = path.join(dir, 'replaced');
    assert.equal(exportFrames(out, '--range', '0-14').code, 0);
    assert.equal(pngNames(out)[0], '00000.png');
    const refused = exportFrames(out, '--start-number', '1');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /an earlier frames export is in this folder; replace it with --force/);
    assert.equal(exportFrames(out, '--start-number', '1', '--force').code, 0);
    assert.deepEqual(pngNames(out), Array.from({ length: 20 }, (_, k) => `${String(k + 1).padStart(5, '0')}.png`));
  });

  test('given a folder of the user\'s own frames, then a numbered export into it is refused and nothing there changes', () => {
    const mine = path.join(dir, 'my-frames');
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, '00001.png'), 'mine');
    const r = exportFrames(mine, '--start-number', '1', '--force');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /holds files Rerender did not write/);
    assert.deepEqual(fs.readdirSync(mine), ['00001.png']);
    assert.equal(fs.readFileSync(path.join(mine, '00001.png'), 'utf8'), 'mine');
  });

  test('given --start-number with a video format, a negative or a fractional number, then each is refused before anything is written', () => {
    const mp4 = rerender(['export', project, '--out', path.join(dir, 'x.mp4'), '--start-number', '1', '--allow-incomplete']);
    assert.match(mp4.stderr, /a start number is for PNG frames/);
    assert.match(exportFrames(path.join(dir, 'neg'), '--start-number', '-5').stderr, /the start number must be a whole number from 0/);
    assert.match(exportFrames(path.join(dir, 'frac'), '--start-number', '1.5').stderr, /--start-number expects a whole number/);
    for (const n of ['x.mp4', 'neg', 'frac']) assert.ok(!fs.existsSync(path.join(dir, n)), n);
  });
});
