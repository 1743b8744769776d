// The action registry: every user action is one object (name, label, shortcut, perform). Menus,
// toolbar buttons, keyboard shortcuts, the help overlay and the tests all go through it. Names, labels
// and shortcuts are declared once in `preload/action-table.ts` (the Electron menu reads them there);
// this file adds what each action does.
import { ACTION_TABLE, matchesShortcut, type ActionDeclaration, type ActionName } from '../preload/action-table';
import { VIDEO_NOT_PROJECT, type PickPurpose, type ProjectState } from '../preload/api';
import { call, editor, frameCount, receiveProject, runOnChoice, setFrame, type Coverage } from './store';
import { clampView, fitZoom } from './timeline/timeline-math';

export interface Action extends ActionDeclaration {
  name: ActionName;
  perform(arg?: string): void | Promise<void>;
}

const mod = (e: KeyboardEvent) => e.ctrlKey || e.metaKey;

/**
 * A path from a native dialog (Electron) or, in a browser (which cannot reveal paths), from the engine's
 * file browser or typed; it opens above the dialog that asked, which stays open.
 */
export async function askPath(purpose: PickPurpose, title: string, label: string, initial?: string): Promise<string | null> {
  const picked = await call('dialog.pick', { purpose, suggestedName: initial });
  if (picked?.supported) return picked.path;
  editor.get().picker?.resolve(null);
  return new Promise((resolve) => editor.set({ picker: { purpose, title, label, initial, resolve: (p) => { editor.set({ picker: null }); resolve(p); } } }));
}

/**
 * The keyframe the inspector and the keyframe actions work on: the one under the playhead (the
 * inspector follows the playhead; clicking a marker moves the playhead to it).
 */
export function focusedKeyframe() {
  const { project, frame } = editor.get();
  return project?.project.keyframes.find((k) => k.frame === frame);
}

async function edit(req: Parameters<typeof call<'project.edit'>>[1]) {
  const state = await call('project.edit', req);
  if (state) receiveProject(state);
  return state;
}

/** The status bar's word once an image is the keyframe at `frame`, with what fitting it to the frames cut off (the keyframe's note). */
export function importedNotice(state: ProjectState, frame: number, name: string): string {
  const note = state.project.keyframes.find((k) => k.frame === frame)?.note;
  return `${name} is the keyframe at frame ${frame}${note ? ` — ${note}` : ''}`;
}

/**
 * Before the open project is closed or replaced (×, Ctrl+W, Open…, New…, a recent project): with unsaved
 * changes the user chooses Save (saved first), Don't save or Cancel. 'go' when there was nothing to ask or
 * it was saved, 'discard' for Don't save (the caller closes the project with its changes), 'cancel'.
 */
export async function askToSave(what: string): Promise<'go' | 'discard' | 'cancel'> {
  if (!editor.get().project?.dirty) return 'go';
  editor.get().unsaved?.resolve('cancel');
  const choice = await new Promise<'save' | 'discard' | 'cancel'>((resolve) =>
    editor.set({ unsaved: { what, resolve: (c) => { editor.set({ unsaved: null }); resolve(c); } } }));
  if (choice !== 'save') return choice;
  const saved = await call('project.save', {});
  if (!saved) return 'cancel'; // the save failed: the status bar says why, and nothing is closed
  receiveProject(saved);
  return 'go';
}

/** Closes the project, back to the start screen; `discard`: "Don't save" (its autosave goes too). */
async function closeProject(discard: boolean): Promise<void> {
  await call('project.close', { discard }); // not discarded, edits not saved stay in the autosave, offered back on the next open
  receiveProject(null);
  const info = await call('app.info', {});
  editor.set({ selection: [], suggestion: null, dialog: null, playing: false, ...(info ? { info } : {}) });
}

/** Opens a project in place of the open one; `asked`: the caller already asked about unsaved changes. */
export async function openProject(file: string, asked?: 'go' | 'discard'): Promise<void> {
  if (editor.get().project?.file === file) return void editor.set({ notice: 'this project is open already' }); // reading it again would drop unsaved edits
  const choice = asked ?? (await askToSave('opening another project'));
  if (choice === 'cancel') return;
  if (choice === 'discard') await closeProject(true);
  // Set before the call: the engine's project.changed event may bring the project (and its first frame)
  // before the call answers, and that frame is the one the open-to-first-frame figure must end at.
  const before = editor.get().openedAt, openedAt = performance.now();
  editor.set({ openedAt });
  let state: ProjectState | undefined;
  try {
    state = await editor.get().api.call('project.open', { file });
  } catch (err) {
    const message = (err as Error).message;
    // A video opened as a project: offer the new project from it rather than an error.
    if (message.includes(VIDEO_NOT_PROJECT)) editor.set({ dialog: { kind: 'new-project', video: file, opened: true } });
    else editor.set({ error: message });
  }
  if (state) await showProject(state, openedAt);
  else editor.set({ openedAt: before });
}

