// Outputs keyed by what made them (issue 15): a segment's propagated frames are stored under a key of its
// inputs (the two keyframes' ids, revisions, frames and images, the propagation settings, the source and
// working size), like a build cache. Status is a lookup of the current keys, undo and redo return to
// outputs that still exist, switching a setting back is free, and two runs with the same inputs share
// their work. `segmentOutputKey` is the one definition of a segment's key (a render farm uses it as job id).
// The same holds for the project's flows (`projectFlowKey`, a set of flow-cache.ts) and its measurements
// (`flickerMeasureKey`: the output frames as they are now, the flows they are judged along, the measure).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Project } from '../../../preload/project-schema';
import { frameFileName, projectPaths } from './paths';
import { segmentsOf, type Segment } from './keyframes';
import { resolveInProject } from './confinement';
import type { FrameSequence } from '../media/frames-folder';
import { flowSetKey, nativeFlowEstimator } from '../flow/flow-cache';

function hash(value: unknown, length = 16): string {
  return crypto.createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}

/** Settings that change the propagated pixels (the seed drives the patch search's randomness). */
export function propagationSettingsKey(p: Project): string {
  const s = p.propagation;
  return hash([s.guideWeights, s.patchSize, s.uniformity, s.pyramidLevels, s.searchVoteIters, s.patchMatchIters, s.gradientFusion, p.working, p.render.seed]);
}

/** Which decoded frames a project works on: a relinked or re-decoded source with other frames is another input. */
export function sourceKey(p: Project): string {
  return JSON.stringify([p.source.path, p.source.fileSize, p.source.modifiedMs, p.working, p.frames]);
}

const keyframeInput = z.object({ id: z.string(), revision: z.number().int(), frame: z.number().int(), image: z.string().nullable() });

/** Everything a segment's propagated frames depend on; stored beside them so a reason can be given when they no longer match. */
export const segmentInputs = z.object({
  start: z.number().int(),
  end: z.number().int(),
  left: keyframeInput.optional(),
  right: keyframeInput.optional(),
  settings: z.string(),
  source: z.string(),
});
export type SegmentInputs = z.infer<typeof segmentInputs>;

export function inputsOf(p: Project, s: Segment): SegmentInputs {
  const side = (k: Segment['left']) => (k ? { id: k.id, revision: k.revision, frame: k.frame, image: k.image } : undefined);
  return { start: s.start, end: s.end, left: side(s.left), right: side(s.right), settings: propagationSettingsKey(p), source: hash(sourceKey(p)) };
}

/**
 * The key of segment `s`'s propagated frames in project `p`: "start-end-<hash of its inputs>". Equal keys
 * mean equal inputs, so the same frames; any change of a keyframe image, a setting or the source gives
 * another key. Use it wherever a segment's output is named (cache folders, job ids).
 */
export function segmentOutputKey(p: Project, s: Segment): string {
  return `${s.start}-${s.end}-${hash(inputsOf(p, s))}`;
}

/** The folder holding the frames of output key `key` (`NNNNN.png`, plus `inputs.json` once complete). */
export function segmentOutputDir(projectFile: string, key: string): string {
  return path.join(projectPaths(projectFile).outputDir, key);
}

/** Written when every frame of a key is finished: the inputs that made them. */
const COMPLETE = 'inputs.json';

export function completeMarker(projectFile: string, key: string): string {
  return path.join(segmentOutputDir(projectFile, key), COMPLETE);
}

/** The last propagation of a frame range (by segment id), to say why its output no longer matches. */
export function lastRunPath(projectFile: string, segmentId: string): string {
  return path.join(projectPaths(projectFile).segmentsDir, `${segmentId}.json`);
}

const lastRun = z.object({ key: z.string().regex(/^[0-9]+-[0-9]+-[0-9a-f]{16}$/), inputs: segmentInputs });
export type LastRun = z.infer<typeof lastRun>;

