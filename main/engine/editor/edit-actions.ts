// The editor's action list: every undoable edit of a project is one entry here (label for the
// Undo/Redo menus, perform: project → project). Params arrive already validated by the contract.
import type { EditName, EditRequest } from '../../../preload/api';
import { defaultFrescoSettings } from '../fresco/settings';
import type { Keyframe, Project } from '../../../preload/project-schema';
import { addKeyframe, findKeyframe, moveKeyframe, removeKeyframes, applySuggestedKeyframes, updateKeyframe } from '../project/keyframes';
import { importKeyframeImage } from '../project/keyframe-images';
import { UserError } from '../../../native-models/src/errors';
import { checkChosenModels, resolveModelsDir } from '../../../native-models/src/model-manager';
import { count } from '../../../preload/plural';

export interface EditContext {
  /** The project file: relative paths and the assets folder resolve against it. */
  projectFile: string;
  /** The models folder: model paths the project stores relative to it resolve there. */
  modelsDir?: string;
}

type RequestOf<N extends EditName> = Extract<EditRequest, { action: N }>;

interface EditAction<N extends EditName> {
  /** Shown as "Undo <label>". */
  label(req: RequestOf<N>): string;
  perform(p: Project, req: RequestOf<N>, ctx: EditContext): Project | Promise<Project>;
}

/** "keyframe" for one, "2 keyframes" for more (undo labels: "Move keyframe", "Move 2 keyframes"). */
const plural = (n: number, word: string) => (n === 1 ? word : count(n, word));

/**
 * Moves several keyframes at once (a multi-selection dragged together). Targets must be distinct and
 * free of keyframes that stay put; each keyframe gets the same treatment as a single move (a rendered
 * one becomes stale), by moving it in a project that holds only it.
 */
function moveMany(p: Project, moves: Array<{ id: string; frame: number }>): Project {
  const moving = new Set(moves.map((m) => m.id));
  if (moving.size !== moves.length) throw new UserError('the same keyframe was moved twice in one edit');
  const staying = new Set(p.keyframes.filter((k) => !moving.has(k.id)).map((k) => k.frame));
  const targets = new Set<number>();
  const moved: Keyframe[] = [];
  for (const m of moves) {
    const k = findKeyframe(p, m.id);
    if (staying.has(m.frame) || targets.has(m.frame)) throw new UserError(`frame ${m.frame} already has a keyframe`);
    targets.add(m.frame);
    moved.push(moveKeyframe({ ...p, keyframes: [k] }, k.id, m.frame).keyframes[0]);
  }
  const keyframes = [...p.keyframes.filter((k) => !moving.has(k.id)), ...moved].sort((a, b) => a.frame - b.frame);
  return { ...p, keyframes };
}

/** Puts an earlier image of a keyframe back; the image it replaces goes into the history in its place. */
function pickHistory(p: Project, id: string, index: number): Project {
  const k = findKeyframe(p, id);
  const entry = k.history[index];
  if (!entry) throw new UserError(`keyframe at frame ${k.frame} has no earlier render number ${index + 1}`);
  return updateKeyframe(p, id, (old) => {
    const history = [...old.history];
    if (old.image) history[index] = { image: old.image, seed: old.overrides.seed ?? p.render.seed, createdAt: new Date().toISOString(), source: old.source };
    else history.splice(index, 1);
    // The keyframe is again what the entry was: an imported or painted image brings that source back;
    // a render brings its seed (entries of older projects have no source: renders of the keyframe's kind).
    const source = entry.source ?? old.source;
    const overrides = source === 'diffusion' ? { ...old.overrides, seed: entry.seed } : old.overrides;
    return { ...old, source, image: entry.image, status: 'done', note: undefined, revision: old.revision + 1, history, overrides };
  });
}