/** Shows a project the engine has open, with the timeline fitted to the window. */
export async function showProject(state: ProjectState, openedAt = performance.now()): Promise<void> {
  const width = editor.get().timelineWidth;
  editor.set({ openedAt, selection: [], suggestion: null, frame: 0, scroll: 0, zoom: Math.max(fitZoom(state.project.frames.count, width), Math.min(8, width / 200)) });
  receiveProject(state);
}

function stepFrame(delta: number) {
  return () => setFrame(editor.get().frame + delta);
}

function jumpKeyframe(direction: 1 | -1) {
  return () => {
    const { project, frame } = editor.get();
    const frames = project?.project.keyframes.map((k) => k.frame) ?? [];
    const next = direction > 0 ? frames.find((f) => f > frame) : [...frames].reverse().find((f) => f < frame);
    if (next === undefined) return;
    setFrame(next);
    const k = project!.project.keyframes.find((x) => x.frame === next)!;
    editor.set({ selection: [k.id] });
  };
}

function zoomBy(factor: number) {
  return () => {
    const s = editor.get();
    const count = frameCount();
    const anchor = s.frame;
    const v = clampView({ zoom: s.zoom * factor, scroll: 0, width: s.timelineWidth }, count);
    const centred = clampView({ ...v, scroll: anchor - v.width / v.zoom / 2 }, count);
    editor.set({ zoom: centred.zoom, scroll: centred.scroll });
  };
}

/** Renders the keyframe at the playhead (adding one there when there is none). */
async function renderFocused(newSeed: boolean) {
  let k = focusedKeyframe();
  if (!k) {
    const frame = editor.get().frame;
    const s = await edit({ action: 'addKeyframe', frame });
    k = s?.project.keyframes.find((x) => x.frame === frame);
    if (!k) return;
  }
  if (k.source !== 'diffusion') {
    return void editor.set({ notice: `the keyframe at frame ${k.frame} is ${k.source}: choose "Render with diffusion instead" in the inspector to replace its image by a render` });
  }
  editor.set({ selection: [k.id] });
  await call('keyframe.render', { id: k.id, newSeed: newSeed || !editor.get().seedLocked });
}

/** Keyframes "Render all" would render: diffusion keyframes without a finished, current image. */
export function pendingKeyframes() {
  return editor.get().project?.project.keyframes.filter((k) => k.source === 'diffusion' && k.status !== 'done' && k.status !== 'rendering') ?? [];
}

/** A frame's coverage in words: its error against the typical frame's, and the share no keyframe shows. */
export function describeCoverage(c: Coverage, frame: number): string {
  const e = c.error[frame], u = c.uncovered[frame];
  if (e == null) return 'no coverage figures (a keyframe, or not propagated with the current keyframes)';
  const times = c.typical > 0 ? `${(e / c.typical).toFixed(1)}× the typical frame's synthesis error` : `synthesis error ${e.toFixed(0)}`;
  return `${times}, ${((u ?? 0) * 100).toFixed(1)}% not shown by any keyframe`;
}

