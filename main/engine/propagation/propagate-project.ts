// Propagating a whole project: keyframes copied to the output as rendered, every segment synthesised
// (several at once), progress with ETA, cancel, and resume: finished frames of unchanged segments are kept.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { FlowCache } from '../flow/flow-cache';
import type { Project } from '../../../preload/project-schema';
import { frameFileName, projectPaths } from '../project/paths';
import { segmentsOf, type Segment } from '../project/keyframes';
import { checkCacheFiles, resolveInProject } from '../project/confinement';
import { completeMarker, inputsOf, isComplete, lastRunPath, propagationSettingsKey, segmentOutputDir, segmentOutputKey, sourceKey, type LastRun } from '../project/output-keys';
import { readRgb } from '../media/image-files';
import { removeLeftovers, writeFileAtomic } from '../fs/atomic';
import { diskFullError, isDiskFull, requireFreeSpace } from '../fs/disk-space';
import { ensureFrameCache } from '../project/source-video';
import { propagationBytesNeeded } from './space-needed';
import { requireRegularFile } from '../fs/regular-file';
import { propagateSegment, cleanSegment, chainFrames, chainStores } from './segment';
import { writeSegmentCoverage } from './coverage';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';
import { count, listed, noun } from '../../../preload/plural';

export interface PropagateOptions {
  /** Only this segment ("A-B" as `rerender info` lists them). */
  segmentId?: string;
  /** Segments run at the same time (default: the project's setting). */
  workers?: number;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
  /** Per-segment progress for the UI. */
  onSegment?: (id: string, done: number, total: number) => void;
}

export interface PropagateResult {
  segments: number;
  /** Output frames written by this run, and finished ones kept from an earlier run. */
  framesWritten: number;
  framesKept: number;
  /** Syntheses done by this run, and ones reused from an interrupted earlier run. */
  synthesesRun: number;
  synthesesReused: number;
  /** Segments left out because a keyframe of theirs has no finished image (the rest ran). */
  skipped?: SkippedSegments;
}

/** Settings that change the propagated pixels; a change gives every segment another output key. */
export const settingsFingerprint = propagationSettingsKey;

/** Below this many pixels per frame a synthesis runs on one thread: handing every parallel pass out
 *  costs about what the work it shares saves. (When each pass started its own threads, 64×64 took 6 ms on
 *  one thread and 25 ms on two on a busy 2-core machine; the addon's persistent pool brought two threads
 *  to about one thread's CPU time, 9 ms against 10 ms at load 14, so the limit stays where it was.) */
const PIXELS_WORTH_THREADING = 128 * 128;

/** Threads for each synthesis when `workers` segments run at once. */
export function synthesisThreads(pixels: number, workers: number): number {
  if (pixels < PIXELS_WORTH_THREADING) return 1;
  return Math.max(1, Math.floor(os.cpus().length / workers));
}

/**
 * What reading back a chain step an interrupted run stored costs, against synthesising it: resumed runs
 * read one in about 0.35 s against 8 s a synthesis (a real clip at 256×448, fast settings of 4 and 2
 * iterations, load 20) and in 0.2 s against 1.5 s (the sample at 448×256, default settings).
 */
const RESUMED_STEP_WORK = 0.1;

/**
 * What finishing an output frame (blending the two directions, measuring its coverage, writing it)
 * costs, against a synthesis: in runs of the sample with 2 workers at load 20–29, a two-sided segment's
 * forward chain, which finishes the frames, took 1.35 times its backward chain at 448×256 and 1.7 times
 * at 896×512 (default settings).
 */
const FRAME_WORK = 0.5;

/**
 * A segment's output frames already written, and the work left to do for it in syntheses: its chains'
 * steps (chainFrames), each stored one at what reading it costs, and the frames to write; none when
 * every frame is written.
 */
function planSegment(s: Segment, outputFile: (frame: number) => string, workDir: string): { done: Set<number>; work: number } {
  const done = new Set(range(s.start, s.end).filter((f) => fs.existsSync(outputFile(f))));
  const chains = chainFrames(s, (f) => done.has(f));
  const stores = chainStores(workDir);
  const steps = chains.forward.reduce((n, f) => n + (stores.forward.has(f) ? RESUMED_STEP_WORK : 1), 0)
    + chains.backward.reduce((n, f) => n + (stores.backward.has(f) ? RESUMED_STEP_WORK : 1), 0);
  return { done, work: steps + (s.end - s.start + 1 - done.size) * FRAME_WORK };
}

