// After a crash: the tools we started end with us (kill -9 included), the temp files a killed run left
// are removed by the next one, and a deleted cache is rebuilt by whichever command needs it.
import { test, describe, before } from 'node:test';
import { readProjectFile } from '../../main/engine/project/project-file';
import { currentOutputFrames } from '../../main/engine/project/output-keys';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rerender, binPath } from '../helpers/cli';
import { makeVideo, tempDir } from '../helpers/media';

/** Processes whose command line mentions `needle` (Linux: /proc). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) pids.push(Number(name));
    } catch { /* ended meanwhile */ }
  }
  return pids;
}

async function waitFor(what: string, check: () => boolean, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 10; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`gave up waiting for ${what}`);
}

const linuxOnly = process.platform !== 'linux' ? 'watches processes through /proc (Linux)' : undefined;

describe('a killed run', () => {
  test('given `rerender new` decoding, when it is killed with SIGKILL, then ffmpeg ends too and the next run removes the half-decoded frames', { skip: linuxOnly }, async () => {
    const dir = tempDir('rerender-kill-');
    const video = path.join(dir, 'long-unique-name.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30:duration=40', '-c:v', 'libx264', '-preset', 'ultrafast', video]);
    const project = path.join(dir, 'p.rerender');
    const cache = path.join(dir, 'p.cache');
    const child = spawn(process.execPath, [binPath, 'new', project, '--video', video], { stdio: 'ignore' });
    const decoding = () => (fs.existsSync(cache) ? fs.readdirSync(cache).filter((n) => n.includes('.decoding-')) : []);
    await waitFor('decoding to start', () => decoding().some((d) => fs.readdirSync(path.join(cache, d)).length > 3));
    assert.ok(processesMentioning(video).length > 1, 'ffmpeg decodes beside the CLI');
    child.kill('SIGKILL');
    await waitFor('ffmpeg to end', () => processesMentioning(video).length === 0);
    const left = decoding();
    assert.ok(left.length > 0, 'the killed run left its temp folders');
    const decoded = Math.max(...left.map((d) => fs.readdirSync(path.join(cache, d)).filter((n) => n.endsWith('.png')).length));
    assert.ok(decoded < 1200, `ffmpeg stopped with its parent instead of decoding all 1200 frames (it wrote ${decoded})`);

    const again = rerender(['new', project, '--video', video, '--short-side', '64']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(decoding(), [], 'the next run removed them');
  });

  test('given temp files a killed export left beside its output, when exporting again, then only those are removed', () => {
    const dir = tempDir('rerender-leftover-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 12, fps: 12 });
    const project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid; // a process that has ended
    const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
    const leftover = path.join(dir, `.out.mp4.exporting-${deadPid}@${host}-lq3x9z-0`);
    fs.writeFileSync(leftover, 'half a video');
    const running = path.join(dir, `.other.mp4.exporting-${process.pid}@${host}-lq3x9z-1`); // a run still going
    fs.writeFileSync(running, 'in progress');
    // On a shared disk: another machine's half-written file, whose pid means nothing here, and one
    // whose name does not say its machine (an earlier version's): both are kept until a day old.
    const elsewhere = path.join(dir, `.out.mp4.exporting-${deadPid}@another-host.example-lq3x9z-2`);
    fs.writeFileSync(elsewhere, 'written by a farm worker');
    const unnamed = path.join(dir, `.out.mp4.exporting-${deadPid}-lq3x9z-3`);
    fs.writeFileSync(unnamed, 'whose?');
    const old = path.join(dir, `.old.mp4.exporting-${deadPid}@another-host-lq3x9z-4`);
    fs.writeFileSync(old, 'untouched for two days');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    fs.utimesSync(old, twoDaysAgo, twoDaysAgo);
    const mine = path.join(dir, '.my-hidden-notes');
    fs.writeFileSync(mine, 'keep');
    const r = rerender(['export', project, '--out', path.join(dir, 'out.mp4'), '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(leftover), false);
    assert.equal(fs.readFileSync(running, 'utf8'), 'in progress');
    assert.equal(fs.readFileSync(elsewhere, 'utf8'), 'written by a farm worker', "another machine's temp file is not judged by a pid");
    assert.equal(fs.readFileSync(unnamed, 'utf8'), 'whose?');
    assert.equal(fs.existsSync(old), false, 'a day-old temp file is removed whoever wrote it');
    assert.equal(fs.readFileSync(mine, 'utf8'), 'keep');
  });
});

describe('a deleted cache', () => {
  let dir: string;
  let project: string;
  before(() => {
    dir = tempDir('rerender-nocache-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 24, fps: 12, audio: true });
    project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    // Keyframes made from the frames themselves (0, 10, 20), copied into the project's assets.
    for (const f of [0, 10, 20]) {
      const image = path.join(dir, `key-${f}.png`);
      fs.copyFileSync(path.join(dir, 'clip.cache', 'frames', `${String(f).padStart(5, '0')}.png`), image);
      assert.equal(rerender(['import-keyframe', project, '--frame', String(f), '--image', image]).code, 0);
    }
  });
  const removeCache = () => fs.rmSync(path.join(dir, 'clip.cache'), { recursive: true, force: true });

  test('given no cache, when propagating, then the frames are decoded again and every frame is propagated', async () => {
    removeCache();
    const r = rerender(['propagate', project, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(currentOutputFrames(project, await readProjectFile(project)).files.filter(Boolean).length, 24);
  });

  test('given one decoded frame deleted, when propagating again from scratch, then it is rebuilt instead of failing', () => {
    fs.rmSync(path.join(dir, 'clip.cache', 'output'), { recursive: true });
    fs.rmSync(path.join(dir, 'clip.cache', 'frames', '00005.png'));
    const r = rerender(['propagate', project]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(dir, 'clip.cache', 'frames', '00005.png')));
  });

  test('given no cache, when suggesting keyframes from content or exporting with source frames, then each rebuilds what it needs', () => {
    removeCache();
    const auto = rerender(['keyframes', project, '--auto', '--min', '3', '--max', '12']);
    assert.equal(auto.code, 0, auto.stderr);
    removeCache();
    const out = path.join(dir, 'side.mp4');
    const exported = rerender(['export', project, '--out', out, '--allow-incomplete', '--side-by-side']);
    assert.equal(exported.code, 0, exported.stderr);
    assert.ok(!/open the project again/.test(exported.stderr));
  });
});
