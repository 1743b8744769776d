// One writer per project: a second process is refused with a clear message; a dead owner's lock is taken over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProjectLock, lockPath, withProjectLock } from '../../main/engine/project/project-lock';
import { tempDir } from '../helpers/media';

test('given a project locked by a live process, when another takes it, then it is refused naming the holder', async () => {
  const file = path.join(tempDir(), 'a.rerender');
  const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
  try {
    fs.writeFileSync(lockPath(file), JSON.stringify({ pid: holder.pid, host: os.hostname(), since: 'now', app: 'rerender editor' }));
    assert.throws(() => ProjectLock.acquire(file), new RegExp(`open in another window or process \\(rerender editor, pid ${holder.pid}`));
  } finally {
    holder.kill();
  }
});

test('given a lock left by a crashed process, when opened, then the stale lock is taken over', () => {
  const file = path.join(tempDir(), 'a.rerender');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  fs.writeFileSync(lockPath(file), JSON.stringify({ pid: Number(dead.stdout), host: os.hostname(), since: 'then', app: 'rerender' }));
  const lock = ProjectLock.acquire(file);
  assert.equal(JSON.parse(fs.readFileSync(lockPath(file), 'utf8')).pid, process.pid);
  lock.release();
  assert.equal(fs.existsSync(lockPath(file)), false);
});

test('given a damaged lock file, then it counts as stale', () => {
  const file = path.join(tempDir(), 'a.rerender');
  fs.writeFileSync(lockPath(file), '{not json');
  ProjectLock.acquire(file).release();
});

test('given the lock held, when taken again in the same process and that inner hold is released, then the outer hold still keeps other processes out', async () => {
  const file = path.join(tempDir(), 'a.rerender');
  const outer = ProjectLock.acquire(file);
  const otherProcess = () => spawnSync(process.execPath, ['-e', `
    const fs = require('node:fs');
    try { fs.writeFileSync(${JSON.stringify(lockPath(file))}, 'x', { flag: 'wx' }); process.stdout.write('took it'); }
    catch (e) { process.stdout.write(e.code); }`], { encoding: 'utf8' }).stdout;
  await withProjectLock(file, async () => {
    assert.equal(ProjectLock.holdsOf(file), 2);
    const innermost = ProjectLock.acquire(file);
    innermost.release();
    innermost.release(); // twice: still one hold given up
    assert.equal(ProjectLock.holdsOf(file), 2);
  });
  assert.equal(ProjectLock.holdsOf(file), 1);
  assert.ok(fs.existsSync(lockPath(file)), 'the inner release left the outer hold');
  assert.equal(otherProcess(), 'EEXIST', 'another process still finds the lock');
  outer.release();
  assert.equal(ProjectLock.holdsOf(file), 0);
  assert.equal(fs.existsSync(lockPath(file)), false, 'the last release removes it');
});
