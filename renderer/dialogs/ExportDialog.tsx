// Export dialog: format (PNG frames with their first number), range, size (source pixels, working size or
// W×H, as the CLI's --size), side-by-side, destination; replacing an earlier export is asked in the editor's
// own dialog; then the job's progress and "open folder".
import { useEffect, useRef, useState } from 'react';
import { call, editor, useEditor } from '../store';
import { askPath } from '../actions';
import { EtaLeft } from '../JobsPanel';
import { EXPORT_EXISTS } from '../../preload/api';
import { EXPORT_FORMATS, EXPORT_SIDE, type ExportFormat } from '../../preload/project-schema';
import { exportSize, type ExportSizeChoice } from '../../preload/export-size';
import { count } from '../../preload/plural';

type Format = ExportFormat;
const EXT: Record<Format, string> = Object.fromEntries(Object.entries(EXPORT_FORMATS).map(([f, d]) => [f, d.ext])) as Record<Format, string>;

/** Why a typed width or height cannot be exported, or null when it can. */
function sideProblem(text: string, what: string): string | null {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || v < EXPORT_SIDE.min || v > EXPORT_SIDE.max || v % 2) return `${what}: an even number of pixels from ${EXPORT_SIDE.min} to ${EXPORT_SIDE.max}`;
  return null;
}

/** A size of another shape than the working frames stretches the picture (the frames are scaled to it, not cropped). */
function stretchOf(size: { width: number; height: number }, frames: { width: number; height: number }): string | null {
  const ratio = (size.width / size.height) / (frames.width / frames.height);
  if (Math.abs(ratio - 1) < 0.01) return null;
  const aspect = (w: number, h: number) => `${(w / h).toFixed(2)}:1`;
  return `${size.width}×${size.height} (${aspect(size.width, size.height)}) is ${ratio > 1 ? 'wider' : 'taller'} than the frames (${frames.width}×${frames.height}, ${aspect(frames.width, frames.height)}): the picture will be stretched.`;
}

