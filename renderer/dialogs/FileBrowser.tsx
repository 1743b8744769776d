// The file chooser of the browser build: the engine lists folders (your home folder and the project's),
// filtered for what is being chosen (videos, images, models, projects, an export's destination, the paint
// program among the folders programs are installed in), with
// places to jump to; a path can always be typed instead. Electron shows native dialogs and never this.
import { useEffect, useRef, useState } from 'react';
import { PICK_FILTERS, SAVE_PURPOSES, type FolderListing, type PickPurpose } from '../../preload/api';
import { useEditor, type PickerState } from '../store';

/** The last folder each kind of chooser showed, this session: the next one opens there. */
const lastFolder = new Map<PickPurpose, string>();

function sepOf(p: string): string {
  return /^[a-zA-Z]:\\/.test(p) || (p.includes('\\') && !p.includes('/')) ? '\\' : '/';
}
export function joinPath(dir: string, name: string): string {
  const sep = sepOf(dir);
  return dir.endsWith(sep) ? dir + name : dir + sep + name;
}
function dirOf(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i > 0 ? p.slice(0, i) : p.slice(0, i + 1);
}
function baseOf(p: string): string {
  return p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} kB`;
  return `${bytes} B`;
}
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function Icon({ kind }: { kind: 'folder' | 'file' }) {
  return kind === 'folder'
    ? <svg className="icon folder" viewBox="0 0 16 16" aria-hidden="true"><path d="M1.5 3.5h4.2l1.5 1.6h7.3v7.4H1.5z" /></svg>
    : <svg className="icon file" viewBox="0 0 16 16" aria-hidden="true"><path d="M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3" /></svg>;
}

export function FileBrowser({ picker }: { picker: PickerState }) {
  const api = useEditor((s) => s.api);
  const browsing = useEditor((s) => s.info?.mode === 'browser');
  const save = SAVE_PURPOSES.includes(picker.purpose);
  const folderOnly = PICK_FILTERS[picker.purpose].length === 0;
  const [value, setValue] = useState(picker.initial ?? '');
  const [listing, setListing] = useState<FolderListing | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [all, setAll] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  const open = async (dir: string | undefined, showAll = all, fallback = true): Promise<void> => {
    try {
      const l = await api.call('files.list', { purpose: picker.purpose, dir, all: showAll });
      setListing(l);
      setProblem(null);
      setSelected(null);
      lastFolder.set(picker.purpose, l.dir);
      if (folderOnly) setValue(l.dir);
      else if (save) setValue((v) => joinPath(l.dir, baseOf(v) || ''));
    } catch (err) {
      if (fallback && dir !== undefined) return open(undefined, showAll, false);
      setProblem((err as Error).message);
    }
  };

  useEffect(() => {
    if (!browsing) return;
    const start = picker.initial ? (folderOnly ? picker.initial : dirOf(picker.initial)) : lastFolder.get(picker.purpose);
    void open(start || undefined);
  }, [browsing]);

  const close = (result: string | null) => picker.resolve(result);
  const choose = (path: string) => { if (path.trim()) close(path.trim()); };
  const filterName = PICK_FILTERS[picker.purpose].map((f) => (f.extensions.length ? `${f.name}: ${f.extensions.join(' ')}` : f.name)).join(' · ');
  const canChooseFolder = folderOnly || picker.purpose === 'video' || picker.purpose === 'model-file';

  return (
    <form className={`dialog picker ${browsing ? 'browser' : ''}`} role="dialog" aria-label={picker.title} data-testid="path-dialog"
      onSubmit={(e) => { e.preventDefault(); choose(value); }}>
      <h2>{picker.title}</h2>
      {browsing && (
        <div className="browser-body">
          <nav className="places" aria-label="Places">
            {listing?.places.map((p) => (
              <button type="button" key={p.path} className={listing.dir === p.path ? 'on' : ''} title={p.path} onClick={() => void open(p.path)}>{p.label}</button>
            ))}
          </nav>
          <div className="folder">
            <div className="folder-bar">
              <button type="button" disabled={!listing?.parent} onClick={() => listing?.parent && void open(listing.parent)} title="Up one folder" aria-label="Up one folder">↑</button>
              <span className="folder-path" title={listing?.dir} data-testid="browser-folder">{listing?.dir ?? '…'}</span>
              {!folderOnly && (
                <select aria-label="Show" value={all ? 'all' : 'filter'} onChange={(e) => { const a = e.target.value === 'all'; setAll(a); void open(listing?.dir, a); }}>
                  <option value="filter">{filterName}</option>
                  <option value="all">All files</option>
                </select>
              )}
            </div>
            {problem && <p className="note" role="alert">{problem}</p>}
            <ul className="entries" role="listbox" aria-label="Files" data-testid="browser-entries">
              {listing?.entries.map((e) => (
                <li key={e.path} role="option" aria-selected={selected === e.path} data-kind={e.kind} data-name={e.name}
                  className={selected === e.path ? 'selected' : ''}
                  onClick={() => { setSelected(e.path); if (e.kind === 'file' || canChooseFolder) setValue(e.path); }}
                  onDoubleClick={() => (e.kind === 'folder' ? void open(e.path) : choose(e.path))}>
                  <Icon kind={e.kind} /><span className="name">{e.name}</span>
                  <span className="size">{size(e.bytes)}</span>
                  <span className="date">{e.modified ? dateFormat.format(e.modified) : ''}</span>
                </li>
              ))}
              {listing && listing.entries.length === 0 && <li className="empty muted">{folderOnly ? 'No subfolders here.' : 'Nothing here to choose (the filter may hide files: choose "All files").'}</li>}
              {listing?.truncated && <li className="empty muted">Only the first {listing.entries.length} entries are shown: type the path for others.</li>}
            </ul>
          </div>
        </div>
      )}
      <label>{picker.label}
        <input ref={input} autoFocus value={value} onChange={(e) => setValue(e.target.value)} aria-label={picker.label} placeholder="/path/on/this/machine" />
      </label>
      <p className="muted">
        {browsing ? `Double-click a folder to open it${folderOnly ? '' : ', a file to choose it'}; the browser shows your home folder${picker.purpose === 'program' ? ', the project\'s folder and the folders programs are installed in' : ' and the project\'s folder'}, and any path can be typed.` : 'A path on the machine running the editor.'}
      </p>
      <div className="buttons">
        {browsing && folderOnly && listing && <button type="button" onClick={() => choose(listing.dir)}>Choose this folder</button>}
        <button type="submit" className="primary" disabled={!value.trim()}>{save ? 'Save here' : 'OK'}</button>
        <button type="button" onClick={() => close(null)}>Cancel</button>
      </div>
    </form>
  );
}
