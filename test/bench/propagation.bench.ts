// Propagation side by side with the reference pipeline (issue 14, item 4): for the sample, the real clip
// in ../shared/clips/ and a fast-motion clip made from it, keyframes given as images of a fixed
// stylisation of their frames (so every frame has a known ideal answer), print for our engine and for
// ../shared/bench/reference_pipeline.py on the same keyframes: seconds per output frame, warp error with
// both judge flows (DIS, DeepFlow), sharpness and fidelity (PSNR to the ideal), and the ratios.
// The judges and the reference need Debian's /usr/bin/python3 with python3-opencv (+ python3-scipy for the
// reference) and EBSYNTH_FORK (an EbSynth built from its public source, ../shared/bench/README.md); where
// they are absent this says so and prints what it can for our engine alone.
// Environment: BENCH_CLIPS=sample,real,fast (a subset), BENCH_KEY_GAP=8 (frames between keys),
// BENCH_SEGMENTS=1 (segments per clip, so frames = gap·segments + 1), BENCH_KEEP=DIR (keep every frame
// there, for inspection). The reference's outputs and their scores, and the source video's scores, are
// cached in $TMPDIR/rerender-bench-reference keyed by the clip's frames, keys and the bench scripts (the
// reference costs minutes per frame; delete the folder to run it again), so a rerun judges ours alone.
// Run as `npm run bench -- propagation` (the stage timings and cache figures on the sample are
// propagation-stages.bench.ts, speed per content propagation-speed.bench.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createProject } from '../../main/engine/project/create';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { projectPaths } from '../../main/engine/project/paths';
import { currentOutputFrames, resultFrameFile } from '../../main/engine/project/output-keys';
import { propagateProject, openProjectFlows } from '../../main/engine/propagation/propagate-project';
import { measureWarpError } from '../../main/engine/metrics/warp-error';
import { indexedFrames } from '../../main/engine/media/frames-folder';
import { tempDir } from '../helpers/media';
import { benchClips, benchDir, hasPython, judge, makeFrames, python, sh, size, stylise, type Clip, type JudgeScores } from './bench-clips';

interface Scores extends JudgeScores { secondsPerFrame: number; cpuPerFrame?: number; ours?: number }

async function runOurs(clip: Clip, srcDir: string, keyDir: string, keys: number[], outDir: string): Promise<Scores> {
  const dir = tempDir(`rerender-bench-side-${clip.name}-`);
  try {
    const file = path.join(dir, 'bench.rerender');
    let p = await createProject(file, srcDir, { size, fps: '25' });
    p = setKeyframeFrames(p, keys);
    for (const k of keys) p = await importKeyframeImage(file, p, k, path.join(keyDir, `${String(k).padStart(5, '0')}.png`));
    await writeProjectFile(file, p);
    const t = performance.now();
    const cpu = process.cpuUsage();
    const r = await propagateProject(file, p, { workers: 1 });
    const wall = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const outFrames = r.framesWritten;
    fs.mkdirSync(outDir, { recursive: true });
    for (let i = 0; i < p.frames.count; i++) fs.copyFileSync(resultFrameFile(file, p, i)!, path.join(outDir, `${String(i).padStart(5, '0')}.png`));
    const flows = await openProjectFlows(file, p);
    const err = await measureWarpError({ output: currentOutputFrames(file, p), source: indexedFrames(projectPaths(file).framesDir), sourceFlows: (i) => flows.pair(i) });
    return { secondsPerFrame: wall / outFrames, cpuPerFrame: (used.user + used.system) / 1e6 / outFrames, ours: err.mean };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Hash of every file in the folders (names and bytes) and of the extra strings: a cache key. */
function contentKey(dirs: string[], extra: (string | Buffer)[]): string {
  const h = crypto.createHash('sha256');
  for (const d of dirs) for (const f of fs.readdirSync(d).sort()) h.update(f).update(fs.readFileSync(path.join(d, f)));
  for (const x of extra) h.update(x);
  return h.digest('hex').slice(0, 16);
}

const cacheRoot = () => path.join(os.tmpdir(), 'rerender-bench-reference');

/** A JSON value kept in the cache under `key`, computed by `make` when absent. */
function cachedJson<T>(key: string, name: string, make: () => T): T {
  const file = path.join(cacheRoot(), key, name);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  const value = make();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value));
  fs.renameSync(`${file}.tmp`, file);
  return value;
}

/** The source video's own warp error with both judge flows (the floor no output reaches), cached by its frames. */
function sourceScores(srcDir: string): { dis: number; deep: number } {
  const judgeFile = path.join(benchDir, 'judge.py');
  return cachedJson(contentKey([srcDir], [fs.readFileSync(judgeFile)]), 'source-scores.json', () => ({
    dis: Number(sh(python, [judgeFile, 'warperr', srcDir, srcDir, 'dis'], 'judge.py warperr').trim()),
    deep: Number(sh(python, [judgeFile, 'warperr', srcDir, srcDir, 'deep'], 'judge.py warperr').trim()),
  }));
}

/**
 * The reference pipeline on the same frames and keyframe images, and the judges' scores of its output,
 * cached by content (frames, keyframe images, keys, the pipeline's and the judges' code).
 */
