// The editor window: toolbar, preview, inspector, timeline, jobs, dialogs and status bar; wires the
// engine's events into the store and keyboard, menu and drop input into the action registry.
import { useEffect } from 'react';
import { actionByName, askPath, handleKey, openProject, perform, showProject } from './actions';
import { call, editor, receiveProject, useEditor } from './store';
import { Timeline } from './timeline/Timeline';
import { Preview } from './Preview';
import { Inspector } from './Inspector';
import { JobsPanel } from './JobsPanel';
import { ExportDialog } from './dialogs/ExportDialog';
import { ModelManager } from './dialogs/ModelManager';
import { HelpOverlay, NewProjectDialog, PathPrompt, StartScreen, SuggestDialog } from './dialogs/SmallDialogs';

const TOOLBAR = ['file.open', 'file.save', 'edit.undo', 'edit.redo', 'keyframe.add', 'keyframe.delete', 'keyframe.suggest', 'keyframe.importImage', 'render.keyframe', 'render.all', 'render.propagate', 'file.export', 'file.models', 'help.shortcuts'];
const SHORT_LABEL: Record<string, string> = {
  'file.open': 'Open', 'file.save': 'Save', 'edit.undo': 'Undo', 'edit.redo': 'Redo', 'keyframe.add': '+ Keyframe', 'keyframe.delete': 'Delete',
  'keyframe.suggest': 'Suggest…', 'keyframe.importImage': 'Import image…', 'render.keyframe': 'Render', 'render.all': 'Render all', 'render.propagate': 'Propagate',
  'file.export': 'Export…', 'file.models': 'Models…', 'help.shortcuts': '?',
};

function Toolbar() {
  const project = useEditor((s) => s.project);
  return (
    <nav className="toolbar" aria-label="Actions">
      {TOOLBAR.map((name) => {
        const a = actionByName(name)!;
        const disabled = (a.needsProject && !project) || (name === 'edit.undo' && !project?.undo) || (name === 'edit.redo' && !project?.redo);
        const title = `${name === 'edit.undo' && project?.undo ? `Undo ${project.undo}` : name === 'edit.redo' && project?.redo ? `Redo ${project.redo}` : a.label}${a.shortcut ? ` (${a.shortcut})` : ''}`;
        return <button key={name} data-action={name} disabled={disabled} title={title} onClick={() => void perform(name)}>{SHORT_LABEL[name]}</button>;
      })}
      <span className="title">{project ? `${project.project.name}${project.dirty ? ' •' : ''}` : 'Rerender'}</span>
    </nav>
  );
}

function StatusBar() {
  const project = useEditor((s) => s.project);
  const frame = useEditor((s) => s.frame);
  const error = useEditor((s) => s.error);
  const notice = useEditor((s) => s.notice);
  const p = project?.project;
  return (
    <footer className="status">
      {p && <span data-testid="status-frame">frame {frame} / {p.frames.count - 1} · {p.keyframes.length} keyframes · {p.working.width}×{p.working.height} · {(p.frames.fps.num / p.frames.fps.den).toFixed(3).replace(/\.?0+$/, '')} fps</span>}
      {project && !project.framesReady && <span className="note">decoding the frames again (see Jobs): previews appear when it is done</span>}
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
    case 'new-project': return <NewProjectDialog video={dialog.video} />;
    case 'path': return <PathPrompt dialog={dialog} />;
  }
}

/** A video or project dropped on the window: open it, or start a new project from it. */
async function onDrop(e: DragEvent) {
  e.preventDefault();
  const file = e.dataTransfer?.files[0];
  if (!file) return;
  const path = editor.get().api.pathForFile(file);
  if (!path) return void editor.set({ notice: 'this browser cannot tell where a dropped file is: use Open or New and type its path' });
  if (path.endsWith('.rerender')) await openProject(path);
  else editor.set({ dialog: { kind: 'new-project', video: path } });
}

/** The flicker strip's values, fetched again whenever output files change (propagation, measuring). */
function useFlickerMetric() {
  const file = useEditor((s) => s.project?.file);
  const revision = useEditor((s) => s.project?.mediaRevision);
  useEffect(() => {
    if (!file) return void editor.set({ flicker: null });
    void call('metrics.flicker', {}).then((f) => editor.set({ flicker: f?.available ? f.values : null }));
  }, [file, revision]);
}

export function App() {
  const project = useEditor((s) => s.project);
  const dialog = useEditor((s) => s.dialog);
  useFlickerMetric();
  useEffect(() => {
    const api = editor.get().api;
    const offs = [
      api.on('project.changed', (s) => receiveProject(s)),
      api.on('job.updated', (j) => editor.set({ jobs: { ...editor.get().jobs, [j.id]: j } })),
      api.on('app.command', ({ action, path }) => void perform(action, path)),
    ];
    void (async () => {
      const [state, info, jobs] = await Promise.all([call('project.state', {}), call('app.info', {}), call('jobs.list', {})]);
      if (info) editor.set({ info });
      if (jobs) editor.set({ jobs: Object.fromEntries(jobs.map((j) => [j.id, j])) });
      if (state) await showProject(state);
    })();
    const dragOver = (e: DragEvent) => e.preventDefault();
    const beforeUnload = (e: BeforeUnloadEvent) => { if (editor.get().project?.dirty && editor.get().api.mode === 'browser') e.preventDefault(); };
    window.addEventListener('keydown', handleKey);
    window.addEventListener('dragover', dragOver);
    window.addEventListener('drop', onDrop);
    window.addEventListener('beforeunload', beforeUnload);
    return () => {
      offs.forEach((off) => off());
      window.removeEventListener('keydown', handleKey);
      window.removeEventListener('dragover', dragOver);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('beforeunload', beforeUnload);
    };
  }, []);

  return (
    <div className={`app ${dialog ? 'has-dialog' : ''}`}>
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
    </div>
  );
}