const PERFORM: Record<ActionName, (arg?: string) => void | Promise<void>> = {
  'file.new': async (arg) => {
    // The new project replaces the open one once it is decoded: ask about unsaved changes first.
    const choice = await askToSave('starting a new project');
    if (choice === 'cancel') return;
    if (choice === 'discard') await closeProject(true);
    editor.set({ dialog: { kind: 'new-project', video: arg } });
  },
  'file.open': async (arg) => {
    const choice = await askToSave('opening another project');
    if (choice === 'cancel') return;
    const file = arg ?? (await askPath('open-project', 'Open project', 'Project file (.rerender)'));
    if (file) await openProject(file, choice);
  },
  'file.save': async () => { const s = await call('project.save', {}); if (s) receiveProject(s); },
  'file.saveAs': async () => {
    const file = await askPath('save-project', 'Save project as', 'New project file (.rerender)', editor.get().project?.file);
    if (!file) return;
    const s = await call('project.save', { file });
    if (s) receiveProject(s);
  },
  'file.close': async () => {
    const choice = await askToSave('closing it');
    if (choice !== 'cancel') await closeProject(choice === 'discard');
  },
  'file.export': () => editor.set({ dialog: { kind: 'export' } }),
  'file.models': () => editor.set({ dialog: { kind: 'models' } }),
  'edit.undo': async () => { if (editor.get().project?.undo) { const s = await call('project.undo', {}); if (s) receiveProject(s); } },
  'edit.redo': async () => { if (editor.get().project?.redo) { const s = await call('project.redo', {}); if (s) receiveProject(s); } },
  'keyframe.add': async () => {
    const frame = editor.get().frame;
    const s = await edit({ action: 'addKeyframe', frame });
    const k = s?.project.keyframes.find((x) => x.frame === frame);
    if (k) editor.set({ selection: [k.id] });
  },
  'keyframe.delete': async () => {
    const ids = editor.get().selection;
    if (ids.length) await edit({ action: 'removeKeyframes', ids });
  },
  'keyframe.selectAll': () => editor.set({ selection: editor.get().project?.project.keyframes.map((k) => k.id) ?? [] }),
  'keyframe.next': jumpKeyframe(1),
  'keyframe.previous': jumpKeyframe(-1),
  'keyframe.suggest': () => editor.set({ dialog: { kind: 'suggest' } }),
  'keyframe.importImage': async (arg) => {
    const frame = editor.get().frame; // where the playhead is: that keyframe's image, or a new keyframe there
    const image = arg ?? (await askPath('image', 'Import image as keyframe', `Image for the keyframe at frame ${frame}`));
    if (!image) return;
    const s = await edit({ action: 'importKeyframeImage', frame, image });
    if (s) editor.set({ notice: importedNotice(s, frame, image.split(/[\\/]/).pop()!) });
  },
  'keyframe.suggestHere': async (arg) => {
    const { coverage } = editor.get();
    const frame = arg !== undefined ? Number(arg) : coverage?.worst[0];
    if (frame === undefined || !Number.isInteger(frame)) return void editor.set({ notice: 'no coverage figures yet: propagate first, then the worst-covered frames are marked' });
    const e = coverage?.error[frame];
    const s = await edit({ action: 'addKeyframe', frame });
    const k = s?.project.keyframes.find((x) => x.frame === frame);
    if (!k) return;
    setFrame(frame);
    editor.set({
      selection: [k.id],
      notice: `added a keyframe at frame ${frame}${e != null && coverage ? ` (${describeCoverage(coverage, frame)})` : ''}: render or import its image, then propagate`,
    });
  },
  'keyframe.editExternally': async () => {
    const { info, frame } = editor.get();
    if (info?.mode !== 'electron' && !(await call('externalEditor.get', {}))) {
      return void editor.set({ dialog: { kind: 'external-editor', then: 'keyframe.editExternally' }, notice: 'choose your paint program first' });
    }
    let k = focusedKeyframe();
    if (!k) {
      const s = await edit({ action: 'addKeyframe', frame });
      k = s?.project.keyframes.find((x) => x.frame === frame);
      if (!k) return;
    }
    editor.set({ selection: [k.id] });
    const opened = await call('keyframe.editExternally', { id: k.id });
    if (opened) editor.set({ notice: `editing the keyframe at frame ${k.frame} in ${opened.program}: save it there and it comes back here as the keyframe's new image` });
  },
  'file.externalEditor': () => editor.set({ dialog: { kind: 'external-editor' } }),
  'keyframe.revert': async () => { const k = focusedKeyframe(); if (k) await edit({ action: 'revertKeyframe', id: k.id }); },
  'render.keyframe': () => renderFocused(false),
  'render.regenerate': () => renderFocused(true),
  'render.all': async () => {
    if (pendingKeyframes().length === 0) return void editor.set({ notice: `every keyframe is rendered and up to date: use Re-render all (${shortcutOf('render.rerenderAll')}) to render them again` });
    await call('keyframes.renderAll', { only: 'pending', ...runOnChoice() });
  },
  'render.rerenderAll': async () => { await call('keyframes.renderAll', { only: 'all', ...runOnChoice() }); },
  'render.withDiffusion': async () => {
    const k = focusedKeyframe();
    if (!k || k.source === 'diffusion') return;
    // One engine call: it refuses before touching the keyframe when no render can start (no checkpoint).
    await call('keyframe.renderWithDiffusion', { id: k.id, newSeed: !editor.get().seedLocked });
  },
  'render.propagate': async () => { await call('propagate.start', { ...runOnChoice() }); },
  'render.propagateSegment': async () => {
    const { project, frame } = editor.get();
    const seg = project?.segments.find((s) => frame >= s.start && frame <= s.end);
    if (!seg) return void editor.set({ notice: 'the playhead is on a keyframe: move it between two keyframes to propagate that segment' });
    await call('propagate.start', { segmentId: seg.id, ...runOnChoice() });
  },
  'render.measureFlicker': async () => { await call('metrics.measure', {}); },
  'play.toggle': () => editor.set({ playing: !editor.get().playing }),
  'play.next': stepFrame(1),
  'play.previous': stepFrame(-1),
  'play.next10': stepFrame(10),
  'play.previous10': stepFrame(-10),
  'play.start': () => setFrame(0),
  'play.end': () => setFrame(frameCount() - 1),
  'view.zoomIn': zoomBy(1.5),
  'view.zoomOut': zoomBy(1 / 1.5),
  'view.zoomFit': () => editor.set({ zoom: fitZoom(frameCount(), editor.get().timelineWidth), scroll: 0 }),
  // Choosing what the preview shows leaves an earlier render shown from the history (it would go on hiding the choice).
  'view.source': () => editor.set({ previewSource: 'source', historyView: null }),
  'view.keyframe': () => editor.set({ previewSource: 'keyframe', historyView: null }),
  'view.output': () => editor.set({ previewSource: 'output', historyView: null }),
  'view.errorMap': () => editor.set({ errorOverlay: !editor.get().errorOverlay }),
  'view.wipe': () => editor.set({ compare: editor.get().compare === 'wipe' ? 'none' : 'wipe' }),
  'view.sideBySide': () => editor.set({ compare: editor.get().compare === 'side-by-side' ? 'none' : 'side-by-side' }),
  'help.shortcuts': () => editor.set({ dialog: editor.get().dialog?.kind === 'help' ? null : { kind: 'help' } }),
};

