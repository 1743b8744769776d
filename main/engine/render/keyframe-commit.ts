// What every keyframe renderer (Rerender, independent, FRESCO) does around the diffusion itself: find the
// project's model files, read a keyframe's input frame, and record a finished render in the project
// as a result (the image and its record under the cache), commit results to a project (image, revision,
// history, the keyframes they made stale; a result for a keyframe edited meanwhile becomes a note), or
// give a failed or cancelled render's keyframe a truthful status back. Jobs never write the project file.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Image } from '../../../native-models/src/image';
import { checkModelFor, projectModelPath as projectModelPathIn } from '../../../native-models/src/model-manager';
import { resolveTokenizer } from '../../../native-models/src/tokenizer';
import { UserError } from '../../../native-models/src/errors';
import { readRgb, writePng } from '../media/image-files';
import { updateKeyframe } from '../project/keyframes';
import { segmentStatus } from '../project/status';
import { frameFileName, projectPaths } from '../project/paths';
import type { Keyframe, Project } from '../../../preload/project-schema';
import type { ModelFiles } from './diffusion-models';
import { markStaleKeyframes, orderedKeyframes, readRecord, segmentsTouching, settingsKey, writeRecord, type RenderRecord, type Staleness } from './render-records';

/** The project's checkpoint file, or why no render can start: none is selected, or it is not there. */
export function selectedCheckpoint(projectFile: string, project: Project, modelPath: (stored: string) => string): string {
  if (!project.models.checkpoint) throw new UserError('no checkpoint is selected: pass --model <checkpoint> or choose one in the model manager', projectFile);
  const checkpoint = modelPath(project.models.checkpoint);
  if (!fs.existsSync(checkpoint)) throw new UserError('the selected checkpoint does not exist', checkpoint);
  return checkpoint;
}

/** The model files the project's selection names, checked to exist. */
export async function projectModelFiles(projectFile: string, project: Project, modelsDir: string, extra: { tokenizer?: string; configs?: ModelFiles['configs']; modelPath?: (stored: string) => string } = {}): Promise<ModelFiles> {
  const m = project.models;
  // A farm worker finds the project's models on its own machine (farm/model-paths.ts).
  const projectModelPath = extra.modelPath ?? ((stored: string) => projectModelPathIn(modelsDir, stored));
  const checkpoint = selectedCheckpoint(projectFile, project, projectModelPath);
  // The same check as import: a folder or file that is no usable model is named as such, before any tokenizer is looked for.
  await checkModelFor('checkpoint', checkpoint);
  return {
    checkpoint, clipSkip: m.clipSkip, configs: extra.configs,
    tokenizer: await resolveTokenizer({ override: extra.tokenizer, model: checkpoint, modelsDir }),
    vae: m.vae ? projectModelPath(m.vae) : null,
    controlnet: m.controlnet ? projectModelPath(m.controlnet) : null,
    loras: m.loras.map((l) => ({ file: projectModelPath(l.file), multiplier: l.multiplier })),
  };
}

/** The keyframe's video frame at the working resolution. */
export async function keyframeInputFrame(projectFile: string, project: Project, k: Keyframe): Promise<Image> {
  const frame = await readRgb(path.join(projectPaths(projectFile).framesDir, frameFileName(k.frame)));
  if (frame.width !== project.working.width || frame.height !== project.working.height) {
    throw new UserError(`frame ${k.frame} is ${frame.width}×${frame.height}, not the working size ${project.working.width}×${project.working.height}; decode the video again`, projectFile);
  }
  return frame;
}

export interface RenderedKeyframe { id: string; frame: number; image: string; revision: number; seconds: number; unetCalls: number }

/**
 * A finished render as a job returns it: the image is written under the cache (with its render record
 * beside it), the project is not touched. The project's owner commits it (applyKeyframeResults).
 */
export interface KeyframeResult {
  id: string;
  frame: number;
  /** The keyframe's revision when the render started: the commit checks it is still the same. */
  baseRevision: number;
  /** The new image, relative to the project folder. */
  image: string;
  seed: number;
  /** The keyframe's overrides the image was rendered with (a regenerate's new seed among them). */
  overrides: Keyframe['overrides'];
  createdAt: string;
}

/** A render that failed or was cancelled: the keyframe's status to show (it keeps its earlier image). */
export interface KeyframeFailure { id: string; status: Keyframe['status']; note?: string }

/**
 * Writes a finished render of keyframe `k` (as it was when the render started) into the cache: the image
 * under a name no other render uses, and its record beside it (so the image's own seed and settings are
 * known wherever it is used, also from the history). Returns the result for the owner to commit.
 */