export const editActions: { [N in EditName]: EditAction<N> } = {
  addKeyframe: { label: () => 'Add keyframe', perform: (p, r) => addKeyframe(p, r.frame) },
  removeKeyframes: {
    label: (r) => `Delete ${plural(r.ids.length, 'keyframe')}`,
    perform: (p, r) => {
      r.ids.forEach((i) => findKeyframe(p, i));
      return removeKeyframes(p, r.ids);
    },
  },
  moveKeyframes: { label: (r) => `Move ${plural(r.moves.length, 'keyframe')}`, perform: (p, r) => moveMany(p, r.moves) },
  setKeyframes: { label: () => 'Apply suggested keyframes', perform: (p, r) => applySuggestedKeyframes(p, r.frames) },
  setKeyframeOverrides: {
    label: () => 'Change keyframe settings',
    perform: (p, r) => updateKeyframe(p, r.id, (k) => ({ ...k, overrides: r.overrides })),
  },
  revertKeyframe: {
    label: () => 'Revert keyframe to project settings',
    perform: (p, r) => updateKeyframe(p, r.id, (k) => ({ ...k, overrides: {} })),
  },
  pickKeyframeHistory: { label: () => 'Use earlier render', perform: (p, r) => pickHistory(p, r.id, r.index) },
  removeKeyframeHistory: {
    label: () => 'Delete earlier render',
    perform: (p, r) => {
      const k = findKeyframe(p, r.id);
      if (!k.history[r.index]) throw new UserError(`keyframe at frame ${k.frame} has no earlier render number ${r.index + 1}`);
      return updateKeyframe(p, r.id, (old) => ({ ...old, history: old.history.filter((_, i) => i !== r.index) }));
    },
  },
  useDiffusion: {
    label: () => 'Render with diffusion instead',
    perform: (p, r) => updateKeyframe(p, r.id, (old) => {
      if (old.source === 'diffusion') throw new UserError(`the keyframe at frame ${old.frame} is already rendered with diffusion`);
      const history = old.image ? [...old.history, { image: old.image, seed: 0, createdAt: new Date().toISOString(), source: old.source }].slice(-100) : old.history;
      return { ...old, source: 'diffusion', image: null, status: 'empty', note: undefined, revision: old.revision + 1, history };
    }),
  },
  importKeyframeImage: {
    label: (r) => (r.painted ? 'Use the image saved in the external editor' : 'Import keyframe image'),
    perform: (p, r, ctx) => importKeyframeImage(ctx.projectFile, p, r.frame, r.image, r.painted ? 'painted' : 'imported'),
  },
  setRenderDefaults: { label: () => 'Change project render settings', perform: (p, r) => ({ ...p, render: r.render }) },
  setPropagation: { label: () => 'Change propagation settings', perform: (p, r) => ({ ...p, propagation: r.propagation }) },
  setExportSettings: { label: () => 'Change export settings', perform: (p, r) => ({ ...p, export: r.export }) },
  setModels: {
    label: () => 'Change models',
    // The models this edit newly chooses get the check render runs (one line naming the file); the ones
    // kept as they were are not checked again, so removing a VAE never fails on the checkpoint.
    perform: async (p, r, ctx) => {
      const changed = Object.fromEntries((['checkpoint', 'controlnet', 'vae'] as const).filter((k) => r.models[k] !== p.models[k]).map((k) => [k, r.models[k]]));
      await checkChosenModels(changed, ctx.modelsDir ?? resolveModelsDir());
      return { ...p, models: r.models };
    },
  },
  setMode: {
    label: (r) => (r.fresco ? 'Change FRESCO settings' : `Use ${r.mode === 'fresco' ? 'FRESCO' : r.mode === 'independent' ? 'independent' : 'Rerender'} keyframes`),
    perform: (p, r) => ({ ...p, mode: r.mode, ...(r.fresco ? { fresco: { ...defaultFrescoSettings(), ...p.fresco, ...r.fresco } } : {}) }),
  },
};

/** Applies one edit; returns the new project and the label for the undo history. */
export async function applyEdit(p: Project, req: EditRequest, ctx: EditContext): Promise<{ project: Project; label: string }> {
  const action = editActions[req.action] as EditAction<EditName>;
  if (!action) throw new UserError(`unknown edit "${String(req.action)}"`);
  return { project: await action.perform(p, req as never, ctx), label: action.label(req as never) };
}