export const actions: Action[] = ACTION_TABLE.map((a) => ({ ...a, perform: PERFORM[a.name] }));

const byName = new Map<string, Action>(actions.map((a) => [a.name, a]));

/** The action's shortcut as shown ("Ctrl+Shift+R"), for messages that name it. */
export function shortcutOf(name: ActionName): string {
  return byName.get(name)?.shortcut ?? '';
}

/** Whether a key press is the action's shortcut or one of its other keys. */
export function pressed(a: ActionDeclaration, e: KeyboardEvent): boolean {
  return [a.shortcut, ...(a.alsoKeys ?? [])].some((s) => s !== undefined && matchesShortcut(s, e));
}

export function actionByName(name: string): Action | undefined {
  return byName.get(name);
}

export async function perform(name: string, arg?: string): Promise<void> {
  const a = byName.get(name);
  if (!a) return;
  if (a.needsProject && !editor.get().project) return void editor.set({ notice: 'open a project first' });
  editor.set({ error: null, notice: null }); // a new action: the last one's message no longer applies
  try {
    await a.perform(arg);
  } catch (err) {
    editor.set({ error: (err as Error).message });
  }
}

/** The global key handler: shortcuts work anywhere except while typing in a field. */
export function handleKey(e: KeyboardEvent): void {
  const t = e.target as HTMLElement | null;
  const inField = !!t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable);
  const { picker, unsaved } = editor.get();
  if (unsaved) {
    if (e.key === 'Escape') unsaved.resolve('cancel'); // the question waits for an answer; no shortcut runs meanwhile
    return;
  }
  if (e.key === 'Escape' && picker) return picker.resolve(null); // the chooser first (its path field has the focus); the dialog behind it stays
  // In a text field only Ctrl/Cmd shortcuts that are not text editing apply (Save, Export, Open…).
  if (inField && (!mod(e) || ['z', 'y', 'a', 'c', 'v', 'x'].includes(e.key.toLowerCase()))) return;
  if (e.key === 'Escape') {
    editor.set({ dialog: null, suggestion: null, selection: [] });
    return;
  }
  if (editor.get().dialog || editor.get().picker) return;
  const hit = actions.find((a) => pressed(a, e)); // Shift must match as written, so → and Shift+→ never both match
  if (!hit) return;
  e.preventDefault();
  if (inField) t!.blur(); // commits the field, so what was typed is part of the action (the engine keeps the order)
  void perform(hit.name);
}