export async function writeKeyframeResult(projectFile: string, k: Keyframe, image: Image, record: Omit<RenderRecord, 'revision' | 'createdAt'>, overrides: Keyframe['overrides'] = k.overrides): Promise<KeyframeResult> {
  const paths = projectPaths(projectFile);
  const revision = k.revision + 1;
  const file = path.join(paths.keyframesDir, `${k.id}-r${revision}-${crypto.randomBytes(4).toString('hex')}.png`);
  await fs.promises.mkdir(paths.keyframesDir, { recursive: true });
  await writePng(file, image);
  const rel = path.relative(paths.dir, file).split(path.sep).join('/');
  const createdAt = new Date().toISOString();
  await writeRecord(projectFile, rel, { ...record, revision, createdAt });
  return { id: k.id, frame: k.frame, baseRevision: k.revision, image: rel, seed: record.seed, overrides, createdAt };
}

export interface Committed {
  project: Project;
  /** Results taken as the keyframes' new images. */
  rendered: KeyframeResult[];
  /** Results that arrived after their keyframe changed or went: kept in its history, with a note. */
  notes: string[];
  /** Every keyframe now out of date, with the reason. */
  stale: Staleness[];
  /** Propagated segments that used a re-rendered keyframe. */
  staleSegments: string[];
}

/** What a keyframe's render was made from, as far as the document says: equal inputs, interchangeable renders. */
function renderInputs(p: Project, k: Keyframe): string {
  const anchor = orderedKeyframes(p)[0]?.id === k.id;
  return JSON.stringify([k.revision, k.frame, k.source, k.overrides, settingsKey(p, k, p.mode, anchor)]);
}

/**
 * Commits finished renders to a project: each image becomes its keyframe's next revision (the image it
 * replaces goes to the history with its own seed), unless the keyframe changed since the render started
 * (another image, a moved frame, its own or the project's render settings edited: `base` is the document
 * the job started from) or was removed: then nothing is overwritten, the image goes into the keyframe's
 * history and a note says so. Keyframes made stale by the new images are marked.
 */
export function applyKeyframeResults(projectFile: string, p: Project, results: KeyframeResult[], failures: KeyframeFailure[] = [], base?: Project): Committed {
  let next = p;
  const rendered: KeyframeResult[] = [];
  const notes: string[] = [];
  const seedOf = (k: Keyframe) => readRecord(projectFile, k)?.seed ?? k.overrides.seed ?? p.render.seed;
  const edited = (k: Keyframe) => {
    const before = base && base !== p ? base.keyframes.find((x) => x.id === k.id) : undefined;
    return before !== undefined && renderInputs(base!, before) !== renderInputs(p, k);
  };
  for (const r of results) {
    const k = next.keyframes.find((x) => x.id === r.id);
    if (!k) { notes.push(`the keyframe at frame ${r.frame} was removed while it rendered; its render was not used`); continue; }
    if (k.revision !== r.baseRevision || k.frame !== r.frame || edited(k)) {
      notes.push(`the keyframe at frame ${k.frame} changed while it rendered; the render is kept in its history`);
      next = updateKeyframe(next, k.id, (old) => ({ ...old, history: [...old.history, { image: r.image, seed: r.seed, createdAt: r.createdAt, source: 'diffusion' as const }].slice(-100) }));
      continue;
    }
    next = updateKeyframe(next, k.id, (old) => ({
      ...old, image: r.image, revision: r.baseRevision + 1, status: 'done', note: undefined, overrides: r.overrides,
      history: old.image && old.source === 'diffusion'
        ? [...old.history, { image: old.image, seed: seedOf(old), createdAt: r.createdAt, source: 'diffusion' as const }].slice(-100)
        : old.history,
    }));
    rendered.push(r);
  }
  for (const f of failures) {
    if (next.keyframes.some((k) => k.id === f.id)) next = updateKeyframe(next, f.id, (old) => ({ ...old, status: f.status, note: f.note }));
  }
  const marked = markStaleKeyframes(projectFile, next);
  // Only segments that hold frames propagated from the keyframe's earlier image are to redo; one never
  // propagated has nothing out of date.
  const staleSegments = [...new Set(rendered.flatMap((r) => segmentsTouching(marked.project, r.id)
    .filter((s) => segmentStatus(projectFile, marked.project, s).status === 'stale').map((s) => s.id)))];
  return { project: marked.project, rendered, notes, stale: marked.stale, staleSegments };
}

/**
 * The status a keyframe shows after a failed or cancelled render: its status from before (it still has
 * its earlier image, if any); a failure without an earlier image is "failed", with the reason as note.
 */
export function failureOf(before: Keyframe, err: unknown): KeyframeFailure {
  const cancelled = (err as Error)?.name === 'CancelledError';
  if (cancelled) return { id: before.id, status: before.status, note: before.note };
  if (before.image) return { id: before.id, status: before.status, note: `the last render failed: ${(err as Error).message}`.slice(0, 2000) };
  return { id: before.id, status: 'failed', note: `render failed: ${(err as Error).message}`.slice(0, 2000) };
}
