// Keyframe edits on a project (pure: each returns a new project) and the segments between keyframes.
import { randomUUID } from 'node:crypto';
import type { Keyframe, Project, RenderOverrides, RenderParams } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';

export function newKeyframe(frame: number): Keyframe {
  return { id: randomUUID(), frame, source: 'diffusion', image: null, overrides: {}, status: 'empty', revision: 0, history: [] };
}

function checkFrame(p: Project, frame: number): void {
  if (!Number.isInteger(frame) || frame < 0 || frame >= p.frames.count) {
    throw new UserError(`frame ${frame} is outside the video (frames 0 to ${p.frames.count - 1})`);
  }
}

function sorted(keyframes: Keyframe[]): Keyframe[] {
  return [...keyframes].sort((a, b) => a.frame - b.frame);
}

export function keyframeAt(p: Project, frame: number): Keyframe | undefined {
  return p.keyframes.find((k) => k.frame === frame);
}

export function findKeyframe(p: Project, id: string): Keyframe {
  const k = p.keyframes.find((x) => x.id === id);
  if (!k) throw new UserError(`no keyframe with id ${id}`);
  return k;
}

export function addKeyframe(p: Project, frame: number): Project {
  checkFrame(p, frame);
  if (keyframeAt(p, frame)) return p;
  return { ...p, keyframes: sorted([...p.keyframes, newKeyframe(frame)]) };
}

export function removeKeyframes(p: Project, ids: string[]): Project {
  const gone = new Set(ids);
  return { ...p, keyframes: p.keyframes.filter((k) => !gone.has(k.id)) };
}

/** Replaces the keyframe set by these frames, keeping existing keyframes (and their work) where they stay. */
export function setKeyframeFrames(p: Project, frames: number[]): Project {
  const unique = [...new Set(frames)].sort((a, b) => a - b);
  unique.forEach((f) => checkFrame(p, f));
  return { ...p, keyframes: unique.map((f) => keyframeAt(p, f) ?? newKeyframe(f)) };
}

/** A keyframe holding work the user made: an image (imported, painted or rendered) or earlier renders. */
export function hasUserImage(k: Keyframe): boolean {
  return k.image !== null || k.history.length > 0;
}

/**
 * Applies suggested keyframe frames: the suggestion replaces the empty keyframes, and every keyframe
 * holding an image or earlier renders stays where it is (suggestions never silently drop the user's work;
 * to remove such a keyframe the user deletes it on the timeline).
 */
export function applySuggestedKeyframes(p: Project, frames: number[]): Project {
  return setKeyframeFrames(p, [...frames, ...p.keyframes.filter(hasUserImage).map((k) => k.frame)]);
}

/**
 * Moves a keyframe to another frame. A rendered keyframe no longer matches its new frame's content,
 * so it becomes stale (its image is kept until re-rendered); an imported or painted one keeps its image.
 */
export function moveKeyframe(p: Project, id: string, frame: number): Project {
  checkFrame(p, frame);
  const k = findKeyframe(p, id);
  if (k.frame === frame) return p;
  const other = keyframeAt(p, frame);
  if (other) throw new UserError(`frame ${frame} already has a keyframe`);
  const moved: Keyframe = k.source === 'diffusion' && k.status === 'done'
    ? { ...k, frame, status: 'stale', note: `moved from frame ${k.frame}; render again` }
    : { ...k, frame };
  return { ...p, keyframes: sorted(p.keyframes.map((x) => (x.id === id ? moved : x))) };
}

export function updateKeyframe(p: Project, id: string, change: (k: Keyframe) => Keyframe): Project {
  findKeyframe(p, id);
  return { ...p, keyframes: sorted(p.keyframes.map((k) => (k.id === id ? change(k) : k))) };
}

/**
 * Keyframes a project saved by an older version left "rendering" (its renders wrote that status into the
 * file; now rendering is job state only): one with an image gets "stale" with a note, one without "failed".
 * Returns the same project when there is nothing to settle.
 */
export function settleInterruptedRenders(p: Project): Project {
  if (!p.keyframes.some((k) => k.status === 'rendering')) return p;
  return {
    ...p,
    keyframes: p.keyframes.map((k): Keyframe => (k.status !== 'rendering' ? k : k.image
      ? { ...k, status: 'stale', note: 'its last render was interrupted before it finished; the earlier image is kept' }
      : { ...k, status: 'failed', note: 'its render was interrupted before it finished; render it again' })),
  };
}

/** Project defaults with a keyframe's overrides on top. */
export function effectiveRenderParams(defaults: RenderParams, overrides: RenderOverrides): RenderParams {
  return {
    ...defaults,
    ...Object.fromEntries(Object.entries(overrides).filter(([k, v]) => v !== undefined && k !== 'controlnet' && k !== 'constraints')),
    controlnet: { ...defaults.controlnet, ...(overrides.controlnet ?? {}) },
    constraints: { ...defaults.constraints, ...(overrides.constraints ?? {}) },
  } as RenderParams;
}

/** A run of frames propagated from one keyframe (head/tail) or two neighbouring keyframes. */
export interface Segment {
  id: string;
  /** First and last frame index covered, inclusive. */
  start: number;
  end: number;
  /** Keyframe on the left (propagated forward) and on the right (propagated backward), if any. */
  left?: Keyframe;
  right?: Keyframe;
}

/** Every frame of the video belongs to exactly one segment or is a keyframe (docs/METHOD.md §1). */
export function segmentsOf(p: Project): Segment[] {
  const keys = sorted(p.keyframes);
  const last = p.frames.count - 1;
  const out: Segment[] = [];
  if (keys.length === 0) return out;
  if (keys[0].frame > 0) out.push({ id: `0-${keys[0].frame}`, start: 0, end: keys[0].frame - 1, right: keys[0] });
  for (let i = 0; i + 1 < keys.length; i++) {
    const a = keys[i], b = keys[i + 1];
    if (b.frame - a.frame > 1) out.push({ id: `${a.frame}-${b.frame}`, start: a.frame + 1, end: b.frame - 1, left: a, right: b });
  }
  const tail = keys[keys.length - 1];
  if (tail.frame < last) out.push({ id: `${tail.frame}-${last}`, start: tail.frame + 1, end: last, left: tail });
  return out;
}
