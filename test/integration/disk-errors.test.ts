// Disk full and read-only folders: each write fails with a message that says what to do, and the files
// that were there before stay intact. A small tmpfs makes a real full disk (needs root on Linux).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeProjectFile, readProjectFile } from '../../main/engine/project/project-file';
import { exportFrames } from '../../main/engine/media/export';
import { writeFileAtomic } from '../../main/engine/fs/atomic';
import { UserError } from '../../native-models/src/errors';
import { sampleProject } from '../helpers/project';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';

function tryMountTmpfs(dir: string, size: string): string | undefined {
  if (process.platform !== 'linux') return 'a size-limited tmpfs needs Linux';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return `cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]}); run as root on Linux to test a full disk`;
  }
}

/** Fills the file system until less than `leave` bytes are free. */
function fill(dir: string, leave: number): void {
  const free = () => { const s = fs.statfsSync(dir); return s.bavail * s.bsize; };
  let i = 0;
  while (free() > leave) {
    try { fs.writeFileSync(path.join(dir, `ballast-${i++}`), Buffer.alloc(Math.max(512, Math.min(free() - leave, 16384)))); } catch { break; }
  }
}

describe('a full disk', () => {
  const dir = tempDir('rerender-full-');
  const skip = tryMountTmpfs(dir, '256k');
  after(() => { if (!skip) execFileSync('umount', [dir]); });
  if (skip) console.log(`skipping full-disk tests: ${skip}`);

  test('given a saved project, when saving again on a full disk, then the error says the disk is full and the project is intact', { skip }, async () => {
    const file = path.join(dir, 'a.rerender');
    const first = sampleProject(50, [0, 10]);
    await writeProjectFile(file, first);
    fill(dir, 1024);
    const bigger = { ...first, render: { ...first.render, prompt: 'x'.repeat(8000) } };
    await assert.rejects(writeProjectFile(file, bigger), (e: unknown) => e instanceof UserError && /disk is full/.test(e.message));
    assert.deepEqual(await readProjectFile(file), first);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temp files left behind');
  });
});

describe('a full disk during export', () => {
  const dir = tempDir('rerender-fullexport-');
  const skip = tryMountTmpfs(dir, '96k');
  after(() => { if (!skip) execFileSync('umount', [dir]); });
  let frames: string;
  before(async () => {
    frames = tempDir('rerender-frames-');
    const video = makeVideo(frames, 'v', { width: 128, height: 64, frames: 30 });
    execFileSync('ffmpeg', ['-v', 'error', '-i', video, '-start_number', '0', path.join(frames, '%05d.png')]);
  });

  test('given an earlier export, when a new export runs out of space, then it fails clearly and the earlier export is kept', { skip }, async () => {
    const out = path.join(dir, 'result.mp4');
    fs.writeFileSync(out, 'earlier export');
    fill(dir, 2048);
    const job = exportFrames({ out, format: 'mp4', width: 128, height: 64, fps: { num: 24, den: 1 }, frames: Array.from({ length: 30 }, (_, i) => i), frameFile: (i) => path.join(frames, `${String(i).padStart(5, '0')}.png`), overwrite: true });
    await assert.rejects(job, (e: unknown) => e instanceof UserError && /disk is full/.test(e.message));
    assert.equal(fs.readFileSync(out, 'utf8'), 'earlier export');
  });
});

describe('a read-only folder', () => {
  // /sys refuses new files even for root, on every Linux machine.
  const skip = process.platform !== 'linux' ? 'uses /sys, a folder nobody can write on Linux' : undefined;

  test('given a folder nobody may write, when a project is saved there, then the error says to choose another location', { skip }, async () => {
    await assert.rejects(writeProjectFile('/sys/rerender-test.rerender', sampleProject()), (e: unknown) => e instanceof UserError && /read-only or not writable/.test(e.message) && e.message.includes('/sys/rerender-test.rerender'));
  });

  test('given a folder nobody may write, when any file is written atomically, then nothing is left and the error is clear', { skip }, async () => {
    await assert.rejects(writeFileAtomic('/sys/rerender-frame.png', Buffer.alloc(10)), /read-only or not writable/);
  });
});

