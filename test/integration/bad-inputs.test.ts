// The bad-input corpus, generated here: broken and unusual videos and images each get a clear error
// naming the file (or are handled), with no crash, no hang and nothing written outside the project.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { probeVideo } from '../../main/engine/media/probe';
import { createProject } from '../../main/engine/project/create';
import { readImageForKeyframe } from '../../main/engine/project/keyframe-images';
import { UserError } from '../../native-models/src/errors';
import { makeVideo, tempDir } from '../helpers/media';

const dir = tempDir('rerender-corpus-');
const ff = (...args: string[]) => execFileSync('ffmpeg', ['-v', 'error', '-y', ...args]);

async function refused(work: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack}`);
    assert.match(e.message, pattern);
    assert.ok(e.message.includes(file), `the message names ${file}: ${e.message}`);
    return true;
  });
}

describe('bad videos', () => {
  const good = makeVideo(dir, 'good', { frames: 48 });
  const cases: Array<[string, () => string, RegExp]> = [
    ['zero-length', () => { const f = path.join(dir, 'zero.mp4'); fs.writeFileSync(f, ''); return f; }, /empty/],
    ['truncated', () => { const f = path.join(dir, 'cut.mp4'); fs.writeFileSync(f, fs.readFileSync(good).subarray(0, 1500)); return f; }, /not a readable video|no video/],
    ['random bytes', () => { const f = path.join(dir, 'noise.mov'); fs.writeFileSync(f, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))); return f; }, /not a readable video/],
    ['audio only', () => { const f = path.join(dir, 'tone.mp3'); ff('-f', 'lavfi', '-i', 'sine=duration=1', f); return f; }, /audio but no video/],
    ['1×1 pixels', () => { const f = path.join(dir, 'dot.mkv'); ff('-f', 'lavfi', '-i', 'color=c=red:s=2x2:d=1', '-vf', 'scale=1:1', '-c:v', 'ffv1', f); return f; }, /too small \(1×1\)/],
    ['16384×16384 header', () => {
      const f = path.join(dir, 'huge.y4m');
      fs.writeFileSync(f, Buffer.concat([Buffer.from('YUV4MPEG2 W16384 H16384 F25:1 Ip A1:1 C420jpeg\nFRAME\n'), Buffer.alloc(1000)]));
      return f;
    }, /too large|not a readable video/],
    ['a text file', () => { const f = path.join(dir, 'readme.mp4'); fs.writeFileSync(f, 'hello\n'.repeat(100)); return f; }, /not a readable video/],
  ];
  for (const [name, make, pattern] of cases) {
    test(`given a ${name} video, then creating a project fails clearly and writes no project`, async () => {
      const file = make();
      const project = path.join(dir, `${name.replace(/\W+/g, '-')}.rerender`);
      await refused(probeVideo(file), file, pattern);
      await assert.rejects(createProject(project, file), UserError);
      assert.equal(fs.existsSync(project), false);
    });
  }

  const handled: Array<[string, () => string]> = [
    ['10-bit', () => { const f = path.join(dir, 'ten.mp4'); ff('-f', 'lavfi', '-i', 'testsrc2=s=160x96:d=1', '-c:v', 'libx264', '-pix_fmt', 'yuv420p10le', f); return f; }],
    ['alpha', () => { const f = path.join(dir, 'alpha.mov'); ff('-f', 'lavfi', '-i', 'testsrc2=s=160x96:d=1', '-vf', 'format=rgba', '-c:v', 'png', f); return f; }],
    ['variable-frame-rate', () => makeVideo(dir, 'vfr', { fps: 30, frames: 30, variable: true })],
  ];
  for (const [name, make] of handled) {
    test(`given a ${name} video, then it imports as 8-bit RGB frames`, async () => {
      const file = make();
      const project = path.join(dir, `${name}.rerender`);
      const p = await createProject(project, file, { size: 64 });
      assert.ok(p.frames.count > 0);
      const meta = await sharp(path.join(dir, `${name}.cache`, 'frames', '00000.png')).metadata();
      assert.equal(meta.channels, 3);
    });
  }
});

describe('images for keyframes', () => {
  const formats: Array<[string, (s: Sharp) => Sharp]> = [
    ['png', (s) => s.png()], ['jpg', (s) => s.jpeg()], ['webp', (s) => s.webp()], ['tiff', (s) => s.tiff()],
    ['gif', (s) => s.gif()], ['avif', (s) => s.avif()], ['rgba.png', (s) => s.ensureAlpha().png()], ['grey.png', (s) => s.greyscale().png()],
  ];
  for (const [ext, encode] of formats) {
    test(`given a ${ext} image, then it becomes a working-size RGB keyframe`, async () => {
      const file = path.join(dir, `img.${ext}`);
      await encode(sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 10, g: 200, b: 90 } } })).toFile(file);
      const png = await readImageForKeyframe(file, 128, 64);
      const meta = await sharp(png).metadata();
      assert.deepEqual([meta.width, meta.height, meta.channels], [128, 64, 3]);
    });
  }

  const broken: Array<[string, () => Promise<string>, RegExp]> = [
    ['zero-byte', async () => { const f = path.join(dir, 'zero.png'); fs.writeFileSync(f, ''); return f; }, /empty/],
    ['truncated PNG', async () => {
      const f = path.join(dir, 'cut.png');
      const buf = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'blue' } }).png().toBuffer();
      fs.writeFileSync(f, buf.subarray(0, 60));
      return f;
    }, /not a readable image/],
    ['text named .jpg', async () => { const f = path.join(dir, 'notes.jpg'); fs.writeFileSync(f, 'not an image'); return f; }, /not a readable image/],
    ['BMP (unsupported)', async () => {
      const f = path.join(dir, 'old.bmp');
      const header = Buffer.alloc(54);
      header.write('BM', 0);
      fs.writeFileSync(f, header);
      return f;
    }, /not a readable image/],
    ['decompression bomb', async () => {
      // A PNG header that claims 30000×30000 pixels: refused before decoding.
      const f = path.join(dir, 'bomb.png');
      const small = await sharp({ create: { width: 1, height: 1, channels: 3, background: 'red' } }).png().toBuffer();
      small.writeUInt32BE(30000, 16);
      small.writeUInt32BE(30000, 20);
      fs.writeFileSync(f, small);
      return f;
    }, /not a readable image/],
  ];
  for (const [name, make, pattern] of broken) {
    test(`given a ${name} image, then it is refused with a clear error naming it`, async () => {
      const file = await make();
      await refused(readImageForKeyframe(file, 128, 64), file, pattern);
    });
  }
});
