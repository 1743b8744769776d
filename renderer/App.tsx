// The editor window: toolbar, preview, inspector, timeline, jobs, dialogs and status bar; wires the
// engine's events into the store and keyboard, menu and drop input into the action registry.
import { useEffect } from 'react';
import { actionByName, askPath, handleKey, importedNotice, openProject, perform, shortcutOf, showProject } from './actions';
import { call, editor, receiveProject, useEditor } from './store';
import { PICK_FILTERS, UPLOAD_BASE64_LIMIT } from '../preload/api';
import { Timeline } from './timeline/Timeline';
import { Preview } from './Preview';
import { Inspector } from './Inspector';
import { JobsPanel } from './JobsPanel';
import { ExportDialog } from './dialogs/ExportDialog';
import { ModelManager } from './dialogs/ModelManager';
import { HelpOverlay, NewProjectDialog, StartScreen, SuggestDialog, UnsavedDialog } from './dialogs/SmallDialogs';
import { FileBrowser } from './dialogs/FileBrowser';
import { ExternalEditorDialog } from './dialogs/ExternalEditorDialog';
import { count } from '../preload/plural';

/** The toolbar's groups, in the order a project is made: file, edit, keyframes, render, output. */
const TOOLBAR: string[][] = [
  ['file.new', 'file.open', 'file.save'],
  ['edit.undo', 'edit.redo'],
  ['keyframe.add', 'keyframe.delete', 'keyframe.suggest', 'keyframe.importImage'],
  ['render.keyframe', 'render.all', 'render.propagate'],
  ['file.export', 'file.models', 'help.shortcuts'],
];
const SHORT_LABEL: Record<string, string> = {
  'file.new': 'New…', 'file.open': 'Open…', 'file.save': 'Save', 'edit.undo': 'Undo', 'edit.redo': 'Redo', 'keyframe.add': '+ Keyframe', 'keyframe.delete': 'Delete',
  'keyframe.suggest': 'Suggest…', 'keyframe.importImage': 'Import image…', 'render.keyframe': 'Render', 'render.all': 'Render all', 'render.propagate': 'Propagate',
  'file.export': 'Export…', 'file.models': 'Models…', 'help.shortcuts': '?',
};

/**
 * Shorter labels for narrower windows, so the toolbar keeps one row and the project name keeps room beside
 * it: from 1300 px wide down, and the shortest from 1100 px (styles.css has the same two widths). The
 * button's accessible name stays the full label.
 */
const NARROW_LABEL: Record<string, { below: 1300 | 1100; label: string }> = {
  'keyframe.add': { below: 1300, label: '+ Key' }, 'keyframe.importImage': { below: 1300, label: 'Import…' }, 'keyframe.suggest': { below: 1300, label: 'Suggest' },
  'file.export': { below: 1300, label: 'Export' }, 'file.models': { below: 1300, label: 'Models' },
  'edit.undo': { below: 1100, label: '↶' }, 'edit.redo': { below: 1100, label: '↷' }, 'keyframe.delete': { below: 1100, label: '− Key' },
};

function Toolbar() {
  const project = useEditor((s) => s.project);
  const pending = useEditor((s) => s.project?.project.keyframes.some((k) => k.source === 'diffusion' && k.status !== 'done' && k.status !== 'rendering') ?? false);
  return (
    <nav className="toolbar" aria-label="Actions">
      {TOOLBAR.map((group, g) => (
        <div className="group" key={g}>
          {group.map((name) => {
            const a = actionByName(name)!;
            const disabled = (a.needsProject && !project) || (name === 'edit.undo' && !project?.undo) || (name === 'edit.redo' && !project?.redo);
            const title = name === 'edit.undo' && project?.undo ? `Undo ${project.undo}` : name === 'edit.redo' && project?.redo ? `Redo ${project.redo}`
              : name === 'render.all' && project && !pending ? `Every keyframe is rendered and up to date (Re-render all: ${shortcutOf('render.rerenderAll')})` : a.hint ? `${a.label}: ${a.hint}` : a.label;
            const narrow = NARROW_LABEL[name];
            return (
              <button key={name} data-action={name} disabled={disabled} title={`${title}${a.shortcut ? ` (${a.shortcut})` : ''}`} onClick={() => void perform(name)}
                {...(narrow ? { className: `narrow-${narrow.below}`, 'aria-label': SHORT_LABEL[name] } : {})}>
                {narrow ? <><span className="wide-label">{SHORT_LABEL[name]}</span><span className="narrow-label">{narrow.label}</span></> : SHORT_LABEL[name]}
              </button>
            );
          })}
        </div>
      ))}
      <RunOnChoice />
      {/* The name gives way to the buttons: cut with an ellipsis, whole in its tooltip; the unsaved mark and × stay. */}
      <span className="title" data-testid="title" title={project ? `${project.project.name}${project.dirty ? ' (unsaved changes)' : ''} — ${project.file}` : undefined}>
        <span className="title-name" data-testid="title-name">{project ? project.project.name : 'Rerender'}</span>
        {project?.dirty && <span className="dirty" aria-label="unsaved changes">•</span>}
        {project && <button className="close" data-action="file.close" title={`Close project (${shortcutOf('file.close')}): back to the start screen`} aria-label="Close project" onClick={() => void perform('file.close')}>×</button>}
      </span>
    </nav>
  );
}

