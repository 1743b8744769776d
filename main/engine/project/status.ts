// What is done and what is out of date: segment status as the timeline and `info` show it, a lookup of
// each segment's current output key (output-keys.ts), never a guess from file names. A segment is done
// only when the frames of its current inputs are all there; frames made from other inputs (a keyframe
// since changed, other settings) make it stale with the reason; nothing made from its inputs is not-rendered.
import fs from 'node:fs';
import type { Project } from '../../../preload/project-schema';
import { segmentsOf, type Segment } from './keyframes';
import { hasFinishedImage, inputsOf, isComplete, readLastRun, segmentOutputDir, segmentOutputKey, type SegmentInputs } from './output-keys';

export type SegmentStatus = 'not-rendered' | 'partial' | 'done' | 'stale';

export interface SegmentInfo { segment: Segment; status: SegmentStatus; framesDone: number; reason?: string }

/** Finished frames in an output key's folder (NNNNN.png inside the segment's range). */
function framesIn(dir: string, s: Segment): number {
  let names: string[];
  try { names = fs.readdirSync(dir); } catch { return 0; }
  let n = 0;
  for (const name of names) {
    const m = /^(\d{5,8})\.png$/.exec(name);
    if (m && Number(m[1]) >= s.start && Number(m[1]) <= s.end) n++;
  }
  return n;
}

/** Why output made from `was` is not the output of `now`, in the user's words. */
function whyChanged(was: SegmentInputs, now: SegmentInputs): string {
  for (const side of ['left', 'right'] as const) {
    const a = was[side], b = now[side];
    if (!a || !b || a.id !== b.id || a.frame !== b.frame) return 'its keyframes changed since it was propagated';
    if (a.revision !== b.revision || a.image !== b.image) return `the keyframe at frame ${b.frame} has a new image since it was propagated`;
  }
  if (was.settings !== now.settings) return 'the propagation settings changed since it was propagated';
  return 'the source frames changed since it was propagated';
}

export function segmentStatus(projectFile: string, p: Project, s: Segment): SegmentInfo {
  const total = s.end - s.start + 1;
  const usable = [s.left, s.right].filter(Boolean).every(hasFinishedImage);
  if (!usable) return { segment: s, status: 'not-rendered', framesDone: 0, reason: 'a keyframe of it has no finished image yet' };
  const key = segmentOutputKey(p, s);
  const framesDone = framesIn(segmentOutputDir(projectFile, key), s);
  if (framesDone === total && isComplete(projectFile, key)) return { segment: s, status: 'done', framesDone };
  if (framesDone > 0) return { segment: s, status: 'partial', framesDone };
  // Nothing from these inputs: was this range propagated from others that still have output?
  const last = readLastRun(projectFile, s.id);
  if (last && last.key !== key && framesIn(segmentOutputDir(projectFile, last.key), s) > 0) {
    return { segment: s, status: 'stale', framesDone: 0, reason: whyChanged(last.inputs, inputsOf(p, s)) };
  }
  return { segment: s, status: 'not-rendered', framesDone: 0 };
}

export function projectStatus(projectFile: string, p: Project): SegmentInfo[] {
  return segmentsOf(p).map((s) => segmentStatus(projectFile, p, s));
}
