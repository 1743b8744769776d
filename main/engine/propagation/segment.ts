// Propagating one segment: forward from the left keyframe, backward from the right one, then the two
// directions blended per frame (docs/METHOD.md §4.2). A head or tail segment has one direction only.
import path from 'node:path';
import fsp from 'node:fs/promises';
import type { Image } from '../../../native-models/src/image';
import { warpImage } from '../../../native-models/src/flow';
import { runChain, type PropagationInputs } from './chain';
import { ChainStore, type ChainStep } from './frame-store';
import { blendDirections, blendWeights } from '../../../native-models/src/blend';
import { writePng } from '../media/image-files';
import type { Segment } from '../project/keyframes';
import { coverageMapFile, frameCoverage, writeCoverageMap, type FrameCoverage } from './coverage';
import fs from 'node:fs';

export interface SegmentJob extends PropagationInputs {
  segment: Segment;
  /** Stylised keyframe images, by keyframe frame index. */
  leftStyle?: Image;
  rightStyle?: Image;
  /** Folder for this segment's intermediates (chains); removed when the segment is done. */
  workDir: string;
  /** Where final frames go (the project's output folder). */
  outputFile(frame: number): string;
  /** Called once per finished output frame (including ones found finished from an earlier run). */
  onFrameDone?: (frame: number) => void;
  /** Called per chain step (two per blended frame), for finer progress; `resumed` when loaded from an earlier run. */
  onStep?: (resumed: boolean) => void;
  /** Output frames already finished (resume): they are not written again. */
  isDone(frame: number): boolean;
  /** The folder of the segment's output, where each frame's coverage map goes beside it. */
  outputDir: string;
}

/**
 * Propagates the segment; returns how well each frame is covered by its keyframes (coverage.ts), for
 * every frame whose chain results are at hand (all of them unless a finished run's scratch is gone).
 */
