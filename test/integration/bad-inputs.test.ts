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
import { rerender } from '../helpers/cli';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { EditorSession } from '../../main/engine/editor/session';
import { sampleProject } from '../helpers/project';

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

  test('given a text file as the video of a new project, then the message is one line naming the file and the problem, with ffprobe\'s own text kept out of it (in the details)', async () => {
    const file = path.join(dir, 'notes.mp4');
    fs.writeFileSync(file, 'These are my notes, not a video.\n'.repeat(50));
    const project = path.join(dir, 'notes.rerender');
    // Each started only when its check is ready to catch it (both at once left one rejection unhandled a moment).
    for (const work of [() => probeVideo(file), () => createProject(project, file)]) {
      await assert.rejects(work, (e: unknown) => {
        assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error)?.stack}`);
        assert.equal(e.message, `${file}: not a readable video: ffprobe recognises no video format in it (the file may be damaged, incomplete, or not a video at all)`);
        assert.doesNotMatch(e.message, /\n|moov atom|Invalid data|@ 0x|\[mov,/);
        assert.match(e.detail ?? '', /^ffprobe: .*(moov atom|Invalid data)/, 'ffprobe\'s text is kept as the details');
        return true;
      });
    }
    assert.equal(fs.existsSync(project), false);
  });

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
      const { png } = await readImageForKeyframe(file, 128, 64);
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

describe('inputs that are not regular files', () => {
  const skip = process.platform !== 'linux' ? 'makes FIFOs with mkfifo and reads /dev/zero (Linux)' : undefined;
  const fifo = (name: string) => { const f = path.join(dir, name); fs.rmSync(f, { force: true }); execFileSync('mkfifo', [f]); return f; };

  test('given a FIFO, a device or a folder as the source video, then each is refused before it is opened, saying what it is', { skip }, async () => {
    for (const [file, kind] of [[fifo('pipe.mp4'), /named pipe \(FIFO\)/], ['/dev/zero', /a device/], [dir, /a folder/]] as const) {
      await refused(probeVideo(file), file, kind);
      await assert.rejects(createProject(path.join(dir, 'special.rerender'), file), kind);
    }
  });

  test('given a FIFO as a keyframe image, when imported, then it is refused instead of blocking', { skip }, async () => {
    const file = fifo('pipe.png');
    await refused(readImageForKeyframe(file, 128, 64), file, /named pipe \(FIFO\), not a regular file/);
  });

  test('given a project whose keyframe image was replaced by a FIFO, when exporting or propagating, then both refuse instead of hanging', { skip }, () => {
    const work = tempDir('rerender-fifo-');
    const video = makeVideo(work, 'clip', { width: 160, height: 96, frames: 12, fps: 12 });
    const project = path.join(work, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    for (const f of [0, 10]) {
      assert.equal(rerender(['import-keyframe', project, '--frame', String(f), '--image', path.join(work, 'clip.cache', 'frames', `${String(f).padStart(5, '0')}.png`)]).code, 0);
    }
    const image = fs.readdirSync(path.join(work, 'clip.assets')).find((n) => n.endsWith('.png'))!;
    fs.rmSync(path.join(work, 'clip.assets', image));
    execFileSync('mkfifo', [path.join(work, 'clip.assets', image)]);
    for (const args of [['export', project, '--out', path.join(work, 'out.mp4'), '--allow-incomplete'], ['propagate', project]]) {
      const r = rerender(args);
      assert.notEqual(r.code, 0, args[0]);
      assert.match(r.stderr, /named pipe \(FIFO\), not a regular file/, args[0]);
    }
  });

  test('given a project claiming 10,000,000 frames of a 12-frame video, then opening or rebuilding it is refused with both counts', async () => {
    const work = tempDir('rerender-claims-');
    const video = makeVideo(work, 'clip', { width: 160, height: 96, frames: 12, fps: 12 });
    const project = path.join(work, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    const doc = JSON.parse(fs.readFileSync(project, 'utf8'));
    fs.writeFileSync(project, JSON.stringify({ ...doc, frames: { ...doc.frames, count: 10_000_000 } }));
    await assert.rejects(readProjectFile(project), /damaged: it claims 10000000 frames, but its source lasts 1\.00 s at 12\.00 fps \(about 12 frames\)/);
    // The same claim with a matching duration passes the file's own checks; the probe and the cache refuse it.
    fs.writeFileSync(project, JSON.stringify({ ...doc, source: { ...doc.source, durationSeconds: 1_000_000 }, frames: { ...doc.frames, count: 10_000_000 } }));
    for (const args of [['keyframes', project, '--auto'], ['export', project, '--out', path.join(work, 'out.mp4'), '--allow-incomplete']]) {
      const r = rerender(args);
      assert.notEqual(r.code, 0, args[0]);
      assert.match(r.stderr, /says it has 10000000 frames, but its source video clip\.mp4 has 12/, args[0]);
    }
  });
});

describe('clear errors for where things are written', () => {
  test('given a project, when saved as into a folder that does not exist, then the error names the folder and says what to do', async () => {
    const work = tempDir('rerender-saveas-');
    const file = path.join(work, 'p.rerender');
    await writeProjectFile(file, sampleProject());
    const session = new EditorSession(60_000);
    await session.openProject(file);
    try {
      const target = path.join(work, 'no-such-folder', 'copy.rerender');
      await assert.rejects(session.save(target), (e: unknown) => e instanceof UserError && /the folder .*no-such-folder does not exist; create it first or choose another location/.test(e.message) && !/ENOENT|internal/.test(e.message));
      assert.equal(fs.existsSync(path.join(work, 'no-such-folder')), false);
    } finally {
      session.closeProject();
    }
  });

  test('given a folder as synth --out, then it is refused before synthesising, saying to give a file name', async () => {
    const work = tempDir('rerender-synth-out-');
    const image = path.join(work, 'a.png');
    await sharp({ create: { width: 32, height: 32, channels: 3, background: 'red' } }).png().toFile(image);
    const r = rerender(['synth', '--style', image, '--guide', image, image, '--out', work]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--out is a folder; give a file name/);
    assert.doesNotMatch(r.stderr, /EISDIR|internal/);
  });
});
