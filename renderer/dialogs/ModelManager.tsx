// Model manager: the models folder, what is in it (with problems), import and download, and the
// execution provider (as this build of ONNX Runtime reports them).
import { useEffect, useState } from 'react';
import type { CacheState, FarmState, ModelsState, Project } from '../../preload/api';
import { call, editor, receiveProject, useEditor } from '../store';
import { askPath } from '../actions';
import { EtaLeft } from '../JobsPanel';

type Role = 'checkpoint' | 'controlnet' | 'vae' | 'lora' | 'saliency' | 'detector';
/**
 * An ONNX file may be a saliency model (FRESCO's background smoothing) or the soft-edge/depth ControlNet
 * detector; the inspector says when the one chosen is not usable.
 */
const ROLES: Record<string, Role[]> = { checkpoint: ['checkpoint'], diffusers: ['checkpoint'], controlnet: ['controlnet'], vae: ['vae'], lora: ['lora'], onnx: ['detector', 'saliency'] };
const ROLE_NAMES: Record<Role, string> = { checkpoint: 'Use as checkpoint', controlnet: 'Use as ControlNet', vae: 'Use as VAE', lora: 'Add LoRA', saliency: 'Use as saliency model', detector: 'Use as ControlNet detector' };
/** The project's single models, as "This project uses" lists them, and what it says when one is not chosen. */
const CHOSEN = [
  { role: 'checkpoint', label: 'Checkpoint', none: 'none chosen: rendering needs one' },
  { role: 'controlnet', label: 'ControlNet', none: 'none' },
  { role: 'detector', label: 'ControlNet detector', none: 'none (soft-edge and depth ControlNets need one)' },
  { role: 'vae', label: 'VAE', none: 'none' },
] as const;

/** Model paths are stored relative to the models folder when inside it, so projects move between machines. */
export function storedModelPath(folder: string, file: string): string {
  const base = folder.replace(/[\\/]+$/, '');
  return file.startsWith(base + '/') || file.startsWith(base + '\\') ? file.slice(base.length + 1) : file;
}

/**
 * Chooses a model for the project. The engine checks it as render would (the file may have changed since
 * the list was read); a refusal comes back as one line, returned for the dialog to show at the model's row.
 */