describe('a full disk for the commands that write a lot', () => {
  const dir = tempDir('rerender-fullcli-');
  const skip = tryMountTmpfs(dir, '64m');
  after(() => { if (!skip) execFileSync('umount', [dir]); });
  const work = tempDir('rerender-fullcli-src-');
  const noTemps = (folder: string) => fs.readdirSync(folder).filter((n) => /\.(tmp|decoding|exporting)-\d+-/.test(n));
  let project: string;
  let ballast = 0;
  const fillTo = (leave: number) => {
    const free = () => { const s = fs.statfsSync(dir); return s.bavail * s.bsize; };
    while (free() > leave) fs.writeFileSync(path.join(dir, `ballast-${ballast++}`), Buffer.alloc(Math.max(512, Math.min(free() - leave, 1 << 20))));
  };
  const emptyBallast = () => { for (const n of fs.readdirSync(dir)) if (n.startsWith('ballast-')) fs.rmSync(path.join(dir, n)); };

  before(() => {
    if (skip) return;
    const video = makeVideo(work, 'clip', { width: 320, height: 192, frames: 24, fps: 12, audio: true });
    project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '128']).code, 0);
    assert.equal(rerender(['keyframes', project, '--set', '0,12,23']).code, 0);
    for (const f of [0, 12, 23]) {
      const r = rerender(['import-keyframe', project, '--frame', String(f), '--image', path.join(dir, 'clip.cache', 'frames', `${String(f).padStart(5, '0')}.png`)]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('given 60 KB free, when exporting a video, then it fails saying the disk is full and how much it needs, and no broken file is left', { skip }, () => {
    fillTo(60 * 1024);
    const out = path.join(dir, 'out.mp4');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--json']);
    emptyBallast();
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /the disk is full \(.*: \d+(\.\d)? KB free\); this export needs about \d/);
    assert.doesNotMatch(r.stdout, /"ok":true/);
    assert.equal(fs.existsSync(out), false);
    assert.deepEqual(noTemps(dir), []);
  });

  test('given little space, when propagating, then it says what is full and how much is needed instead of ENOSPC', { skip }, () => {
    fillTo(100 * 1024);
    const r = rerender(['propagate', project]);
    emptyBallast();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the disk is full \(.*clip\.cache: \d+(\.\d)? KB free\); propagating \d+ frames needs about \d+(\.\d)? MB/);
    assert.doesNotMatch(r.stderr, /internal error|ENOSPC/);
    assert.deepEqual(noTemps(path.join(dir, 'clip.cache')), []);
    const again = rerender(['propagate', project]);
    assert.equal(again.code, 0, `with space again it runs: ${again.stderr}`);
  });

  test('given no space at all, when setting keyframes, then the message says the disk is full', { skip }, () => {
    fillTo(0);
    const r = rerender(['keyframes', project, '--every', '5']);
    emptyBallast();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the disk is full/);
    assert.doesNotMatch(r.stderr, /internal error|ENOSPC/);
  });

  test('given little space, when making a project, then decoding is refused up front with the space it needs and leaves nothing', { skip }, () => {
    fillTo(200 * 1024);
    const video = makeVideo(work, 'big', { width: 640, height: 384, frames: 48, fps: 12 });
    const r = rerender(['new', path.join(dir, 'big.rerender'), '--video', video, '--short-side', '384']);
    emptyBallast();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the disk is full \(.*\); decoding 48 frames( at \d+×\d+)? needs about \d/);
    assert.equal(fs.existsSync(path.join(dir, 'big.rerender')), false);
    assert.deepEqual(fs.existsSync(path.join(dir, 'big.cache')) ? noTemps(path.join(dir, 'big.cache')) : [], []);
  });
});