export function ExportDialog() {
  const project = useEditor((s) => s.project)!;
  const info = useEditor((s) => s.info);
  const p = project.project;
  const [format, setFormat] = useState<Format>(p.export.format);
  // The engine proposes the destination ("<name> (rerendered).mp4", numbered when taken: never an existing
  // file or the source video); it follows the format until the user types or chooses a name.
  const [dest, setDest] = useState('');
  const followsDefault = useRef(true);
  const [whole, setWhole] = useState(true);
  const [start, setStart] = useState(0);
  const [end, setEnd] = useState(p.frames.count - 1);
  const [sideBySide, setSideBySide] = useState(p.export.sideBySide);
  const [allowIncomplete, setAllowIncomplete] = useState(false);
  const [startNumber, setStartNumber] = useState(0);
  const [jobId, setJobId] = useState<string | null>(null);
  const job = useEditor((s) => (jobId ? s.jobs[jobId] : undefined));
  const [sizeKind, setSizeKind] = useState<'source' | 'working' | 'custom'>('source');
  const sourceSize = exportSize(p, 'source');
  const [customW, setCustomW] = useState(String(sourceSize.width));
  const [customH, setCustomH] = useState(String(sourceSize.height));
  const sizeProblems = sizeKind === 'custom' ? [sideProblem(customW, 'Width'), sideProblem(customH, 'Height')].filter(Boolean) as string[] : [];
  const sizeChoice: ExportSizeChoice = sizeKind === 'custom' ? { width: Number(customW), height: Number(customH) } : sizeKind;
  const size = exportSize(p, sizeProblems.length ? 'source' : sizeChoice);
  const stretch = sizeKind === 'custom' && !sizeProblems.length ? stretchOf(size, p.working) : null;
  // An earlier export at the destination: asked here, in the editor's own dialog (params to export with on Replace).
  const [replace, setReplace] = useState<{ params: Record<string, unknown>; dest: string } | null>(null);
  const [kept, setKept] = useState<string | null>(null);
  const ext = /\.[^./\\]*$/.exec(dest)?.[0].toLowerCase() ?? '';
  const videoExts = Object.values(EXT).filter(Boolean) as string[];
  const mismatch = format === 'png' ? (videoExts.includes(ext) || ext === '.m4v' ? `PNG frames go into a folder; the name ends ${ext}.` : null)
    : ext === EXT[format] || (format === 'mp4' && ext === '.m4v') ? null : `${EXPORT_FORMATS[format].label} needs a name ending ${EXT[format]}; the export will be refused.`;
  // Only the segments the chosen frames fall in: the export reads those frames alone (segments never hold keyframes).
  const [first, last] = whole ? [0, p.frames.count - 1] : [start, end];
  const notRendered = project.segments.filter((s) => s.status !== 'done' && s.start <= last && s.end >= first).length;

  useEffect(() => {
    if (!followsDefault.current) return;
    let live = true;
    void call('export.suggest', { format }).then((r) => { if (r && live && followsDefault.current) setDest(r.out); });
    return () => { live = false; };
  }, [format, project.file]);
  const typeDest = (d: string) => {
    followsDefault.current = false;
    setDest(d);
  };

  const changeFormat = (f: Format) => {
    setFormat(f);
    // The proposed name follows the format; a name the user typed keeps its stem and gets the new extension.
    if (followsDefault.current) return;
    if (EXT[format] && dest.toLowerCase().endsWith(EXT[format])) setDest(dest.slice(0, -EXT[format].length) + EXT[f]);
  };
  const start_ = async () => {
    if (sizeProblems.length || !dest.trim()) return;
    const params = { out: dest, format, sideBySide, allowIncomplete, range: whole ? undefined : { start, end }, size: sizeChoice, ...(format === 'png' ? { startNumber } : {}) };
    // A new attempt: what an earlier export of this dialog said no longer applies.
    setJobId(null);
    setKept(null);
    try {
      setJobId((await editor.get().api.call('export.start', params)).jobId);
    } catch (err) {
      // An earlier export is there: replace it only when the user says so.
      const message = (err as Error).message;
      if (!EXPORT_EXISTS.test(message)) return void editor.set({ error: message });
      setReplace({ params, dest });
    }
  };
  const answerReplace = async (yes: boolean) => {
    const asked = replace!;
    setReplace(null);
    if (!yes) return setKept(`Not exported: ${asked.dest} was kept as it was.`);
    const r = await call('export.start', { ...(asked.params as Parameters<typeof call<'export.start'>>[1]), overwrite: true });
    if (r) setJobId(r.jobId);
  };

  return (
    <div className="dialog" role="dialog" aria-label="Export video" data-testid="export-dialog">
      <h2>Export video</h2>
      <label>Format
        <select value={format} onChange={(e) => changeFormat(e.target.value as Format)} aria-label="Format">
          {Object.entries(EXPORT_FORMATS).map(([f, d]) => <option key={f} value={f}>{d.label}</option>)}
        </select>
      </label>
      <label>Destination
        <span className="row">
          <input value={dest} onChange={(e) => typeDest(e.target.value)} aria-label="Destination" />
          {<button onClick={async () => { const d = await askPath('export', 'Export to', 'Destination', dest); if (d) typeDest(d); }}>Choose…</button>}
        </span>
      </label>
      {mismatch && <p className="note" role="alert" data-testid="export-name-mismatch">{mismatch}</p>}
      {format === 'png' && (
        <label>First frame number (editors may expect 1, or 86400 for 01:00:00:00 at 24 fps)
          <input type="number" min={0} max={99_999_999} step={1} value={startNumber} onChange={(e) => setStartNumber(Math.max(0, Math.floor(Number(e.target.value) || 0)))} aria-label="First frame number" />
        </label>
      )}
      <fieldset>
        <legend>Range</legend>
        <label><input type="radio" checked={whole} onChange={() => setWhole(true)} /> whole video (frames 0–{p.frames.count - 1})</label>
        <label><input type="radio" checked={!whole} onChange={() => setWhole(false)} /> frames
          <input type="number" min={0} max={p.frames.count - 1} value={start} onChange={(e) => setStart(Number(e.target.value))} disabled={whole} aria-label="First frame" /> to
          <input type="number" min={0} max={p.frames.count - 1} value={end} onChange={(e) => setEnd(Number(e.target.value))} disabled={whole} aria-label="Last frame" />
        </label>
      </fieldset>
      <fieldset data-testid="export-size-choice">
        <legend>Size</legend>
        <label><input type="radio" checked={sizeKind === 'source'} onChange={() => setSizeKind('source')} /> source pixels ({sourceSize.width}×{sourceSize.height})</label>
        <label><input type="radio" checked={sizeKind === 'working'} onChange={() => setSizeKind('working')} /> working size ({p.working.width}×{p.working.height})</label>
        <label><input type="radio" checked={sizeKind === 'custom'} onChange={() => setSizeKind('custom')} /> width
          <input type="number" min={EXPORT_SIDE.min} max={EXPORT_SIDE.max} step={2} value={customW} onChange={(e) => { setCustomW(e.target.value); setSizeKind('custom'); }} aria-label="Export width" aria-invalid={sizeKind === 'custom' && !!sideProblem(customW, 'Width')} /> × height
          <input type="number" min={EXPORT_SIDE.min} max={EXPORT_SIDE.max} step={2} value={customH} onChange={(e) => { setCustomH(e.target.value); setSizeKind('custom'); }} aria-label="Export height" aria-invalid={sizeKind === 'custom' && !!sideProblem(customH, 'Height')} />
        </label>
        {sizeProblems.map((m) => <p key={m} className="field-error" role="alert" data-testid="export-size-error">{m}</p>)}
      </fieldset>
      {/* Plain text: the warning colour is kept for a size that cannot be exported or that stretches the picture. */}
      <p className={sizeProblems.length ? 'note' : 'muted'} data-testid="export-size">Output size: {sizeProblems.length ? 'choose a valid size' : <>{size.width}×{size.height}{sideBySide ? ` per side (${size.width * 2}×${size.height} in all)` : ''}, {size.why}</>}</p>
      {stretch && <p className="note" role="alert" data-testid="export-size-stretch">{stretch}</p>}
      <label><input type="checkbox" checked={sideBySide} onChange={(e) => setSideBySide(e.target.checked)} /> Side by side with the source</label>
      <label><input type="checkbox" checked={allowIncomplete} onChange={(e) => setAllowIncomplete(e.target.checked)} /> Use source frames where nothing is rendered yet</label>
      {notRendered > 0 && !allowIncomplete && <p className="note">{count(notRendered, 'segment')} {notRendered === 1 ? 'is' : 'are'} not fully propagated{whole ? '' : ` in frames ${first}–${last}`}; export fails unless you propagate first or allow source frames.</p>}
      {kept && !job && <div className="export-progress" data-testid="export-status" data-status="kept">{kept}</div>}
      {job && (
        <div className={`export-progress ${job.status}`} data-testid="export-status" data-status={job.status}>
          {job.status === 'running' && <><progress max={1} value={job.fraction} /> {Math.round(job.fraction * 100)}% <EtaLeft seconds={job.etaSeconds} fraction={job.fraction} /></>}
          {job.status === 'done' && <span>Exported to {job.output}</span>}
          {job.status === 'failed' && <span role="alert">{job.error?.message}{job.error?.fix ? ` — ${job.error.fix}` : ''}</span>}
          {job.status === 'cancelled' && <span>Cancelled</span>}
        </div>
      )}
      <div className="buttons">
        {job?.status === 'done' && info?.mode === 'electron' && <button onClick={() => void call('shell.reveal', { path: job.output! })}>Open folder</button>}
        {job?.status === 'running' ? <button onClick={() => void call('jobs.cancel', { id: job.id })}>Cancel export</button>
          : <button className="primary" disabled={sizeProblems.length > 0 || !dest.trim()} onClick={() => void start_()}>Export</button>}
        <button onClick={() => editor.set({ dialog: null })}>Close</button>
      </div>
      {replace && (
        <div className="modal-layer">
          <div className="dialog" role="alertdialog" aria-label="Replace the earlier export" data-testid="export-replace-dialog">
            <h2>Replace the earlier export?</h2>
            <p><span className="path">{replace.dest}</span> already exists{format === 'png' ? ' (frames of an earlier export)' : ''}. Replacing it cannot be undone.</p>
            <div className="buttons">
              <button onClick={() => void answerReplace(true)}>Replace</button>
              <button className="primary" autoFocus onClick={() => void answerReplace(false)}>Cancel</button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
