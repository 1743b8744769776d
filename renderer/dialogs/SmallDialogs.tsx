// The small dialogs: keyboard help (from the action registry), a typed path (browsers cannot show
// native file dialogs), new project from a video or an image sequence, and keyframe suggestion with a
// preview before applying.
import { useEffect, useState } from 'react';
import type { CallResult } from '../../preload/api';
import { actions, openProject, perform } from '../actions';
import { call, editor, receiveProject, useEditor, type DialogState } from '../store';

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
                  <tr key={a.name}><td><kbd>{a.shortcut ?? '—'}</kbd></td><td><button className="link" onClick={() => { editor.set({ dialog: null }); void perform(a.name); }}>{a.label}</button></td></tr>
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

export function PathPrompt({ dialog }: { dialog: Extract<DialogState, { kind: 'path' }> }) {
  const [value, setValue] = useState(dialog.initial ?? '');
  const close = (result: string | null) => { editor.set({ dialog: null }); dialog.resolve(result); };
  return (
    <form className="dialog" role="dialog" aria-label={dialog.title} data-testid="path-dialog" onSubmit={(e) => { e.preventDefault(); close(value.trim() || null); }}>
      <h2>{dialog.title}</h2>
      <label>{dialog.label}<input autoFocus value={value} onChange={(e) => setValue(e.target.value)} aria-label={dialog.label} placeholder="/path/on/this/machine" /></label>
      <p className="muted">A path on the machine running the editor.</p>
      <div className="buttons"><button type="submit" className="primary">OK</button><button type="button" onClick={() => close(null)}>Cancel</button></div>
    </form>
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

export function NewProjectDialog({ video: initialVideo }: { video?: string }) {
  const native = useEditor((s) => s.info?.nativeDialogs);
  const [video, setVideo] = useState(initialVideo ?? '');
  const [file, setFile] = useState(initialVideo ? initialVideo.replace(/\.[^./\\]+$/, '') + '.rerender' : '');
  const [shortSide, setShortSide] = useState(512);
  const source = useSourceKind(video);
  const sequence = source?.kind === 'image-sequence';
  const [fps, setFps] = useState('');
  const [allowGaps, setAllowGaps] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useEditor((s) => (jobId ? s.jobs[jobId] : undefined));
  const pickVideo = async () => {
    const r = await call('dialog.pick', { purpose: 'video' });
    if (r?.path) { setVideo(r.path); if (!file) setFile(r.path.replace(/\.[^./\\]+$/, '') + '.rerender'); }
  };
  return (
    <div className="dialog" role="dialog" aria-label="New project from video" data-testid="new-dialog">
      <h2>New project from a video</h2>
      <label>Video, or a folder of PNG or JPEG frames<span className="row"><input value={video} onChange={(e) => setVideo(e.target.value)} aria-label="Video" />{native && <button onClick={() => void pickVideo()}>Choose…</button>}</span></label>
      {sequence && (
        <div className="sequence" data-testid="sequence-source">
          <p className={source.problem ? 'note' : 'muted'} role={source.problem ? 'alert' : undefined}>Image sequence: {source.problem ?? source.summary}</p>
          <label>Frame rate (frames per second)<input value={fps} onChange={(e) => setFps(e.target.value)} aria-label="Frame rate" placeholder="e.g. 24, 25, 23.976, 29.97" /></label>
          {source.gaps && <label><input type="checkbox" checked={allowGaps} onChange={(e) => setAllowGaps(e.target.checked)} /> Take the frames in order despite the missing numbers</label>}
        </div>
      )}
      <label>Project file<input value={file} onChange={(e) => setFile(e.target.value)} aria-label="Project file" /></label>
      <label>Working size (short side, px)<input type="number" min={64} max={8192} step={64} value={shortSide} onChange={(e) => setShortSide(Number(e.target.value))} /></label>
      {job && <div className="export-progress">{job.status === 'running' ? <><progress max={1} value={job.fraction} /> decoding {Math.round(job.fraction * 100)}%</> : job.status === 'failed' ? <span role="alert">{job.error?.message}</span> : job.status}</div>}
      <div className="buttons">
        <button className="primary" disabled={!video || !file.endsWith('.rerender') || job?.status === 'running' || (sequence && !fps.trim())} onClick={async () => {
          const r = await call('project.create', { projectFile: file, video, shortSide, ...(sequence ? { fps: fps.trim(), allowGaps } : {}) });
          if (r) setJobId(r.jobId);
        }}>Create</button>
        <button onClick={() => editor.set({ dialog: null })}>Close</button>
      </div>
    </div>
  );
}

export function SuggestDialog() {
  const suggestion = useEditor((s) => s.suggestion);
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
      {suggestion && <p>{suggestion.length} keyframes suggested (dashed on the timeline). Keyframes that stay keep their images and settings.</p>}
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
      <p className="muted">Re-render a video in a new style from a text prompt.</p>
      <div className="buttons">
        <button className="primary" onClick={() => void perform('file.new')}>New from video…</button>
        <button onClick={() => void perform('file.open')}>Open project…</button>
      </div>
      {info && info.recent.length > 0 && (
        <section>
          <h3>Recent projects</h3>
          <ul className="recent">{info.recent.map((f) => <li key={f}><button className="link" onClick={() => void openProject(f)}>{f}</button></li>)}</ul>
        </section>
      )}
    </div>
  );
}
