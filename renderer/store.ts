// The renderer's state (zustand): the project as the engine last sent it, jobs, and view state
// (playhead, selection, timeline zoom/scroll, preview mode, open dialog). Edits never change the
// project here: they go to the engine, which answers with the new state.
import { create } from 'zustand';
import type { CallName, CallParams, CallResult, FarmState, JobState, PickPurpose, ProjectState, RerenderApi } from '../preload/api';

/** How well each frame is covered by its keyframes (metrics.coverage), for the coverage strip and the error-map overlay. */
export type Coverage = CallResult<'metrics.coverage'>;

export type PreviewSource = 'source' | 'keyframe' | 'output';
export type CompareMode = 'none' | 'wipe' | 'side-by-side';
export type DialogState =
  | { kind: 'export' }
  | { kind: 'models' }
  | { kind: 'help' }
  | { kind: 'suggest' }
  /** `opened`: the video was opened as a project; the dialog offers a new project from it instead. */
  | { kind: 'new-project'; video?: string; opened?: boolean }
  /** The paint program setting; `then` is the action to run once it is chosen. */
  | { kind: 'external-editor'; then?: string };

/** The open project has unsaved changes and is about to be closed or replaced: Save, Don't save or Cancel. */
export interface UnsavedPrompt { what: string; resolve(choice: 'save' | 'discard' | 'cancel'): void }

/** A file chooser open above the dialog that asked for it (a typed path and, in a browser, the file browser). */
export interface PickerState { purpose: PickPurpose; title: string; label: string; initial?: string; resolve(path: string | null): void }

export interface AppInfo { mode: 'electron' | 'browser'; version: string; platform: string; nativeDialogs: boolean; recent: string[] }

export interface EditorState {
  api: RerenderApi;
  info: AppInfo | null;
  project: ProjectState | null;
  jobs: Record<string, JobState>;
  /** Playhead frame. */
  frame: number;
  /** Selected keyframe ids (timeline and inspector). */
  selection: string[];
  /** Timeline zoom in pixels per frame, and the first visible frame (fractional). */
  zoom: number;
  scroll: number;
  timelineWidth: number;
  previewSource: PreviewSource;
  compare: CompareMode;
  /** Wipe position 0..1 across the preview. */
  wipe: number;
  playing: boolean;
  /** Suggested keyframe frames shown on the timeline before the user applies them. */
  suggestion: number[] | null;
  /** Seed lock: unlocked, "Render this keyframe" draws a new seed each time. */
  seedLocked: boolean;
  flicker: number[] | null;
  coverage: Coverage | null;
  /** The preview draws the frame's error map over the picture (E). */
  errorOverlay: boolean;
  dialog: DialogState | null;
  /** Above `dialog`: the file chooser it opened (the dialog stays open behind it). */
  picker: PickerState | null;
  /** Above everything: the question whether to save before the project is closed or replaced. */
  unsaved: UnsavedPrompt | null;
  /** An earlier render of a keyframe shown in the preview (compared with its current image), or null. */
  historyView: { keyframeId: string; index: number } | null;
  /** A file is being dragged over the window (the drop hint shows). */
  dropping: boolean;
  /** Last error, shown in the status bar until dismissed. */
  error: string | null;
  notice: string | null;
  /** performance.now() when the shown project was opened: the preview measures open → first frame. */
  openedAt: number;
  /** The render farm setting (Models… → Render farm), and where Propagate and Render all run when one is set. */
  farm: FarmState | null;
  runOn: 'farm' | 'local';
}

export const useEditor = create<EditorState>(() => ({
  api: undefined as unknown as RerenderApi,
  info: null,
  project: null,
  jobs: {},
  frame: 0,
  selection: [],
  zoom: 4,
  scroll: 0,
  timelineWidth: 800,
  previewSource: 'source',
  compare: 'none',
  wipe: 0.5,
  playing: false,
  suggestion: null,
  seedLocked: true,
  flicker: null,
  coverage: null,
  errorOverlay: false,
  dialog: null,
  picker: null,
  unsaved: null,
  dropping: false,
  historyView: null,
  error: null,
  notice: null,
  openedAt: 0,
  farm: null,
  runOn: 'farm',
}));

/** Where Propagate and Render all go: the toolbar's choice when a farm is set; nothing to say without one. */
export function runOnChoice(): { on?: 'farm' | 'local' } {
  const s = useEditor.getState();
  return s.farm?.url ? { on: s.runOn } : {};
}

export const editor = {
  get: useEditor.getState,
  set: useEditor.setState,
};

/** Calls the engine; a failure is shown in the status bar and answered with undefined. */
export async function call<N extends CallName>(name: N, params: CallParams<N>): Promise<CallResult<N> | undefined> {
  try {
    return await editor.get().api.call(name, params);
  } catch (err) {
    editor.set({ error: (err as Error).message });
    return undefined;
  }
}

export function frameCount(): number {
  return editor.get().project?.project.frames.count ?? 0;
}

/** Keeps the playhead inside the video and the timeline scrolled so it stays visible. */
export function setFrame(frame: number): void {
  const count = frameCount();
  if (count === 0) return;
  const f = Math.max(0, Math.min(count - 1, Math.round(frame)));
  const { zoom, scroll, timelineWidth } = editor.get();
  const visible = timelineWidth / zoom;
  let nextScroll = scroll;
  if (f < scroll) nextScroll = f;
  else if (f >= scroll + visible - 1) nextScroll = f - visible + 2;
  // The inspector follows the playhead: a single selection elsewhere and a compared earlier render end.
  const { selection, historyView, project } = editor.get();
  const single = selection.length === 1 ? project?.project.keyframes.find((k) => k.id === selection[0]) : undefined;
  editor.set({
    frame: f, scroll: clampScroll(nextScroll, zoom),
    ...(single && single.frame !== f ? { selection: [] } : {}),
    ...(historyView && f !== editor.get().frame ? { historyView: null } : {}),
  });
}

export function clampScroll(scroll: number, zoom: number): number {
  const { timelineWidth } = editor.get();
  const max = Math.max(0, frameCount() - timelineWidth / zoom);
  return Math.max(0, Math.min(max, scroll));
}

/** Applies a fresh project state from the engine, dropping selections of keyframes that are gone. */
export function receiveProject(state: ProjectState | null): void {
  const prev = editor.get();
  const ids = new Set(state?.project.keyframes.map((k) => k.id) ?? []);
  const frame = state ? Math.min(prev.frame, state.project.frames.count - 1) : 0;
  editor.set({ project: state, selection: prev.selection.filter((s) => ids.has(s)), frame });
}
