// The CLI end to end, as a user drives it: new → keyframes → import-keyframe → export, checked with ffprobe.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { rerender } from '../helpers/cli';
import { makeVideo, tempDir, ffprobeStreams } from '../helpers/media';

describe('rerender CLI: project commands', () => {
  const dir = tempDir();
  const video = makeVideo(dir, 'walk', { width: 320, height: 180, fps: 24, frames: 36, audio: true });
  const project = path.join(dir, 'walk.rerender');

  test('--help lists every command, and each command has its own help', () => {
    const r = rerender(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['new', 'info', 'keyframes', 'import-keyframe', 'export']) {
      assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
      const h = rerender([c, '--help']);
      assert.equal(h.code, 0);
      assert.match(h.stdout, new RegExp(`usage: rerender ${c}`));
    }
  });

  test('--version prints the package version', () => {
    const r = rerender(['--version']);
    assert.equal(r.code, 0, r.stderr);
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.equal(r.stdout.trim(), `rerender ${version}`);
  });

  test('new decodes the video and reports the working size', () => {
    const r = rerender(['new', project, '--video', video, '--short-side', '256', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    assert.equal(out.frames, 36);
    assert.deepEqual([out.width, out.height], [448, 256]);
    assert.equal(out.fps, 24);
  });

  test('info shows frames, keyframes and segments', () => {
    const out = rerender(['info', project, '--json']).json();
    assert.equal(out.frames, 36);
    assert.deepEqual(out.keyframes.map((k: { frame: number }) => k.frame), [0, 10, 20, 30]);
    assert.deepEqual(out.segments.map((s: { id: string }) => s.id), ['0-10', '10-20', '20-30', '30-35']);
    assert.ok(out.segments.every((s: { status: string }) => s.status === 'not-rendered'));
    assert.equal(out.source.path, 'walk.mp4', 'the source is stored relative to the project');
  });

  test('keyframes --set, --every and --auto each change the keyframes', () => {
    assert.deepEqual(rerender(['keyframes', project, '--set', '0,12,30', '--json']).json().keyframes, [0, 12, 30]);
    assert.deepEqual(rerender(['keyframes', project, '--every', '15', '--json']).json().keyframes, [0, 15, 30]);
    const auto = rerender(['keyframes', project, '--auto', '--min', '5', '--max', '12', '--json']);
    assert.equal(auto.code, 0, auto.stderr);
    const keys: number[] = auto.json().keyframes;
    assert.equal(keys[0], 0);
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i] - keys[i - 1] >= 5 && keys[i] - keys[i - 1] <= 12);
  });

  test('import-keyframe copies the image into the project at the working size', async () => {
    const img = path.join(dir, 'painted.jpg');
    await sharp({ create: { width: 640, height: 360, channels: 3, background: { r: 200, g: 30, b: 60 } } }).jpeg().toFile(img);
    const r = rerender(['import-keyframe', project, '--frame', '3', '--image', img, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const stored = path.join(dir, r.json().image);
    assert.ok(stored.startsWith(path.join(dir, 'walk.assets')));
    const meta = await sharp(stored).metadata();
    assert.deepEqual([meta.width, meta.height], [448, 256]);
    fs.rmSync(img);
    assert.ok(fs.existsSync(stored), 'the project does not depend on the original file');
  });

  test('a broken image gets a one-line error and leaves the project unchanged', () => {
    const bad = path.join(dir, 'broken.png');
    fs.writeFileSync(bad, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
    const before = fs.readFileSync(project);
    const r = rerender(['import-keyframe', project, '--frame', '4', '--image', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broken\.png: not a readable image/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(fs.readFileSync(project), before);
  });

  test('export without rendered frames says which are missing; with --allow-incomplete it writes a playable MP4 with audio', () => {
    const out = path.join(dir, 'result.mp4');
    const refused = rerender(['export', project, '--out', out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not rendered yet \(frames 0-2, 4-35\)/);
    assert.equal(fs.existsSync(out), false);
    const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().fromSource, 35);
    const streams = ffprobeStreams(out);
    const v = streams.find((s) => s.codec_type === 'video')!;
    assert.equal(Number(v.nb_read_frames), 36);
    assert.equal(v.r_frame_rate, '24/1');
    assert.equal(v.pix_fmt, 'yuv420p');
    assert.ok(streams.some((s) => s.codec_type === 'audio'), 'the source audio is muxed back');
  });

  test('errors are one line with a non-zero exit code', () => {
    for (const args of [['info', path.join(dir, 'missing.rerender')], ['new', path.join(dir, 'x.rerender'), '--video', path.join(dir, 'none.mp4')], ['keyframes', project, '--set', 'a,b'], ['frobnicate']]) {
      const r = rerender(args);
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('a variable-frame-rate video keeps each of its frames once', () => {
    const vfr = makeVideo(dir, 'vfr', { fps: 30, frames: 60, variable: true });
    const r = rerender(['new', path.join(dir, 'vfr.rerender'), '--video', vfr, '--short-side', '128', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json();
    const source = Number(ffprobeStreams(vfr).find((s) => s.codec_type === 'video')!.nb_read_frames);
    assert.equal(out.frames, source);
    const files = fs.readdirSync(path.join(dir, 'vfr.cache', 'frames')).filter((f) => f.endsWith('.png'));
    assert.equal(files.length, out.frames);
  });
});
