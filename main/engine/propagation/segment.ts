// Propagating one segment: forward from the left keyframe, backward from the right one, then the two
// directions blended per frame (docs/METHOD.md §4.2). A head or tail segment has one direction only.
import path from 'node:path';
import fsp from 'node:fs/promises';
import type { Image } from '../../../native-models/src/image';
import { warpImage } from '../../../native-models/src/flow';
import { runChain, type PropagationInputs } from './chain';
import { ChainStore } from './frame-store';
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
  const forward = new ChainStore(path.join(job.workDir, 'forward'));
  const backward = new ChainStore(path.join(job.workDir, 'backward'));
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
  // A chain must run from its keyframe through every frame up to the last pending one (each step needs
  // the one before), but frames already blended need not be re-blended.
  const lastForward = Math.max(...pending);
  const firstBackward = Math.min(...pending);
  if (s.left && job.leftStyle) {
    await runChain({ ...common, keyFrame: s.left.frame, style: job.leftStyle, frames: frames.filter((f) => f <= lastForward), direction: 'forward', store: forward });
  }
  if (s.right && job.rightStyle) {
    await runChain({ ...common, keyFrame: s.right.frame, style: job.rightStyle, frames: frames.filter((f) => f >= firstBackward).reverse(), direction: 'backward', store: backward });
  }
  let previousMask: { frame: number; mask: Image } | undefined;
  for (const c of frames) {
    job.cancel?.throwIfCancelled();
    if (!s.left || !s.right) {
      const only = await (s.left ? forward : backward).load(c);
      if (!only) throw new Error(`propagation result for frame ${c} is missing`);
      await measure(c, only);
      if (job.isDone(c)) continue;
      await writePng(job.outputFile(c), only.image);
      job.onFrameDone?.(c);
      continue;
    }
    const a = await forward.load(c);
    const b = await backward.load(c);
    if (!a || !b) throw new Error(`propagation result for frame ${c} is missing`);
    // Temporal coherence of the mask needs the previous frame's mask moved into this frame.
    let warpedMask: Image | undefined;
    if (previousMask && previousMask.frame === c - 1) warpedMask = await warpImage(previousMask.mask, (await job.flows.pair(c - 1)).backward, 'nearest');
    const w1 = (c - s.left.frame) / (s.right.frame - s.left.frame);
    const mask = blendWeights(a.error, b.error, w1, warpedMask);
    const image = await blendDirections({ a: a.image, b: b.image, mask, weightB: w1, fusion: job.settings.gradientFusion });
    previousMask = { frame: c, mask };
    await measure(c, a, b, mask);
    if (!job.isDone(c)) {
      await writePng(job.outputFile(c), image);
      job.onFrameDone?.(c);
    }
  }
  return coverage;
}

/** Removes a finished segment's intermediates. */
export async function cleanSegment(workDir: string): Promise<void> {
  await fsp.rm(workDir, { recursive: true, force: true });
}

