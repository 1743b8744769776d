// Farm test pieces: a tiny propagation project (generated clip, styled keyframes, fast settings),
// `rerender farm worker` processes whose log lines the test can wait for, and keyframe renders compared.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import crypto from 'node:crypto';
import sharp from 'sharp';
import { createProject } from '../../main/engine/project/create';
import assert from 'node:assert/strict';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { orderedKeyframes, readRecord } from '../../main/engine/render/render-records';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { makeVideo } from './media';
import { binPath } from './cli';
import { SD_TINY } from './fixtures';
import type { Project } from '../../preload/project-schema';

/** A project of `frames` frames with styled keyframes at `keys`, in `dir` (the clip, project and cache). */
export async function makeFarmProject(dir: string, frames: number, keys: number[], size = 96, source = { width: 192, height: 108 }): Promise<{ file: string; project: Project }> {
  const video = makeVideo(dir, 'clip', { ...source, fps: 24, frames });
  const file = path.join(dir, 'clip.rerender');
  let p = await createProject(file, video, { size });
  // Fast settings for tests: quality is the propagation benchmark's business.
  p = { ...setKeyframeFrames(p, keys), propagation: { ...p.propagation, searchVoteIters: 2, patchMatchIters: 2, workers: 1 } };
  for (const k of keys) {
    const styled = path.join(dir, `key-${k}.png`);
    await sharp(path.join(projectPaths(file).framesDir, frameFileName(k))).modulate({ saturation: 1.8, hue: 120 }).median(3).toFile(styled);
    p = await importKeyframeImage(file, p, k, styled);
  }
  await writeProjectFile(file, p);
  return { file, project: p };
}

/**
 * Output frames of a project, by name, as bytes: those in the output folder and in each segment's
 * output-key folder under it (output/<key>/, where propagation writes them).
 */
export function outputFrames(file: string): Map<string, Buffer> {
  const dir = projectPaths(file).outputDir;
  if (!fs.existsSync(dir)) return new Map();
  const found: Array<[string, string]> = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && /^\d+\.png$/.test(entry.name)) found.push([entry.name, path.join(dir, entry.name)]);
    if (entry.isDirectory()) for (const n of fs.readdirSync(path.join(dir, entry.name))) if (/^\d+\.png$/.test(n)) found.push([n, path.join(dir, entry.name, n)]);
  }
  found.sort((a, b) => a[0].localeCompare(b[0]));
  return new Map(found.map(([n, f]) => [n, fs.readFileSync(f)]));
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker printed on stderr so far. */
  log(): string;
  /** Resolves when a log line matches (rejects if the worker exits first). */
  waitFor(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code (or signal). */
  exited: Promise<number | string>;
}

export function startWorker(args: string[], env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, [binPath, 'farm', 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let text = '';
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      const m = text.split('\n').find((l) => w.pattern.test(l));
      if (m !== undefined) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m); }
    }
  };
  child.stderr!.on('data', (d: Buffer) => { text += d.toString(); check(); });
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    log: () => text,
    waitFor: (pattern) => new Promise((resolve, reject) => {
      waiters.push({ pattern, resolve });
      check();
      exited.then((code) => reject(new Error(`the worker exited (${code}) before printing ${pattern}:\n${text}`)));
    }),
    exited,
  };
}

/** Stops a worker with Ctrl-C (it finishes its job) and waits for it. */
export async function stopWorker(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGINT');
  await w.exited;
}

/** Runs `rerender <args>` asynchronously (the submitter), collecting its output. */
export function runCli(args: string[]): { child: ChildProcess; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { child, done };
}

/** Each keyframe's image bytes and render record, in timeline order. */
export async function keyframeImages(file: string): Promise<Array<{ frame: number; bytes: Buffer; settingsKey?: string; dependsOn?: unknown }>> {
  const p = await readProjectFile(file);
  return orderedKeyframes(p).map((k) => {
    assert.equal(k.status, 'done', `the keyframe at frame ${k.frame} of ${file} is rendered`);
    const rec = readRecord(file, k);
    return { frame: k.frame, bytes: fs.readFileSync(path.join(projectPaths(file).dir, k.image!)), settingsKey: rec?.settingsKey, dependsOn: rec?.dependsOn.map(({ id: _id, ...d }) => d) }; // ids are random per project
  });
}

/** The keyframes of two projects are the same renders: image bytes, settings keys and dependencies. */
export async function assertSameRenders(farm: string, local: string): Promise<void> {
  const a = await keyframeImages(farm), b = await keyframeImages(local);
  assert.deepEqual(a.map((x) => x.frame), b.map((x) => x.frame));
  for (let i = 0; i < a.length; i++) {
    assert.ok(a[i].bytes.equals(b[i].bytes), `the keyframe at frame ${a[i].frame} is byte-identical to the local render`);
    assert.equal(a[i].settingsKey, b[i].settingsKey, 'the same settings key is recorded');
    assert.deepEqual(a[i].dependsOn, b[i].dependsOn, 'the same dependencies are recorded');
  }
}

/**
 * A models folder holding the fixture models under `name` (a link to this checkout's test/fixtures/sd-tiny),
 * kept between runs so the compiled tiny graphs are built once (its `compiled/` cache is keyed by the weights);
 * `tag` names the folder (one per test file, so two files never build into one cache at once). The folder is named by the checkout, so two checkouts never share (or fight over) one link, and a link left
 * dangling by a deleted checkout is replaced.
 */
export function fixtureModelsFolder(name: string, tag = name): string {
  const checkout = crypto.createHash('sha256').update(SD_TINY).digest('hex').slice(0, 10);
  const dir = path.join(os.tmpdir(), `rerender-test-models-farm-${tag}-${checkout}`);
  fs.mkdirSync(dir, { recursive: true });
  const link = path.join(dir, name);
  let current: string | undefined;
  try { current = fs.readlinkSync(link); } catch { /* absent (or not a link: replaced below) */ }
  if (current === SD_TINY && fs.existsSync(link)) return dir;
  fs.rmSync(link, { recursive: true, force: true });
  try {
    fs.symlinkSync(SD_TINY, link);
  } catch (e) {
    // Another test file of this run made it at the same moment: fine when it is the same link.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || fs.readlinkSync(link) !== SD_TINY) throw e;
  }
  return dir;
}