async function useModel(p: Project, role: Role, file: string): Promise<string | undefined> {
  if (role === 'saliency') {
    const s = await call('project.edit', { action: 'setMode', mode: p.mode, fresco: { saliencyModel: file } });
    if (s) receiveProject(s);
    return undefined;
  }
  const models = p.models;
  const next = role === 'lora'
    ? { ...models, loras: [...models.loras.filter((l) => l.file !== file), { file, multiplier: 1 }] }
    : { ...models, [role]: file };
  try {
    receiveProject(await editor.get().api.call('project.edit', { action: 'setModels', models: next }));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Where a refusal shows: the project's row for that model (LoRAs below the list). */
type Refusal = { role: Role; message: string } | null;

function size(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * The execution providers as this machine has them: those that start here, those of the build that cannot
 * (with the engine's reason), the one automatic takes, and the chosen one when it cannot start.
 */
function providersHere(state: ModelsState) {
  const named = state.providers.filter((p) => p.name !== 'auto');
  const starts = named.filter((p) => p.inThisBuild && !p.unavailable);
  return {
    starts,
    unavailable: named.filter((p) => p.inThisBuild && p.unavailable),
    notInBuild: named.filter((p) => !p.inThisBuild),
    startsFirst: starts[0]?.name,
    chosenUnavailable: named.find((p) => p.name === state.provider && (p.unavailable || !p.inThisBuild)),
  };
}

export function ModelManager() {
  const project = useEditor((s) => s.project);
  const [state, setState] = useState<ModelsState | null>(null);
  const [url, setUrl] = useState('');
  const [sha, setSha] = useState('');
  const [refusal, setRefusal] = useState<Refusal>(null);
  const refusalAt = (role: Role) => refusal?.role === role && <div className="refusal error" role="alert" data-testid="model-refusal" data-role={role}>{refusal.message}</div>;
  useEffect(() => { void call('models.state', {}).then((s) => s && setState(s)); }, []);
  const refresh = async () => { const s = await call('models.state', {}); if (s) setState(s); };
  // The import runs as a job; its progress and outcome show here (the manager stays open), and the list refreshes when it is done.
  const [importId, setImportId] = useState<string | null>(null);
  const importJob = useEditor((s) => (importId ? s.jobs[importId] : undefined));
  useEffect(() => { if (importJob?.status === 'done') void refresh(); }, [importJob?.status]);

  const { unavailable, startsFirst, chosenUnavailable } = state ? providersHere(state) : { unavailable: [], startsFirst: undefined, chosenUnavailable: undefined };

  return (
    <div className="dialog wide" role="dialog" aria-label="Models" data-testid="models-dialog">
      <h2>Models</h2>
      {!state ? <p className="muted">Reading the models folder…</p> : (
        <>
          <label>Models folder
            <span className="row">
              <input readOnly value={state.folder} aria-label="Models folder" />
              <button onClick={async () => {
                const folder = await askPath('models-folder', 'Models folder', 'Folder with checkpoints, ControlNets, LoRAs, VAEs', state.folder);
                if (folder) { const s = await call('models.setFolder', { folder }); if (s) setState(s); }
              }}>Choose…</button>
              <button onClick={() => void refresh()}>Refresh</button>
            </span>
          </label>
          {state.note && !(state.available && state.models.length === 0) && <p className="note">{state.note}</p>}
          {state.available && state.models.length === 0 ? <ModelsEmpty state={state} /> : (
          <table className="models">
            <thead><tr><th>Name</th><th>Kind</th><th>Size</th><th>About</th><th /></tr></thead>
            <tbody>
              {state.models.map((m) => (
                <tr key={m.path} className={m.problem ? 'problem' : ''} data-model={m.name}>
                  <td title={m.path}>{m.name}</td><td>{m.kind}</td><td>{size(m.bytes)}</td><td>{m.problem ?? m.summary}</td>
                  <td>{project && !m.problem && (ROLES[m.kind] ?? []).map((role) => (
                    <button key={role} onClick={() => void useModel(project.project, role, storedModelPath(state.folder, m.path)).then((message) => setRefusal(message ? { role, message } : null))}>{ROLE_NAMES[role]}</button>
                  ))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
          {project && (
            <fieldset data-testid="project-models">
              <legend>This project uses</legend>
              {CHOSEN.map(({ role, label, none }) => (
                <div key={role}>
                <div className="row">
                  <span className="muted">{label}:</span>
                  <span>{project.project.models[role] ?? none}</span>
                  {role !== 'checkpoint' && project.project.models[role] && <button className="link" onClick={() => void call('project.edit', { action: 'setModels', models: { ...project.project.models, [role]: null } }).then((s) => s && receiveProject(s))}>remove</button>}
                </div>
                {refusalAt(role)}
                </div>
              ))}
              {project.project.mode === 'fresco' && (
                <div className="row"><span className="muted">Saliency model:</span><span>{project.project.fresco?.saliencyModel ?? 'none (background smoothing needs one)'}</span>
                  {project.project.fresco?.saliencyModel && <button className="link" onClick={() => void call('project.edit', { action: 'setMode', mode: project.project.mode, fresco: { saliencyModel: null } }).then((s) => s && receiveProject(s))}>remove</button>}
                </div>
              )}
              {project.project.models.loras.map((l) => (
                <div key={l.file} className="row"><span className="muted">LoRA:</span><span>{l.file} × {l.multiplier}</span>
                  <button className="link" onClick={() => void call('project.edit', { action: 'setModels', models: { ...project.project.models, loras: project.project.models.loras.filter((x) => x.file !== l.file) } }).then((s) => s && receiveProject(s))}>remove</button>
                </div>
              ))}
              {refusalAt('lora')}
            </fieldset>
          )}
          <div className="row">
            <button disabled={importJob?.status === 'running'} onClick={async () => {
              const source = await askPath('model-file', 'Import a model', '.safetensors file, .onnx file or diffusers folder');
              if (!source) return;
              const r = await call('models.import', { source });
              if (r) setImportId(r.jobId);
            }}>Import model…</button>
            {importJob && (
              <span className={`import-status ${importJob.status}`} data-testid="import-status" data-status={importJob.status} role={importJob.status === 'failed' ? 'alert' : undefined}>
                {importJob.status === 'running' ? <>{importJob.title}: {Math.round(importJob.fraction * 100)}% · <EtaLeft seconds={importJob.etaSeconds} fraction={importJob.fraction} /></>
                  : importJob.status === 'failed' ? `${importJob.title} failed: ${importJob.error?.message ?? ''}${importJob.error?.fix ? ` ${importJob.error.fix}` : ''}`
                  : importJob.status === 'done' ? `${importJob.title}: done, listed above` : `${importJob.title}: ${importJob.status}`}
              </span>
            )}
          </div>
          <fieldset>
            <legend>Download</legend>
            <input placeholder="https://… (.safetensors)" value={url} onChange={(e) => setUrl(e.target.value)} aria-label="Download URL" />
            <input placeholder="SHA-256 (optional)" value={sha} onChange={(e) => setSha(e.target.value)} aria-label="SHA-256" />
            <button disabled={!url} onClick={async () => {
              const r = await call('models.download', { url, sha256: sha || undefined });
              if (r) editor.set({ notice: 'downloading: see the jobs panel (an interrupted download resumes)' });
            }}>Download</button>
          </fieldset>
          <label>Execution provider
            <select value={state.provider} aria-label="Execution provider" onChange={async (e) => { const s = await call('models.setProvider', { provider: e.target.value }); if (s) setState(s); }}>
              {state.providers.map((p) => (
                <option key={p.name} value={p.name} disabled={!p.inThisBuild || !!p.unavailable}>
                  {p.name === 'auto' ? `automatic (first that starts${startsFirst ? `: ${startsFirst} here` : ''})` : p.name}{!p.inThisBuild ? ' — not in this build' : p.unavailable ? ' — not available on this machine' : ''}
                </option>
              ))}
            </select>
          </label>
          {unavailable.length > 0 && (
            <div className="muted small" data-testid="providers-unavailable">
              Not available on this machine: {unavailable.map((p, i) => <span key={p.name}>{i ? '; ' : ''}<strong>{p.name}</strong>: {p.unavailable}</span>)}.
            </div>
          )}
          {chosenUnavailable && <p className="note" role="alert" data-testid="provider-chosen-unavailable">{chosenUnavailable.name} is chosen but cannot start here{chosenUnavailable.inThisBuild ? '' : ' (not in this build)'}: renders run on the CPU. Choose automatic or cpu.</p>}
          <FarmSetting />
          <CacheSetting />
        </>
      )}
      <div className="buttons"><button onClick={() => editor.set({ dialog: null })}>Close</button></div>
    </div>
  );
}

/**
 * An empty models folder: what to bring (a checkpoint and the tokenizer folder; ControlNets, LoRAs and VAEs
 * if wanted) and which execution providers this build has, instead of an empty table.
 */
function ModelsEmpty({ state }: { state: ModelsState }) {
  const { starts, unavailable, notInBuild } = providersHere(state);
  const names = (list: Array<{ name: string }>) => list.map((p) => p.name).join(', ');
  return (
    <div className="models-empty" data-testid="models-empty">
      <p><strong>No models in this folder yet.</strong> Rerender brings no model: import your own (Import model… below), or put them in the folder and press Refresh.</p>
      <ul>
        <li><strong>A checkpoint</strong> (needed to render keyframes): a Stable Diffusion 1.5-family model, either one <code>.safetensors</code> file or a diffusers folder (the one with <code>model_index.json</code>, <code>unet/</code>, <code>vae/</code>, <code>text_encoder/</code>).</li>
        <li><strong>The tokenizer folder</strong> (a single-file checkpoint has none): CLIP's <code>vocab.json</code> and <code>merges.txt</code> in a folder of their own, e.g. the <code>tokenizer/</code> folder of any SD1.5 diffusers model; a diffusers checkpoint brings its own. From a terminal, <code>rerender models download-tokenizer</code> fetches it.</li>
        <li>If you want them: ControlNets (canny needs nothing more; soft-edge and depth need a detector, an <code>.onnx</code> file), LoRAs (kohya <code>.safetensors</code>) and VAEs.</li>
      </ul>
      <p data-testid="models-empty-providers">Execution providers: {starts.length ? <>on this machine <strong>{names(starts)}</strong></> : 'none starts on this machine'}{unavailable.length ? <>; in this build but not available here: {names(unavailable)} (why: below)</> : ''}{notInBuild.length ? <>; not in this build: {names(notInBuild)}</> : ''}. Automatic uses the first that starts (the CPU always does); a GPU is optional.</p>
    </div>
  );
}

/** The cache limit (app settings): a project's old outputs, flows and measurements are collected beyond it after each propagation. */
function CacheSetting() {
  const [cache, setCache] = useState<CacheState | null>(null);
  const [text, setText] = useState('');
  useEffect(() => { void call('cache.state', {}).then((c) => { if (c) { setCache(c); setText(String(c.limitGb)); } }); }, []);
  const value = Number(text);
  const valid = !!cache && text.trim() !== '' && Number.isFinite(value) && value >= cache.min && value <= cache.max;
  const save = async () => {
    const c = await call('cache.setLimit', { limitGb: value });
    if (c) { setCache(c); setText(String(c.limitGb)); }
  };
  return (
    <fieldset>
      <legend>Cache</legend>
      <label>Cache limit per project (GB)
        <input type="number" min={cache?.min} max={cache?.max} step="any" value={text} aria-label="Cache limit (GB)" aria-invalid={!valid} onChange={(e) => setText(e.target.value)} />
      </label>
      <button disabled={!valid || value === cache?.limitGb} onClick={() => void save()}>Set limit</button>
      {cache && (
        <span className="muted" data-testid="cache-status">
          {valid ? `after each propagation, old entries go once the project's cache is over ${cache.limitGb} GB (never what it or its undo history uses)` : `the limit is from ${cache.min} to ${cache.max} GB`}
        </span>
      )}
    </fieldset>
  );
}

/** The render farm's Redis URL (app settings): shown with its password hidden, checked when saved. */
function FarmSetting() {
  const [farm, setFarm] = useState<FarmState | null>(null);
  const [text, setText] = useState('');
  useEffect(() => { void call('farm.state', {}).then((f) => { if (f) { setFarm(f); setText(f.url ?? ''); editor.set({ farm: f }); } }); }, []);
  const save = async (url: string | null) => {
    const f = await call('farm.setUrl', { url });
    if (f) { setFarm(f); setText(f.url ?? ''); editor.set({ farm: f }); }
  };
  return (
    <fieldset>
      <legend>Render farm</legend>
      <input placeholder="redis://:PASSWORD@farmhost:6379 (empty: this machine)" value={text} onChange={(e) => setText(e.target.value)} aria-label="Farm URL" />
      <button onClick={() => void save(text.trim() || null)}>Save</button>
      {farm?.url && <button className="link" onClick={() => void save(null)}>clear</button>}
      {farm && (
        <span className="muted" data-testid="farm-status" role={farm.problem || farm.warning ? 'alert' : undefined}>
          {!farm.url ? (farm.problem ?? 'jobs run on this machine') : farm.reachable ? `the farm answers${farm.warning ? `; warning: ${farm.warning}` : ''}` : `the farm does not answer: ${farm.problem ?? ''}`}
        </span>
      )}
    </fieldset>
  );
}
