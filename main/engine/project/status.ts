// What is done and what is out of date: keyframe and segment status as the timeline and `info` show it.
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';
import { frameFileName, projectPaths } from './paths';
import { segmentsOf, type Segment } from './keyframes';

export type SegmentStatus = 'not-rendered' | 'partial' | 'done' | 'stale';

/** What the propagation engine records per segment, to resume and to notice changed keyframes. */
export interface SegmentRecord {
  left?: { id: string; revision: number; frame: number };
  right?: { id: string; revision: number; frame: number };
  /** Settings fingerprint: a change of propagation settings makes finished segments stale. */
  settings: string;
  complete: boolean;
}

export function segmentRecordPath(projectFile: string, segmentId: string): string {
  return path.join(projectPaths(projectFile).segmentsDir, `${segmentId}.json`);
}

export function readSegmentRecord(projectFile: string, segmentId: string): SegmentRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(segmentRecordPath(projectFile, segmentId), 'utf8')) as SegmentRecord;
  } catch {
    return undefined;
  }
}

function sameKey(rec: SegmentRecord['left'], k: Segment['left']): boolean {
  if (!rec && !k) return true;
  return !!rec && !!k && rec.id === k.id && rec.revision === k.revision && rec.frame === k.frame;
}

export interface SegmentInfo { segment: Segment; status: SegmentStatus; framesDone: number; reason?: string }

export function segmentStatus(projectFile: string, p: Project, s: Segment, outputFiles?: Set<string>): SegmentInfo {
  const files = outputFiles ?? new Set(fs.readdirSync(projectPaths(projectFile).outputDir, { withFileTypes: false }).map(String));
  let framesDone = 0;
  for (let f = s.start; f <= s.end; f++) if (files.has(frameFileName(f))) framesDone++;
  const total = s.end - s.start + 1;
  const rec = readSegmentRecord(projectFile, s.id);
  if (framesDone === 0) return { segment: s, status: 'not-rendered', framesDone };
  if (rec && (!sameKey(rec.left, s.left) || !sameKey(rec.right, s.right))) {
    return { segment: s, status: 'stale', framesDone, reason: 'a keyframe it was propagated from has changed' };
  }
  return { segment: s, status: framesDone === total && (rec?.complete ?? true) ? 'done' : 'partial', framesDone };
}

export function projectStatus(projectFile: string, p: Project): SegmentInfo[] {
  let files: Set<string>;
  try { files = new Set(fs.readdirSync(projectPaths(projectFile).outputDir)); } catch { files = new Set(); }
  return segmentsOf(p).map((s) => segmentStatus(projectFile, p, s, files));
}