function runReference(srcDir: string, keyDir: string, keys: number[], outDir: string): Scores & { cached: boolean } {
  const key = contentKey([srcDir, keyDir], [keys.join(','), fs.readFileSync(path.join(benchDir, 'reference_pipeline.py'))]);
  const cache = path.join(cacheRoot(), key);
  const info = path.join(cache, 'info.json');
  let cached = true;
  if (!fs.existsSync(info)) {
    cached = false;
    const work = path.join(cache, 'work');
    fs.rmSync(cache, { recursive: true, force: true });
    const out = sh(python, [path.join(benchDir, 'reference_pipeline.py'), 'run', '--src', srcDir, '--keydir', keyDir, '--keys', keys.join(','), '--work', work, '--out', path.join(cache, 'out'), '--jobs', '2'], 'reference_pipeline.py run');
    const log = JSON.parse(out.trim().split('\n').pop()!);
    fs.rmSync(work, { recursive: true, force: true });
    fs.writeFileSync(info, JSON.stringify(log));
  }
  const log = JSON.parse(fs.readFileSync(info, 'utf8'));
  fs.cpSync(path.join(cache, 'out'), outDir, { recursive: true });
  const scores = cachedJson(`${key}/${contentKey([], [fs.readFileSync(path.join(benchDir, 'judge.py'))])}`, 'scores.json', () => judge(outDir, srcDir, keys));
  const outFrames = log.n_frames - keys.length;
  return { secondsPerFrame: log.total_s / outFrames, cpuPerFrame: log.ebsynth_cpu_total_s / outFrames, cached, ...scores };
}

const f = (x: number | undefined, d: number) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
const ratio = (a: number | undefined, b: number | undefined, d = 2) => (a === undefined || b === undefined ? '—' : (a / b).toFixed(d));

async function main(): Promise<void> {
  const started = performance.now();
  const gap = Number(process.env.BENCH_KEY_GAP ?? 8);
  const segments = Number(process.env.BENCH_SEGMENTS ?? 1);
  const count = gap * segments + 1;
  const keys = Array.from({ length: segments + 1 }, (_, i) => i * gap);
  const withPython = hasPython('cv2');
  const withScipy = withPython && hasPython('cv2, scipy');
  const fork = process.env.EBSYNTH_FORK ?? '';
  const withReference = withScipy && fork !== '' && fs.existsSync(fork);
  if (!withPython) console.log(`judges: ${python} with python3-opencv is absent (apt-get install python3-opencv): our own warp error only, style = a sharp filter`);
  if (!withReference) {
    const why = !withScipy ? `${python} with python3-opencv and python3-scipy is absent` : fork === '' ? 'EBSYNTH_FORK is not set' : `EBSYNTH_FORK=${fork} does not exist`;
    console.log(`reference pipeline: not run (${why}; ../shared/bench/README.md says how to build EbSynth): our engine alone`);
  }
  console.log(`${count} frames per clip at ${size}×${size}, keys ${keys.join(', ')}, keyframes = stylize.py of their frames; machine load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const keep = process.env.BENCH_KEEP;
  const rows: string[] = [];
  for (const clip of benchClips()) {
    const dir = keep ? path.join(keep, clip.name) : tempDir(`rerender-bench-vs-${clip.name}-`);
    try {
      const srcDir = path.join(dir, 'src'), keyDir = path.join(dir, 'keys');
      fs.rmSync(dir, { recursive: true, force: true });
      makeFrames(clip, count, srcDir);
      fs.mkdirSync(keyDir, { recursive: true });
      for (const k of keys) await stylise(path.join(srcDir, `${String(k).padStart(5, '0')}.png`), path.join(keyDir, `${String(k).padStart(5, '0')}.png`), withPython);
      const ours = await runOurs(clip, srcDir, keyDir, keys, path.join(dir, 'ours'));
      if (withPython) Object.assign(ours, judge(path.join(dir, 'ours'), srcDir, keys));
      let ref: (Scores & { cached: boolean }) | undefined;
      if (withReference) ref = runReference(srcDir, keyDir, keys, path.join(dir, 'reference'));
      const source = withPython ? sourceScores(srcDir) : undefined;
      console.log(`\n${clip.name}: ${clip.what}, frames ${clip.start}–${clip.start + count - 1}`);
      console.log(`  measure                        ours        reference   ours/ref   source video`);
      const line = (name: string, a: number | undefined, b: number | undefined, d: number, src?: number) =>
        console.log(`  ${name.padEnd(30)} ${f(a, d).padEnd(11)} ${(ref ? f(b, d) : '—').padEnd(11)} ${ratio(a, ref ? b : undefined).padEnd(10)} ${src === undefined ? '' : f(src, d)}`);
      line('s per output frame (wall)', ours.secondsPerFrame, ref?.secondsPerFrame, 2);
      line('CPU s per output frame', ours.cpuPerFrame, ref?.cpuPerFrame, 2);
      line('warp error, DIS judge', ours.dis, ref?.dis, 7, source?.dis);
      line('warp error, DeepFlow judge', ours.deep, ref?.deep, 7, source?.deep);
      line('sharpness (mean |Laplacian|)', ours.sharp, ref?.sharp, 3);
      line('fidelity, PSNR to ideal (dB)', ours.psnr, ref?.psnr, 2);
      line('warp error, our own flow', ours.ours, undefined, 7);
      if (ref?.cached) console.log('  (reference output and scores from the cache; its times are that run\'s)');
      const ok = ref && ours.dis! < ref.dis! && ours.deep! < ref.deep! && ours.sharp! >= ref.sharp! && ours.psnr! >= ref.psnr!;
      rows.push(`${clip.name}: ${ref ? (ok ? 'ahead of the reference on all four quality measures' : 'NOT ahead of the reference on every quality measure') : 'no reference run'}`);
    } finally {
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\n${rows.join('\n')}`);
  const used = process.cpuUsage();
  console.log(`bench: ${((performance.now() - started) / 1000).toFixed(0)} s wall, ${((used.user + used.system) / 1e6).toFixed(0)} s CPU in this process (judges and the reference run in child processes); machine load at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