/** With a render farm set: where Propagate and Render all run (the farm by default, or this machine). */
function RunOnChoice() {
  const farm = useEditor((s) => s.farm);
  const runOn = useEditor((s) => s.runOn);
  if (!farm?.url) return null;
  return (
    <label className="run-on" title={`Propagate and Render all run on the render farm at ${farm.url}${farm.reachable === false ? ` (it did not answer: ${farm.problem ?? ''})` : ''}, or on this machine`}>
      Run on
      <select data-testid="run-on" value={runOn} onChange={(e) => editor.set({ runOn: e.target.value === 'local' ? 'local' : 'farm' })}>
        <option value="farm">the farm</option>
        <option value="local">this machine</option>
      </select>
    </label>
  );
}

function StatusBar() {
  const project = useEditor((s) => s.project);
  const frame = useEditor((s) => s.frame);
  const error = useEditor((s) => s.error);
  const notice = useEditor((s) => s.notice);
  // The latest decode of the frames: a failed one must not go on saying "decoding".
  const decodeFailed = useEditor((s) => Object.values(s.jobs).filter((j) => j.kind === 'decode' && j.project === s.project?.file).sort((a, b) => b.startedAt - a.startedAt)[0]?.status === 'failed');
  const p = project?.project;
  return (
    <footer className="status">
      {p && <span data-testid="status-frame">frame {frame} / {p.frames.count - 1} · {count(p.keyframes.length, 'keyframe')} · {p.working.width}×{p.working.height} · {(p.frames.fps.num / p.frames.fps.den).toFixed(3).replace(/\.?0+$/, '')} fps</span>}
      {project && !project.framesReady && <span className="note" data-testid="frames-note">{decodeFailed ? 'the frames could not be decoded (the reason is in Jobs): previews are missing until they are' : 'decoding the frames again (see Jobs): previews appear when it is done'}</span>}
      {error && <span className="error" role="alert" data-testid="error">{error} <button className="link" onClick={() => editor.set({ error: null })}>dismiss</button></span>}
      {!error && notice && <span className="notice">{notice} <button className="link" onClick={() => editor.set({ notice: null })}>ok</button></span>}
    </footer>
  );
}

function RecoveryBanner() {
  const project = useEditor((s) => s.project);
  if (!project?.recoveryAvailable) return null;
  return (
    <div className="banner" role="alert" data-testid="recovery">
      Unsaved changes from an earlier session were found (autosave).
      <button onClick={async () => { const s = await call('project.restoreAutosave', {}); if (s) receiveProject(s); }}>Restore them</button>
      <button onClick={async () => { const s = await call('project.discardAutosave', {}); if (s) receiveProject(s); }}>Discard</button>
    </div>
  );
}

/** The source video is missing or was replaced: say what changed, and offer to relink it. */
function SourceBanner() {
  const problem = useEditor((s) => s.project?.sourceProblem);
  if (!problem) return null;
  const relink = async () => {
    const video = await askPath('video', 'Relink source video', 'Where the source video is now');
    if (!video) return;
    const s = await call('project.relink', { video });
    if (s) receiveProject(s);
  };
  return (
    <div className="banner" role="alert" data-testid="source-problem">
      {problem}
      <button onClick={() => void relink()}>Relink source…</button>
    </div>
  );
}

