// What every keyframe renderer (Rerender, independent, FRESCO) does around the diffusion itself: find the
// project's model files, read a keyframe's input frame, and record a finished render in the project
// (image, revision, history, render record, the keyframes it made stale), or give a failed or cancelled
// render's keyframe a truthful status back.
import fs from 'node:fs';
import path from 'node:path';
import type { Image } from '../../../native-models/src/image';
import { projectModelPath } from '../../../native-models/src/model-manager';
import { resolveTokenizer } from '../../../native-models/src/tokenizer';
import { UserError } from '../../../native-models/src/errors';
import { readRgb, writePng } from '../media/image-files';
import { updateKeyframe } from '../project/keyframes';
import { frameFileName, projectPaths } from '../project/paths';
import { readProjectFile, writeProjectFile } from '../project/project-file';
import type { Keyframe, Project } from '../../../preload/project-schema';
import type { ModelFiles } from './diffusion-models';
import { releaseKeyframe } from './render-claims';
import { markStaleKeyframes, readRecord, segmentsTouching, writeRecord, type RenderRecord, type Staleness } from './render-records';

/** The model files the project's selection names, checked to exist. */
export async function projectModelFiles(projectFile: string, project: Project, modelsDir: string, extra: { tokenizer?: string; configs?: ModelFiles['configs'] } = {}): Promise<ModelFiles> {
  const m = project.models;
  if (!m.checkpoint) throw new UserError('no checkpoint is selected: pass --model <checkpoint> or choose one in the model manager', projectFile);
  const checkpoint = projectModelPath(modelsDir, m.checkpoint);
  if (!fs.existsSync(checkpoint)) throw new UserError('the selected checkpoint does not exist', checkpoint);
  return {
    checkpoint, clipSkip: m.clipSkip, configs: extra.configs,
    tokenizer: await resolveTokenizer({ override: extra.tokenizer, model: checkpoint, modelsDir }),
    vae: m.vae ? projectModelPath(modelsDir, m.vae) : null,
    controlnet: m.controlnet ? projectModelPath(modelsDir, m.controlnet) : null,
    loras: m.loras.map((l) => ({ file: projectModelPath(modelsDir, l.file), multiplier: l.multiplier })),
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

export interface Committed {
  project: Project;
  rendered: Omit<RenderedKeyframe, 'seconds' | 'unetCalls'>;
  /** Every keyframe now out of date, with the reason. */
  stale: Staleness[];
  /** Propagated segments that used this keyframe. */
  staleSegments: string[];
}

/**
 * Records a finished render of keyframe `target`: the image as its next revision (the earlier render goes to
 * the history with the seed that made it), the render record, and the staleness this causes. The project
 * is re-read first, since the editor may have saved other changes while the keyframe rendered.
 */
export async function commitKeyframeImage(projectFile: string, target: Pick<Keyframe, 'id' | 'frame'>, image: Image, record: Omit<RenderRecord, 'revision' | 'createdAt'>): Promise<Committed> {
  const paths = projectPaths(projectFile);
  const latest = await readProjectFile(projectFile);
  const k = latest.keyframes.find((x) => x.id === target.id);
  if (!k) throw new UserError(`the keyframe at frame ${target.frame} was removed while it rendered`, projectFile);
  const revision = k.revision + 1;
  const file = path.join(paths.keyframesDir, `${k.id}-r${revision}.png`);
  await writePng(file, image);
  const next = updateKeyframe(latest, k.id, (old) => ({
    ...old, image: path.relative(paths.dir, file).split(path.sep).join('/'), revision, status: 'done', note: undefined,
    history: old.image && old.source === 'diffusion'
      ? [...old.history, { image: old.image, seed: readRecord(projectFile, old.id)?.seed ?? record.seed, createdAt: new Date().toISOString() }].slice(-100)
      : old.history,
  }));
  await writeRecord(projectFile, k.id, { ...record, revision, createdAt: new Date().toISOString() });
  const marked = markStaleKeyframes(projectFile, next);
  await writeProjectFile(projectFile, marked.project);
  releaseKeyframe(projectFile, k.id);
  return {
    project: marked.project, stale: marked.stale,
    rendered: { id: k.id, frame: k.frame, image: file, revision },
    staleSegments: segmentsTouching(marked.project, k.id).map((s) => s.id),
  };
}

async function setStatus(projectFile: string, id: string, status: Keyframe['status'], note?: string): Promise<void> {
  const p = await readProjectFile(projectFile);
  if (!p.keyframes.some((k) => k.id === id)) return;
  await writeProjectFile(projectFile, updateKeyframe(p, id, (old) => ({ ...old, status, note })));
}

/**
 * After a failed or cancelled render the keyframe gets its status from before back (it still has its
 * earlier image, if any); a failure without an earlier image is "failed", with the reason as note.
 * Ends the render's claim on the keyframe.
 */
export async function markFailed(projectFile: string, before: Keyframe, err: unknown): Promise<void> {
  const cancelled = (err as Error)?.name === 'CancelledError';
  try {
    if (cancelled || before.image) await setStatus(projectFile, before.id, before.status, cancelled ? before.note : `the last render failed: ${(err as Error).message}`.slice(0, 2000));
    else await setStatus(projectFile, before.id, 'failed', `render failed: ${(err as Error).message}`.slice(0, 2000));
  } catch {
    // The original error matters more than a failed status update.
  } finally {
    releaseKeyframe(projectFile, before.id);
  }
}