/** A sidecar read and validated; a missing or damaged one is no record (the cache is rebuildable). */
export function readLastRun(projectFile: string, segmentId: string): LastRun | undefined {
  try {
    const r = lastRun.safeParse(JSON.parse(fs.readFileSync(lastRunPath(projectFile, segmentId), 'utf8')));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export function isComplete(projectFile: string, key: string): boolean {
  try {
    return segmentInputs.safeParse(JSON.parse(fs.readFileSync(completeMarker(projectFile, key), 'utf8'))).success;
  } catch {
    return false;
  }
}

/** A keyframe whose image can be propagated from: imported, painted, or rendered (also when stale). */
export function hasFinishedImage(k: Segment['left']): boolean {
  return !!k && !!k.image && (k.status === 'done' || k.status === 'stale');
}

/** The image that stands for frame i in the output (a keyframe's image, or its segment's propagated frame for the current inputs), or undefined. */
export function resultFrameFile(projectFile: string, p: Project, index: number): string | undefined {
  const k = p.keyframes.find((x) => x.frame === index);
  if (k) return keyframeResultFile(projectFile, k);
  const s = segmentsOf(p).find((x) => x.start <= index && index <= x.end);
  if (!s) return undefined;
  return outputFrameFile(projectFile, segmentOutputDir(projectFile, segmentOutputKey(p, s)), index);
}

function keyframeResultFile(projectFile: string, k: Project['keyframes'][number]): string | undefined {
  if (!hasFinishedImage(k)) return undefined;
  const img = resolveInProject(projectFile, k.image!);
  return fs.existsSync(img) ? img : undefined;
}

function outputFrameFile(projectFile: string, dir: string, index: number): string | undefined {
  const file = path.join(dir, frameFileName(index));
  // Checked like a keyframe image: an output frame that is a link to a file outside is refused.
  return fs.existsSync(file) ? resolveInProject(projectFile, path.relative(projectPaths(projectFile).dir, file)) : undefined;
}

/**
 * Frame i as the last propagation of its segment made it, when that was made from other inputs than the
 * segment's now (the segment shows "stale"): the preview shows it marked stale until the segment is
 * propagated again. Never an output frame: export and status use `resultFrameFile`.
 */
export function staleFrameFile(projectFile: string, p: Project, index: number): string | undefined {
  const s = segmentsOf(p).find((x) => x.start <= index && index <= x.end);
  const last = s && readLastRun(projectFile, s.id);
  if (!s || !last || last.key === segmentOutputKey(p, s)) return undefined;
  const file = path.join(segmentOutputDir(projectFile, last.key), frameFileName(index));
  return fs.existsSync(file) ? resolveInProject(projectFile, path.relative(projectPaths(projectFile).dir, file)) : undefined;
}

/**
 * Every output frame of the project as it is now (for metrics and the flicker view): missing ones
 * undefined. The same files as `resultFrameFile` frame by frame, found segment by segment (each key
 * hashed and each folder listed once): the editor asks this on every open and output change, and per
 * frame it cost seconds at 10,000 frames and 1,000 keyframes.
 */
export function currentOutputFrames(projectFile: string, p: Project): FrameSequence {
  const files: Array<string | undefined> = new Array<string | undefined>(p.frames.count).fill(undefined);
  const keyframes = new Map<number, Project['keyframes'][number]>();
  for (const k of p.keyframes) if (!keyframes.has(k.frame)) keyframes.set(k.frame, k);
  const found = new Uint8Array(p.frames.count);
  for (const s of segmentsOf(p)) {
    const dir = segmentOutputDir(projectFile, segmentOutputKey(p, s));
    let names: Set<string>;
    try {
      names = new Set(fs.readdirSync(dir));
    } catch {
      names = new Set(); // no output for these inputs yet
    }
    for (let i = s.start; i <= s.end; i++) {
      if (found[i] || keyframes.has(i)) continue;
      found[i] = 1;
      if (names.has(frameFileName(i))) files[i] = outputFrameFile(projectFile, dir, i);
    }
  }
  for (const [frame, k] of keyframes) if (frame >= 0 && frame < p.frames.count) files[frame] = keyframeResultFile(projectFile, k);
  return { dir: projectPaths(projectFile).outputDir, files };
}

/** The key of the flow set a project's propagation, rendering and metrics use (its source frames, the native estimator). */
export function projectFlowKey(p: Project): string {
  return flowSetKey(sourceKey(p), nativeFlowEstimator().id);
}

/** What the flicker measure is and how it is computed; a change of the measure gives every result another key. */
const FLICKER_MEASURE = 'warp-error/1';

/**
 * The key of a flicker measurement of project `p`'s output as it is now: for each frame, the file that
 * stands for it (a keyframe's image with its revision, or its segment's frame under that segment's output
 * key, or nothing yet), the flow set the frames are judged along, and the measure itself. Any new
 * output frame, keyframe image, setting or source gives another key.
 */
export function flickerMeasureKey(projectFile: string, p: Project): string {
  const dir = projectPaths(projectFile).dir;
  const frames = currentOutputFrames(projectFile, p).files.map((f) => (f ? path.relative(dir, f).split(path.sep).join('/') : null));
  const keyframes = p.keyframes.map((k) => [k.id, k.frame, k.revision, k.image, k.status]);
  return hash([FLICKER_MEASURE, projectFlowKey(p), keyframes, frames]);
}

/** Where the flicker measurement of key `key` is saved (`{ "values": [number | null, ...] }`, one per frame). */
export function flickerMeasurePath(projectFile: string, key: string): string {
  return path.join(measuresDir(projectFile), `${key}.json`);
}

/** The folder of flicker measurements, one file per key. */
export function measuresDir(projectFile: string): string {
  return path.join(projectPaths(projectFile).cacheDir, 'metrics', 'warp-error');
}