function Dialogs() {
  const dialog = useEditor((s) => s.dialog);
  const project = useEditor((s) => s.project);
  if (!dialog) return null;
  switch (dialog.kind) {
    case 'export': return project ? <ExportDialog /> : null;
    case 'models': return <ModelManager />;
    case 'help': return <HelpOverlay />;
    case 'suggest': return project ? <SuggestDialog /> : null;
    case 'new-project': return <NewProjectDialog video={dialog.video} opened={dialog.opened} />;
    case 'external-editor': return <ExternalEditorDialog then={dialog.then} />;
  }
}

/** The file chooser, above the dialog that opened it. */
function Picker() {
  const picker = useEditor((s) => s.picker);
  if (!picker) return null;
  return <div className="picker-layer"><FileBrowser picker={picker} /></div>;
}

const IMAGE = new RegExp(`\\.(${PICK_FILTERS.image[0].extensions.join('|')})$`, 'i');
const VIDEO = new RegExp(`\\.(${PICK_FILTERS.video[0].extensions.join('|')})$`, 'i');
const MODEL = new RegExp(`\\.(${PICK_FILTERS['model-file'][0].extensions.join('|')})$`, 'i');

function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(new Error(`could not read the dropped file "${file.name}"`));
    reader.readAsDataURL(file);
  });
}

/**
 * A file dropped on the window. Electron knows its path: a project opens, a video starts a new project,
 * an image becomes the keyframe at the playhead. A browser sends only the bytes: an image is uploaded into
 * the project's assets as the keyframe at the playhead; videos, models and projects must stay where they
 * are on disk, so the matching chooser opens with a word on why.
 */
async function onDrop(e: DragEvent) {
  e.preventDefault();
  editor.set({ dropping: false });
  const file = e.dataTransfer?.files[0];
  if (!file) return;
  const { api, project, frame } = editor.get();
  const path = api.pathForFile(file);
  if (path) {
    if (path.endsWith('.rerender')) return void openProject(path);
    if (IMAGE.test(path) && project) return void perform('keyframe.importImage', path);
    return void perform('file.new', path);
  }
  if (IMAGE.test(file.name)) {
    if (!project) return void editor.set({ notice: 'open or create a project first: a dropped image becomes a keyframe' });
    if (file.size > UPLOAD_BASE64_LIMIT * 0.75) return void editor.set({ error: `"${file.name}" is too large to drop (${Math.round(file.size / 1e6)} MB): use Import image… and choose it in the file browser` });
    editor.set({ error: null, notice: `importing ${file.name} as the keyframe at frame ${frame}…` });
    const s = await call('keyframe.importUpload', { frame, name: file.name, data: await base64Of(file) });
    if (s) { receiveProject(s); editor.set({ notice: importedNotice(s, frame, file.name) }); }
    return;
  }
  if (file.name.endsWith('.rerender')) {
    void perform('file.open'); // an action clears the last message first: the word on why comes after
    editor.set({ notice: `a browser cannot tell where "${file.name}" is: choose it in the file browser` });
    return;
  }
  if (MODEL.test(file.name)) {
    editor.set({ dialog: { kind: 'models' }, notice: `a model stays where it is on disk: use Import model… and choose "${file.name}" in the file browser` });
    return;
  }
  if (!VIDEO.test(file.name)) return void editor.set({ notice: `"${file.name}" is not a video, image, model or project the editor opens` });
  // New project replaces the open one: through the action, which asks about unsaved changes first.
  void perform('file.new');
  editor.set({ notice: `a video stays where it is on disk: choose "${file.name}" with Choose… in New project` });
}

function DropHint() {
  const dropping = useEditor((s) => s.dropping);
  const project = useEditor((s) => s.project);
  const frame = useEditor((s) => s.frame);
  if (!dropping) return null;
  return <div className="drop-hint" data-testid="drop-hint"><div>{project ? `Drop an image to make it the keyframe at frame ${frame}` : 'Drop a video to start a project from it'}</div></div>;
}