export async function propagateSegment(job: SegmentJob): Promise<Map<number, FrameCoverage>> {
  const { segment: s } = job;
  const coverage = new Map<number, FrameCoverage>();
  const frames = Array.from({ length: s.end - s.start + 1 }, (_, i) => s.start + i);
  const pending = frames.filter((f) => !job.isDone(f));
  frames.filter((f) => job.isDone(f)).forEach((f) => job.onFrameDone?.(f));
  const { forward, backward } = chainStores(job.workDir);
  const measure = async (c: number, a: Parameters<typeof frameCoverage>[0], b?: Parameters<typeof frameCoverage>[1], mask?: Image) => {
    const { figure, map } = frameCoverage(a, b, mask);
    coverage.set(c, figure);
    if (!fs.existsSync(coverageMapFile(job.outputDir, c))) await writeCoverageMap(job.outputDir, c, map);
  };
  if (pending.length === 0) {
    // Every frame was written by a run killed before it finished: its chain results give the figures.
    for (const c of frames) {
      const a = await (s.left ? forward : backward).load(c);
      const b = s.left && s.right ? await backward.load(c) : undefined;
      if (!a || (s.left && s.right && !b)) return coverage;
      await measure(c, a, b, b ? blendWeights(a.error, b.error, (c - s.left!.frame) / (s.right!.frame - s.left!.frame)) : undefined);
    }
    return coverage;
  }
  const common = { sourceFrame: job.sourceFrame, flows: job.flows, settings: job.settings, seed: job.seed, threads: job.threads, cancel: job.cancel, onFrame: (_frame: number, resumed: boolean) => job.onStep?.(resumed) };
  const { forward: forwardFrames, backward: backwardFrames } = chainFrames(s, job.isDone);
  const lastForward = Math.max(...pending);
  const firstBackward = Math.min(...pending);
  const both = !!(s.left && s.right);
  // Each frame is finished (blended, measured, written) as soon as what it needs is at hand, so the
  // output appears frame by frame while the segment runs. The blend's temporal coherence carries each
  // frame's mask into the next (docs/METHOD.md §4.2), from the left keyframe on, and frame `start` needs
  // the backward chain's last step: so in a two-sided segment the backward chain runs first, then the
  // forward chain, and each forward step is blended with the stored backward step of its frame.
  let previousMask: { frame: number; mask: Image } | undefined;
  const finish = async (c: number, a: ChainStep, b?: ChainStep): Promise<void> => {
    if (!b) {
      await measure(c, a);
      if (job.isDone(c)) return;
      await writePng(job.outputFile(c), a.image);
      job.onFrameDone?.(c);
      return;
    }
    // Temporal coherence of the mask needs the previous frame's mask moved into this frame.
    let warpedMask: Image | undefined;
    if (previousMask && previousMask.frame === c - 1) warpedMask = await warpImage(previousMask.mask, (await job.flows.pair(c - 1)).backward, 'nearest');
    const w1 = (c - s.left!.frame) / (s.right!.frame - s.left!.frame);
    const mask = blendWeights(a.error, b.error, w1, warpedMask);
    previousMask = { frame: c, mask };
    await measure(c, a, b, mask);
    if (job.isDone(c)) return; // written by an earlier run: its mask was still needed for the next frame
    const image = await blendDirections({ a: a.image, b: b.image, mask, weightB: w1, fusion: job.settings.gradientFusion });
    await writePng(job.outputFile(c), image);
    job.onFrameDone?.(c);
  };
  const stored = async (store: ChainStore, c: number): Promise<ChainStep> => {
    const step = await store.load(c);
    if (!step) throw new Error(`propagation result for frame ${c} is missing`);
    return step;
  };
  // A frame is finished while the chain goes on to the next one: one frame at most waits to be finished
  // (memory stays flat), and a failure stops the chain at its next step.
  let finishing: Promise<void> = Promise.resolve();
  const handOn = (work: () => Promise<void>) => async () => {
    await finishing;
    job.cancel?.throwIfCancelled();
    finishing = work();
    finishing.catch(() => undefined); // awaited by the next step or after the chain
  };
  const settle = async (run: Promise<void>) => {
    // Nothing may still be writing when an error goes on (the caller cleans up after it).
    const [chain, last] = await Promise.allSettled([run, run.then(() => finishing, () => finishing.catch(() => undefined))]);
    if (chain.status === 'rejected') throw chain.reason;
    if (last.status === 'rejected') throw last.reason;
  };
  if (both) {
    await runChain({ ...common, keyFrame: s.right!.frame, style: job.rightStyle!, frames: backwardFrames, direction: 'backward', store: backward });
    await settle(runChain({
      ...common, keyFrame: s.left!.frame, style: job.leftStyle!, frames: forwardFrames, direction: 'forward', store: forward,
      onStep: (c, a) => handOn(async () => finish(c, a, await stored(backward, c)))(),
    }));
    for (const c of frames.filter((f) => f > lastForward)) {
      job.cancel?.throwIfCancelled();
      await finish(c, await stored(forward, c), await stored(backward, c));
    }
  } else if (s.left) {
    await settle(runChain({ ...common, keyFrame: s.left.frame, style: job.leftStyle!, frames: forwardFrames, direction: 'forward', store: forward, onStep: (c, a) => handOn(() => finish(c, a))() }));
    for (const c of frames.filter((f) => f > lastForward)) await finish(c, await stored(forward, c));
  } else if (s.right) {
    await settle(runChain({ ...common, keyFrame: s.right.frame, style: job.rightStyle!, frames: backwardFrames, direction: 'backward', store: backward, onStep: (c, b) => handOn(() => finish(c, b))() }));
    for (const c of frames.filter((f) => f < firstBackward)) await finish(c, await stored(backward, c));
  }
  return coverage;
}

/** The stores of a segment's two chains under its folder of intermediates (what a resumed run continues from). */
export function chainStores(workDir: string): { forward: ChainStore; backward: ChainStore } {
  return { forward: new ChainStore(path.join(workDir, 'forward')), backward: new ChainStore(path.join(workDir, 'backward')) };
}

/**
 * The frames each direction's chain steps through, in chain order, given the output frames already
 * written: a chain runs from its keyframe through every frame up to the last one still to write (each
 * step needs the one before), and a direction the segment lacks has none. Nothing to write: no steps.
 */
export function chainFrames(s: Segment, isDone: (frame: number) => boolean): { forward: number[]; backward: number[] } {
  const frames = Array.from({ length: s.end - s.start + 1 }, (_, i) => s.start + i);
  const pending = frames.filter((f) => !isDone(f));
  if (!pending.length) return { forward: [], backward: [] };
  const lastForward = Math.max(...pending), firstBackward = Math.min(...pending);
  return {
    forward: s.left ? frames.filter((f) => f <= lastForward) : [],
    backward: s.right ? frames.filter((f) => f >= firstBackward).reverse() : [],
  };
}

/** Removes a finished segment's intermediates. */
export async function cleanSegment(workDir: string): Promise<void> {
  await fsp.rm(workDir, { recursive: true, force: true });
}

