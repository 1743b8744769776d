// The small dialogs: keyboard help (from the action registry), a typed path (browsers cannot show
// native file dialogs), new project from a video or an image sequence, keyframe suggestion with a
// preview before applying, and the question whether to save before a project is closed or replaced.
import { useEffect, useState } from 'react';
import type { CallResult } from '../../preload/api';
import { actions, askPath, openProject, perform, shortcutOf, showProject } from '../actions';
import { ErrorDetail, EtaLeft } from '../JobsPanel';
import { call, editor, receiveProject, useEditor } from '../store';
import { count } from '../../preload/plural';

export function HelpOverlay() {
  const groups = [...new Set(actions.map((a) => a.group))];
  return (
    <div className="dialog wide help" role="dialog" aria-label="Keyboard shortcuts" data-testid="help-overlay">
      <h2>Keyboard shortcuts</h2>
      <div className="help-columns">
        {groups.map((g) => (
          <section key={g}>
            <h3>{g}</h3>
            <table>
              <tbody>
                {actions.filter((a) => a.group === g).map((a) => (
                  <tr key={a.name}><td><kbd>{a.shortcut ?? '—'}</kbd></td><td><button className="link" onClick={() => { editor.set({ dialog: null }); void perform(a.name); }}>{a.label}</button>{a.hint && <span className="muted"> — {a.hint}</span>}</td></tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
      </div>
      <p className="muted">Ctrl+wheel on the timeline zooms at the pointer; wheel scrolls. Shift-click or drag across markers to select several.</p>
      <div className="buttons"><button onClick={() => editor.set({ dialog: null })}>Close</button></div>
    </div>
  );
}

/** What the typed source path is (a folder asks for a frame rate), asked of the engine a moment after typing stops. */
function useSourceKind(source: string): CallResult<'source.describe'> | undefined {
  const [kind, setKind] = useState<CallResult<'source.describe'>>();
  useEffect(() => {
    setKind(undefined);
    if (!source.trim()) return;
    let current = true;
    const timer = setTimeout(() => {
      editor.get().api.call('source.describe', { path: source.trim() }).then((k) => { if (current) setKind(k); }, () => undefined);
    }, 250);
    return () => { current = false; clearTimeout(timer); };
  }, [source]);
  return kind;
}

/** The project file a source suggests: beside it, named after it (a folder of frames: after the folder). */
export function projectPathFor(source: string): string {
  const trimmed = source.trim().replace(/[\\/]+$/, '');
  return trimmed ? trimmed.replace(/\.[^./\\]+$/, '') + '.rerender' : '';
}

export function NewProjectDialog({ video: initialVideo, opened: openedAsProject }: { video?: string; opened?: boolean }) {
  const [video, setVideo] = useState(initialVideo ?? '');
  const [file, setFile] = useState(initialVideo ? projectPathFor(initialVideo) : '');
  /** The project path follows the source's name until the user edits it. */
  const [fileEdited, setFileEdited] = useState(false);
  const [shortSide, setShortSide] = useState(512);
  const source = useSourceKind(video);
  const sequence = source?.kind === 'image-sequence';
  // Create stays off while the path names nothing: the project could only fail to decode it.
  const missing = source?.kind === 'missing' && !!video.trim();
  const [fps, setFps] = useState('');
  const [allowGaps, setAllowGaps] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useEditor((s) => (jobId ? s.jobs[jobId] : undefined));
  const changeVideo = (v: string) => {
    setVideo(v);
    if (!fileEdited) setFile(projectPathFor(v));
  };
  const pickVideo = async () => {
    const picked = await askPath('video', 'Choose a video or a folder of frames', 'Video file, or a folder of PNG or JPEG frames', video || undefined);
    if (picked) changeVideo(picked);
  };
  const pickFile = async () => {
    const picked = await askPath('save-project', 'Save the new project as', 'Project file (.rerender)', file || undefined);
    if (picked) { setFile(picked.endsWith('.rerender') ? picked : `${picked}.rerender`); setFileEdited(true); }
  };
  // Decoding done: the engine then opens the project; show it from its start, fitted to the window, on its
  // source frames (a new project has no keyframe results or propagated frames to show yet).
  const [openBefore, setOpenBefore] = useState<string | undefined>();
  const opened = useEditor((s) => s.project);
  useEffect(() => {
    if (job?.status !== 'done' || !opened || opened.file === openBefore) return;
    editor.set({ previewSource: 'source' });
    void showProject(opened).then(() => editor.set({ dialog: null, notice: `created ${opened.file}` }));
  }, [job?.status, opened?.file]);
  const running = job?.status === 'running' || job?.status === 'queued';
  return (
    <div className="dialog" role="dialog" aria-label="New project from video" data-testid="new-dialog">
      <h2>New project from a video</h2>
      {openedAsProject && initialVideo && <p data-testid="opened-video">{initialVideo.split(/[\\/]/).pop()} is a video, not a Rerender project: make a new project from this video below, or Close.</p>}
      <label>Video, or a folder of PNG or JPEG frames<span className="row"><input value={video} onChange={(e) => changeVideo(e.target.value)} aria-label="Video" placeholder="/path/to/clip.mp4" /><button onClick={() => void pickVideo()}>Choose…</button></span></label>
      {sequence && (
        <div className="sequence" data-testid="sequence-source">
          <p className={source.problem ? 'note' : 'muted'} role={source.problem ? 'alert' : undefined}>Image sequence: {source.problem ?? source.summary}</p>
          <label>Frame rate (frames per second)<input value={fps} onChange={(e) => setFps(e.target.value)} aria-label="Frame rate" placeholder="e.g. 24, 25, 23.976, 29.97" /></label>
          {source.gaps && <label><input type="checkbox" checked={allowGaps} onChange={(e) => setAllowGaps(e.target.checked)} /> Take the frames in order despite the missing numbers</label>}
        </div>
      )}
      {missing && <p className="field-error" role="alert" data-testid="source-missing">Nothing is at this path: choose a video file or a folder of frames.</p>}
      <label>Project file<span className="row"><input value={file} onChange={(e) => { setFile(e.target.value); setFileEdited(true); }} aria-label="Project file" /><button onClick={() => void pickFile()}>Choose…</button></span></label>
      <label>Working size (short side, px)<input type="number" min={64} max={8192} step={64} value={shortSide} onChange={(e) => setShortSide(Number(e.target.value))} /></label>
      {job && (
        <div className={`export-progress ${job.status}`} data-testid="create-status" data-status={job.status}>
          {running ? <><progress max={1} value={job.fraction} /> decoding {Math.round(job.fraction * 100)}% <EtaLeft seconds={job.etaSeconds} fraction={job.fraction} /></>
            : job.status === 'failed' ? <><span role="alert">{job.error?.message}{job.error?.fix ? ` — ${job.error.fix}` : ''}</span><ErrorDetail detail={job.error?.detail} /></>
            : job.status === 'done' ? 'opening the project…' : job.status}
        </div>
      )}
      <div className="buttons">
        <button className="primary" disabled={!video || missing || !file.endsWith('.rerender') || running || (sequence && !fps.trim())} onClick={async () => {
          setOpenBefore(editor.get().project?.file);
          const r = await call('project.create', { projectFile: file, video, shortSide, ...(sequence ? { fps: fps.trim(), allowGaps } : {}) });
          if (r) setJobId(r.jobId);
        }}>Create</button>
        <button onClick={() => editor.set({ dialog: null })}>{running ? 'Hide' : 'Close'}</button>
      </div>
    </div>
  );
}

function framesList(frames: number[]): string {
  return `${frames.length === 1 ? 'frame' : 'frames'} ${frames.join(', ')}`;
}

export function SuggestDialog() {
  const suggestion = useEditor((s) => s.suggestion);
  const keyframes = useEditor((s) => s.project?.project.keyframes);
  // Keyframes holding the user's images stay whatever is suggested (the engine keeps them too): say which.
  const kept = suggestion ? (keyframes ?? []).filter((k) => (k.image !== null || k.history.length > 0) && !suggestion.includes(k.frame)).map((k) => k.frame) : [];
  const removed = suggestion ? (keyframes ?? []).filter((k) => k.image === null && k.history.length === 0 && !suggestion.includes(k.frame)).map((k) => k.frame) : [];
  const [method, setMethod] = useState<'uniform' | 'adaptive'>('uniform');
  const [every, setEvery] = useState(10);
  const [min, setMin] = useState(5);
  const [max, setMax] = useState(20);
  const [busy, setBusy] = useState(false);
  const preview = async () => {
    setBusy(true);
    const r = await call('keyframes.suggest', method === 'uniform' ? { method, every } : { method, min, max });
    setBusy(false);
    if (r) editor.set({ suggestion: r.frames });
  };
  const apply = async () => {
    if (!suggestion?.length) return;
    const s = await call('project.edit', { action: 'setKeyframes', frames: suggestion });
    if (s) receiveProject(s);
    editor.set({ suggestion: null, dialog: null, selection: [] });
  };
  return (
    <div className="dialog side" role="dialog" aria-label="Suggest keyframes" data-testid="suggest-dialog">
      <h2>Suggest keyframes</h2>
      <label><input type="radio" checked={method === 'uniform'} onChange={() => setMethod('uniform')} /> every <input type="number" min={1} value={every} onChange={(e) => setEvery(Number(e.target.value))} aria-label="Every K frames" /> frames</label>
      <label><input type="radio" checked={method === 'adaptive'} onChange={() => setMethod('adaptive')} /> at content changes, gaps from <input type="number" min={1} value={min} onChange={(e) => setMin(Number(e.target.value))} aria-label="Smallest gap" /> to <input type="number" min={1} value={max} onChange={(e) => setMax(Number(e.target.value))} aria-label="Largest gap" /></label>
      {suggestion && <p data-testid="suggest-summary">{count(suggestion.length, 'keyframe')} suggested (dashed on the timeline). Keyframes that stay keep their images and settings.</p>}
      {suggestion && kept.length > 0 && <p className="note" data-testid="suggest-kept">Also kept, because they have images: {framesList(kept)}. Delete them on the timeline if they are not wanted.</p>}
      {suggestion && removed.length > 0 && <p className="muted" data-testid="suggest-removed">Removed (empty, no image): {framesList(removed)}.</p>}
      <div className="buttons">
        <button onClick={() => void preview()} disabled={busy}>{busy ? 'Working…' : 'Preview'}</button>
        <button className="primary" disabled={!suggestion?.length} onClick={() => void apply()}>Apply</button>
        <button onClick={() => editor.set({ dialog: null, suggestion: null })}>Cancel</button>
      </div>
    </div>
  );
}

export function StartScreen() {
  const info = useEditor((s) => s.info);
  return (
    <div className="start" data-testid="start-screen">
      <h1>Rerender</h1>
      <p className="muted">Re-render a video in a new style from a text prompt: keyframes by diffusion, propagated to every frame.</p>
      <div className="start-actions">
        <button className="primary big" onClick={() => void perform('file.new')}><strong>New project…</strong><span>from a video or a folder of frames</span></button>
        <button className="big" onClick={() => void perform('file.open')}><strong>Open project…</strong><span>a .rerender file</span></button>
      </div>
      {info && info.recent.length > 0 && (
        <section className="recent-list">
          <h3>Recent projects</h3>
          <ul className="recent">{info.recent.map((f) => (
            <li key={f}><button className="link" title={f} onClick={() => void openProject(f)}><span className="recent-name">{f.split(/[\\/]/).pop()}</span> <span className="muted">{f}</span></button></li>
          ))}</ul>
        </section>
      )}
      <p className="muted small">{shortcutOf('file.new')} new · {shortcutOf('file.open')} open · {shortcutOf('help.shortcuts')} shortcuts</p>
    </div>
  );
}

/** Unsaved changes and the project is about to be closed or replaced: Save, Don't save or Cancel. */
export function UnsavedDialog() {
  const unsaved = useEditor((s) => s.unsaved);
  const name = useEditor((s) => s.project?.project.name);
  if (!unsaved) return null;
  return (
    <div className="modal-layer">
      <div className="dialog" role="alertdialog" aria-label="Unsaved changes" data-testid="unsaved-dialog">
        <h2>Save the changes to {name} before {unsaved.what}?</h2>
        <p className="muted">Without saving, the changes since the last save are lost.</p>
        <div className="buttons">
          <button className="primary" autoFocus onClick={() => unsaved.resolve('save')}>Save</button>
          <button onClick={() => unsaved.resolve('discard')}>Don't save</button>
          <button onClick={() => unsaved.resolve('cancel')}>Cancel</button>
        </div>
      </div>
    </div>
  );
}