function range(first: number, last: number): number[] {
  return last < first ? [] : Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** The project's flow cache (shared with keyframe rendering and the metrics), keyed by source and size. */
export function openProjectFlows(projectFile: string, p: Project): Promise<FlowCache> {
  const paths = projectPaths(projectFile);
  return FlowCache.open({ dir: paths.flowDir, framesDir: paths.framesDir, sourceKey: sourceKey(p) });
}

/** Segments a propagation leaves out because a keyframe of theirs has no finished image: their ids, and one line saying so. */
export interface SkippedSegments { ids: string[]; note: string }

const unfinished = (k: Segment['left']) => !!k && (!k.image || k.status !== 'done');

/**
 * The segments a propagation runs: the one asked for, or every segment whose keyframes have finished
 * images (the others skipped, with why). Refused, in one line, when none can run. Local runs, the farm's
 * submitter and the editor (which marks failed only segments that ran) all ask this.
 */
export function runnableSegments(p: Project, segmentId?: string): { segments: Segment[]; skipped?: SkippedSegments } {
  if (p.keyframes.length === 0) throw new UserError('the project has no keyframes; add keyframes first');
  let segments = segmentsOf(p);
  if (segmentId) {
    segments = segments.filter((s) => s.id === segmentId);
    if (!segments.length) throw new UserError(`no segment "${segmentId}"; segments are ${segmentsOf(p).map((s) => s.id).join(', ')}`);
  }
  const ready = segments.filter((s) => !unfinished(s.left) && !unfinished(s.right));
  const left = segments.filter((s) => !ready.includes(s));
  if (!left.length) return { segments };
  const frames = [...new Set(left.flatMap((s) => [s.left, s.right]).filter(unfinished).map((k) => k!.frame))].sort((a, b) => a - b);
  const why = `the ${noun(frames.length, 'keyframe')} at ${noun(frames.length, 'frame')} ${listed(frames)} ${frames.length === 1 ? 'has' : 'have'} no finished image yet`;
  if (!ready.length) throw new UserError(`${why}; render or import ${frames.length === 1 ? 'it' : 'them'} first`);
  const ids = left.map((s) => s.id);
  return { segments: ready, skipped: { ids, note: `skipped ${count(ids.length, 'segment')} (${ids.join(', ')}): ${why}; render or import ${frames.length === 1 ? 'it' : 'them'}, then propagate again` } };
}

export async function propagateProject(projectFile: string, p: Project, opts: PropagateOptions = {}): Promise<PropagateResult> {
  const paths = projectPaths(projectFile);
  const { segments, skipped } = runnableSegments(p, opts.segmentId);
  await ensureFrameCache(projectFile, p, { cancel: opts.cancel }); // a deleted cache is rebuilt, not an error
  // The engine reads these folders' files by name: none may be a link out of the project.
  checkCacheFiles(projectFile, paths.framesDir, 'decoded frame');
  checkCacheFiles(projectFile, paths.flowDir, 'flow cache');
  const space = { bytes: 0, what: 'propagating' };
  try {
    return { ...await propagate(projectFile, p, segments, opts, space), ...(skipped ? { skipped } : {}) };
  } catch (err) {
    for (const s of segments) await removeLeftovers(segmentOutputDir(projectFile, segmentOutputKey(p, s)));
    if (isDiskFull(err)) throw diskFullError(paths.cacheDir, space.what, space.bytes, 'finished frames are kept: run propagate again to continue');
    throw err;
  }
}

async function propagate(projectFile: string, p: Project, segments: Segment[], opts: PropagateOptions, space: { bytes: number; what: string }): Promise<PropagateResult> {
  const paths = projectPaths(projectFile);
  await fsp.mkdir(paths.outputDir, { recursive: true });
  await fsp.mkdir(paths.segmentsDir, { recursive: true });
  const sourceFrame = (i: number) => readRgb(path.join(paths.framesDir, frameFileName(i)));
  const keyStyle = async (k: Segment['left']) => {
    if (!k) return undefined;
    const image = resolveInProject(projectFile, k.image!);
    requireRegularFile(image, `image of the keyframe at frame ${k.frame}`);
    return readRgb(image);
  };
  // Each segment's frames go under the key of its inputs: output made from other inputs stays (undo
  // returns to it), and a run with the same inputs continues where an earlier one stopped.
  const keys = new Map(segments.map((s) => [s.id, segmentOutputKey(p, s)]));
  const outputOf = (s: Segment) => (f: number) => path.join(segmentOutputDir(projectFile, keys.get(s.id)!), frameFileName(f));

  // Progress is the work this run has to do, in syntheses: what an earlier run finished (kept frames,
  // finished segments) is left out, a chain step read back from an interrupted run weighs what reading
  // it costs and a frame written what finishing it costs, so the fraction moves in proportion to time
  // and the ETA measured from it holds.
  const plans = new Map(segments.map((s) => [s.id, planSegment(s, outputOf(s), path.join(paths.segmentsDir, keys.get(s.id)!))]));
  const total = [...plans.values()].reduce((n, plan) => n + plan.work, 0);
  let work = 0;
  let framesWritten = 0;
  let framesKept = 0;
  let synthesesRun = 0;
  let synthesesReused = 0;
  /** Frames finished in this run so far (kept ones included), for "frame n of m" in the progress. */
  let framesFinished = 0;
  const frameTotal = segments.reduce((n, s) => n + (s.end - s.start + 1), 0);
  const report = (message: string) => opts.onProgress?.(total ? Math.min(0.999, work / total) : 1, `${framesFinished} of ${frameTotal} frames done · ${message}`);
  const workers = Math.max(1, Math.min(opts.workers ?? p.propagation.workers, segments.length || 1));
  const threads = synthesisThreads(p.working.width * p.working.height, workers);

  const flows = await openProjectFlows(projectFile, p);
  const pending = segments.map((s) => ({ segment: s, pending: s.end - s.start + 1 - plans.get(s.id)!.done.size }));
  const flowPairs = new Set(segments.flatMap((s) => range(s.start, s.end - 1)));
  const needed = propagationBytesNeeded({
    framesDir: paths.framesDir, width: p.working.width, height: p.working.height, workers, segments: pending,
    missingFlows: [...flowPairs].filter((i) => !flows.has(i)).length,
  });
  Object.assign(space, { bytes: needed, what: `propagating ${pending.reduce((n, s) => n + s.pending, 0)} frames` });
  requireFreeSpace(paths.cacheDir, space.bytes, space.what);
  const runOne = async (s: Segment) => {
    const key = keys.get(s.id)!;
    const inputs = inputsOf(p, s);
    const outputFile = outputOf(s);
    const outDir = segmentOutputDir(projectFile, key);
    await fsp.mkdir(outDir, { recursive: true });
    await removeLeftovers(outDir); // half-written frames of a run that was killed
    const last: LastRun = { key, inputs };
    await writeFileAtomic(lastRunPath(projectFile, s.id), JSON.stringify(last));
    // Intermediates (the two chains) are kept per key until the segment is done, so a resume reuses them.
    const workDir = path.join(paths.segmentsDir, key);
    const { done } = plans.get(s.id)!;
    framesKept += done.size;
    if (done.size === s.end - s.start + 1 && isComplete(projectFile, key)) {
      // Finished with these inputs (now or by an earlier run): nothing to do.
      opts.onSegment?.(s.id, done.size, done.size);
      return;
    }
    // A finished segment is skipped whole; otherwise its chains step through every frame up to the last
    // one to write (fast where results are stored), and progress counts those steps as they come.
    let finished = 0;
    // A two-sided segment's frames are finished one by one while its forward chain runs (its backward
    // chain comes first, see segment.ts): the fraction follows the syntheses and frames, the message both.
    const segmentSteps = (s.end - s.start + 1) * (s.left && s.right ? 2 : 1);
    let segmentStep = 0;
    const coverage = await propagateSegment({
      outputDir: outDir, segment: s, leftStyle: await keyStyle(s.left), rightStyle: await keyStyle(s.right), workDir, outputFile, sourceFrame,
      flows, settings: p.propagation, seed: p.render.seed, threads, cancel: opts.cancel,
      isDone: (f) => done.has(f),
      onStep: (resumed) => {
        work += resumed ? RESUMED_STEP_WORK : 1;
        segmentStep++;
        if (resumed) synthesesReused++; else synthesesRun++;
        report(`frames ${s.start}–${s.end}: ${Math.min(segmentStep, segmentSteps)} of ${segmentSteps} syntheses`);
      },
      onFrameDone: (f) => {
        finished++;
        framesFinished++;
        if (!done.has(f)) {
          framesWritten++;
          work += FRAME_WORK;
          report(`frames ${s.start}–${s.end}: ${Math.min(segmentStep, segmentSteps)} of ${segmentSteps} syntheses, frame ${f} written`);
        }
        opts.onSegment?.(s.id, finished, s.end - s.start + 1);
      },
    });
    await writeSegmentCoverage(outDir, s.start, s.end, coverage);
    await writeFileAtomic(completeMarker(projectFile, key), JSON.stringify(inputs));
    await cleanSegment(workDir);
  };

  const queue = [...segments];
  await Promise.all(Array.from({ length: workers }, async () => {
    for (let s = queue.shift(); s; s = queue.shift()) await runOne(s);
  }));
  opts.onProgress?.(1, `propagated ${count(segments.length, 'segment')}`);
  return { segments: segments.length, framesWritten, framesKept, synthesesRun, synthesesReused };
}