/** The flicker strip's values, fetched again whenever output files change (propagation, measuring, edits, undo). */
function useFlickerMetric() {
  const file = useEditor((s) => s.project?.file);
  const revision = useEditor((s) => s.project?.mediaRevision);
  // A measurement is of one output: keyframes added, moved or given new images make another (as for coverage).
  const keyframes = useEditor((s) => s.project?.project.keyframes.map((k) => `${k.frame}:${k.revision}`).join());
  useEffect(() => {
    if (!file) return void editor.set({ flicker: null });
    void call('metrics.flicker', {}).then((f) => editor.set({ flicker: f?.available ? f.values : null }));
  }, [file, revision, keyframes]);
}

/** The coverage strip's figures, fetched again whenever output files change (propagation, edits, undo). */
function useCoverage() {
  const file = useEditor((s) => s.project?.file);
  const revision = useEditor((s) => s.project?.mediaRevision);
  // Keyframes added, moved or given new images change which output is current (a string: states arrive often).
  const keyframes = useEditor((s) => s.project?.project.keyframes.map((k) => `${k.frame}:${k.revision}`).join());
  useEffect(() => {
    if (!file) return void editor.set({ coverage: null });
    void call('metrics.coverage', {}).then((c) => editor.set({ coverage: c ?? null }));
  }, [file, revision, keyframes]);
}

export function App() {
  const project = useEditor((s) => s.project);
  const dialog = useEditor((s) => s.dialog);
  const picker = useEditor((s) => s.picker);
  const unsaved = useEditor((s) => s.unsaved);
  useFlickerMetric();
  useCoverage();
  useEffect(() => {
    const api = editor.get().api;
    const offs = [
      api.on('project.changed', (s) => receiveProject(s)),
      api.on('job.updated', (j) => editor.set({ jobs: { ...editor.get().jobs, [j.id]: j } })),
      api.on('app.command', ({ action, path }) => void perform(action, path)),
      api.on('app.notice', ({ message, error }) => editor.set(error ? { error: message } : { error: null, notice: message })),
    ];
    void (async () => {
      const [state, info, jobs] = await Promise.all([call('project.state', {}), call('app.info', {}), call('jobs.list', {})]);
      if (info) editor.set({ info });
      void call('farm.state', {}).then((farm) => { if (farm) editor.set({ farm }); }); // it asks the farm: may take a moment
      if (jobs) editor.set({ jobs: Object.fromEntries(jobs.map((j) => [j.id, j])) });
      if (state) await showProject(state);
    })();
    const dragOver = (e: DragEvent) => { e.preventDefault(); if (e.dataTransfer?.types.includes('Files') && !editor.get().dropping) editor.set({ dropping: true }); };
    const dragLeave = (e: DragEvent) => { if (!e.relatedTarget) editor.set({ dropping: false }); };
    // Closing the browser tab with unsaved changes: the browser asks (its own words; Electron's window asks in the shell).
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (!editor.get().project?.dirty || editor.get().api.mode !== 'browser') return;
      e.preventDefault();
      e.returnValue = ''; // older Chromium asks only when this is set
    };
    window.addEventListener('keydown', handleKey);
    window.addEventListener('dragover', dragOver);
    window.addEventListener('dragleave', dragLeave);
    window.addEventListener('drop', onDrop);
    window.addEventListener('beforeunload', beforeUnload);
    return () => {
      offs.forEach((off) => off());
      window.removeEventListener('keydown', handleKey);
      window.removeEventListener('dragover', dragOver);
      window.removeEventListener('dragleave', dragLeave);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('beforeunload', beforeUnload);
    };
  }, []);

  return (
    <div className={`app ${dialog || picker || unsaved ? 'has-dialog' : ''}`}>
      <Toolbar />
      <RecoveryBanner />
      <SourceBanner />
      {project ? (
        <main className="workspace">
          <Preview />
          <Inspector />
          <div className="bottom">
            <Timeline />
            <JobsPanel />
          </div>
        </main>
      ) : (
        <main className="workspace empty"><StartScreen /><JobsPanel /></main>
      )}
      <StatusBar />
      <Dialogs />
      <Picker />
      <UnsavedDialog />
      <DropHint />
    </div>
  );
}
