// The keyframe inspector: the selected keyframe's render settings as overrides of the project
// defaults (or the defaults themselves when no keyframe is selected), its actions and its render history.
import { useEffect, useState } from 'react';
import type { Keyframe, ProjectState, RenderParams } from '../preload/api';
import { mediaUrl } from './media-url';
import { call, editor, receiveProject, useEditor } from './store';
import { askPath, focusedKeyframe, perform, shortcutOf } from './actions';
import { storedModelPath } from './dialogs/ModelManager';
import { FIELDS, defaultValue, overrideValue, withDefault, withOverride, type Field } from './inspector-fields';
import { frescoSettings } from '../preload/project-schema';
import { numberRange } from '../preload/setting-ranges';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function commitField(k: Keyframe | undefined, render: RenderParams, field: Field, value: unknown) {
  // A keyframe value equal to the project's is no override: it follows the project from then on.
  const own = value !== undefined && same(value, defaultValue(render, field.path)) ? undefined : value;
  const state = k
    ? await call('project.edit', { action: 'setKeyframeOverrides', id: k.id, overrides: withOverride(k.overrides, field.path, own) })
    : await call('project.edit', { action: 'setRenderDefaults', render: withDefault(render, field.path, value) });
  if (state) receiveProject(state);
}

/** The keyframe's overrides that really differ from the project's settings. */
export function differingFields(k: Keyframe, render: RenderParams): Field[] {
  return FIELDS.filter((f) => { const own = overrideValue(k.overrides, f.path); return own !== undefined && !same(own, defaultValue(render, f.path)); });
}

/** A typed number, or why it is refused (the valid range, shown at the field): never clamped silently. */
export function parseNumber(text: string, f: Pick<Field, 'label' | 'min' | 'max' | 'integer'>): { value: number } | { problem: string } {
  const n = Number(text);
  const range = f.min !== undefined && f.max !== undefined ? `from ${f.min} to ${f.max}` : f.min !== undefined ? `at least ${f.min}` : `at most ${f.max}`;
  if (text.trim() === '' || !Number.isFinite(n)) return { problem: `${f.label}: enter a number ${range}` };
  if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) return { problem: `${f.label} must be ${range} (${n} is outside)` };
  if (f.integer && !Number.isInteger(n)) return { problem: `${f.label} must be a whole number ${range}` };
  return { value: n };
}

function FieldControl({ field, value, onCommit }: { field: Field; value: unknown; onCommit(v: unknown): void }) {
  const id = `field-${field.path}`;
  const key = `${field.path}:${JSON.stringify(value)}`; // re-mount on outside changes (undo, other keyframe)
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => setProblem(null), [key]);
  const onEnter = (e: React.KeyboardEvent<HTMLInputElement>) => { if (e.key === 'Enter') (e.target as HTMLInputElement).blur(); };
  const check = (text: string, f: Pick<Field, 'label' | 'min' | 'max' | 'integer'>): number | undefined => {
    const r = parseNumber(text, f);
    if ('problem' in r) { setProblem(r.problem); return undefined; }
    setProblem(null);
    return r.value;
  };
  const error = problem && <span className="field-error" role="alert" data-testid={`error-${field.path}`}>{problem}</span>;
  switch (field.kind) {
    case 'textarea':
      return <textarea id={id} key={key} defaultValue={String(value ?? '')} rows={field.path === 'prompt' ? 3 : 2} onBlur={(e) => e.target.value !== value && onCommit(e.target.value)} />;
    case 'select':
      return <select id={id} value={String(value)} onChange={(e) => onCommit(e.target.value)}>{field.options!.map((o) => <option key={o}>{o}</option>)}</select>;
    case 'checkbox':
      return <input id={id} type="checkbox" checked={Boolean(value)} onChange={(e) => onCommit(e.target.checked)} />;
    case 'window': {
      const w = value as { start: number; end: number };
      const commit = (part: 'start' | 'end', text: string) => {
        const n = check(text, { ...field, label: `${field.label} ${part}` });
        if (n !== undefined && n !== w[part]) onCommit({ ...w, [part]: n });
      };
      return (
        <span className={`window ${problem ? 'invalid' : ''}`} key={key}>
          <input type="number" min={field.min} max={field.max} step={field.step} defaultValue={w.start} aria-label={`${field.label} start`} onBlur={(e) => commit('start', e.target.value)} onKeyDown={onEnter} />
          –
          <input type="number" min={field.min} max={field.max} step={field.step} defaultValue={w.end} aria-label={`${field.label} end`} onBlur={(e) => commit('end', e.target.value)} onKeyDown={onEnter} />
          {error}
        </span>
      );
    }
    default:
      return (
        <span className={`number ${problem ? 'invalid' : ''}`}>
          <input id={id} key={key} type="number" min={field.min} max={field.max} step={field.step} defaultValue={Number(value)} onKeyDown={onEnter} aria-invalid={!!problem}
            className={field.path === 'seed' ? 'seed' : undefined}
            onBlur={(e) => { const n = check(e.target.value, field); if (n !== undefined && n !== value) onCommit(n); }} />
          {error}
        </span>
      );
  }
}

function FieldRow({ field, k, render }: { field: Field; k: Keyframe | undefined; render: RenderParams }) {
  const mine = k ? overrideValue(k.overrides, field.path) : undefined;
  const own = mine !== undefined && !same(mine, defaultValue(render, field.path)) ? mine : undefined;
  const value = mine ?? defaultValue(render, field.path);
  const locked = useEditor((s) => s.seedLocked);
  return (
    <div className={`field ${own !== undefined ? 'overridden' : ''}`}>
      <label htmlFor={`field-${field.path}`} title={field.hint}>{field.label}</label>
      <FieldControl field={field} value={value} onCommit={(v) => void commitField(k, render, field, v)} />
      {field.path === 'seed' && (
        <span className="seed-tools">
          <label title="Unlocked: every render draws a new seed"><input type="checkbox" checked={locked} onChange={(e) => editor.set({ seedLocked: e.target.checked })} /> lock</label>
          <button onClick={() => void commitField(k, render, field, Math.floor(Math.random() * 2 ** 32))}>Randomise</button>
        </span>
      )}
      {k && own !== undefined && <button className="reset" title={`Use the project default (${JSON.stringify(defaultValue(render, field.path))})`} onClick={() => void commitField(k, render, field, undefined)}>↺ default</button>}
    </div>
  );
}

/** FRESCO's batch size range, from the project schema. */
const BATCH = numberRange('batchSize', frescoSettings);

const FRESCO_SWITCHES = [
  ['spatialAttention', 'Spatial-guided attention', 'Queries mixed by the frame\'s own self-similarity (first step)'],
  ['crossFrameAttention', 'Efficient cross-frame attention', 'Keys from the first keyframe plus newly revealed content'],
  ['temporalAttention', 'Temporal-guided attention', 'Attention along optical-flow trajectories (early steps)'],
  ['featureOptimisation', 'Feature optimisation', 'Optimise decoder features for flow consistency (slower)'],
] as const;

/** The keyframe method of the project (Rerender, independent, FRESCO) and FRESCO's component switches. */
function MethodSettings({ state }: { state: ProjectState }) {
  const p = state.project;
  const setMode = async (change: { mode?: typeof p.mode; fresco?: Record<string, unknown> }) => {
    const s = await call('project.edit', { action: 'setMode', mode: change.mode ?? p.mode, fresco: change.fresco });
    if (s) receiveProject(s);
  };
  const chooseSaliencyModel = async () => {
    const file = await askPath('model-file', 'Saliency model', 'Salient-object model (.onnx) for background smoothing', p.fresco?.saliencyModel ?? undefined);
    if (!file) return;
    // Kept relative to the models folder when inside it, like the model manager keeps checkpoints.
    const models = await call('models.state', {});
    void setMode({ fresco: { saliencyModel: models ? storedModelPath(models.folder, file) : file } });
  };
  const fresco = p.fresco;
  const smoothing = state.backgroundSmoothing;
  const smoothingOn = Boolean(fresco?.backgroundSmoothing);
  const smoothingHint = 'Between neighbouring keyframes, replace background that both show by the warped previous one (late steps)';
  return (
    <fieldset data-testid="method">
      <legend>Method</legend>
      <div className="field">
        <label htmlFor="field-mode" title="How keyframes are tied together">Keyframes</label>
        <select id="field-mode" value={p.mode} onChange={(e) => void setMode({ mode: e.target.value as typeof p.mode })}>
          <option value="rerender">Rerender (cross-frame constraints)</option>
          <option value="fresco">FRESCO (batches, spatial-temporal)</option>
          <option value="independent">Independent (baseline)</option>
        </select>
      </div>
      {p.mode === 'fresco' && (
        <>
          {FRESCO_SWITCHES.map(([key, label, hint]) => (
            <div className="field" key={key}>
              <label htmlFor={`field-fresco-${key}`} title={hint}>{label}</label>
              <input id={`field-fresco-${key}`} type="checkbox" checked={fresco ? Boolean(fresco[key]) : true} onChange={(e) => void setMode({ fresco: { [key]: e.target.checked } })} />
            </div>
          ))}
          <div className="field">
            <label htmlFor="field-fresco-batch" title="Keyframes rendered together, including the two carried over">Batch size</label>
            <input id="field-fresco-batch" type="number" min={BATCH.min} max={BATCH.max} step={1} defaultValue={fresco?.batchSize ?? 8} key={fresco?.batchSize ?? 8}
              onBlur={(e) => { const n = Math.round(Number(e.target.value)); if (n >= BATCH.min && n <= BATCH.max && n !== (fresco?.batchSize ?? 8)) void setMode({ fresco: { batchSize: n } }); }} />
          </div>
          <div className="field">
            <label htmlFor="field-fresco-backgroundSmoothing" title={smoothing?.available ? smoothingHint : smoothing?.reason}>Background smoothing</label>
            {/* Left enabled while on, so a project switched on elsewhere (CLI) can still be switched off. */}
            <input id="field-fresco-backgroundSmoothing" type="checkbox" checked={smoothingOn} disabled={!smoothing?.available && !smoothingOn}
              title={smoothing?.available ? smoothingHint : `Unavailable: ${smoothing?.reason ?? 'not checked yet'}`}
              onChange={(e) => void setMode({ fresco: { backgroundSmoothing: e.target.checked } })} />
          </div>
          {smoothing && !smoothing.available && <p className="muted" data-testid="smoothing-unavailable">Background smoothing is unavailable: {smoothing.reason}</p>}
          <div className="field">
            <label title="Salient-object model (ONNX, image in, one-channel map out): in the models folder, or anywhere">Saliency model</label>
            <span>
              <span title={fresco?.saliencyModel ?? undefined}>{fresco?.saliencyModel ?? 'none'}</span>{' '}
              <button onClick={() => void chooseSaliencyModel()}>Choose…</button>
            </span>
          </div>
          <p className="muted">Regenerate renders the keyframe in a batch with the first keyframe and the one before it (the one after, for the first), keeping only its own new image; Render all renders every keyframe, batch by batch.</p>
        </>
      )}
    </fieldset>
  );
}

/**
 * Under the ControlNet fields: a soft-edge or depth ControlNet renders only with the project's detector,
 * so say why it cannot (from main, which sees the models folder) and where to choose one.
 */
function DetectorWarning({ state, k }: { state: ProjectState; k: Keyframe | undefined }) {
  const own = k ? overrideValue(k.overrides, 'controlnet.type') as RenderParams['controlnet']['type'] | undefined : undefined;
  const type = own ?? state.project.render.controlnet.type;
  const detector = state.controlnetDetector;
  // Without a ControlNet model chosen the map is not used, so there is nothing to warn about.
  if ((type !== 'softedge' && type !== 'depth') || !state.project.models.controlnet || detector.available) return null;
  return (
    <p className="note" data-testid="detector-unavailable">
      This ControlNet cannot render: {detector.reason}{' '}
      <button className="link" onClick={() => void perform('file.models')}>Models…</button>
    </p>
  );
}

/** The keyframe's images: the current one marked, earlier ones to compare in the preview, use again or delete. */
/** What an earlier image was: a render's seed, or imported / painted (entries of older projects: by seed). */
export function historyLabel(h: { seed: number; source?: string }): string {
  return h.source && h.source !== 'diffusion' ? h.source : `seed ${h.seed}`;
}

/** A diffusion render (entries of older projects carry no source: renders). */
export const isRender = (h: { source?: string }): boolean => !h.source || h.source === 'diffusion';

function History({ state, k }: { state: ProjectState; k: Keyframe }) {
  const view = useEditor((s) => (s.historyView?.keyframeId === k.id ? s.historyView.index : null));
  const compare = useEditor((s) => s.compare);
  const show = (index: number | null) => editor.set({ historyView: index === null ? null : { keyframeId: k.id, index }, ...(index !== null && compare === 'none' ? { compare: 'side-by-side' } : {}) });
  const edit = async (action: 'pickKeyframeHistory' | 'removeKeyframeHistory', index: number) => {
    const s = await call('project.edit', { action, id: k.id, index });
    if (s) { receiveProject(s); editor.set({ historyView: null }); }
  };
  const entry = view !== null ? k.history[view] : undefined;
  return (
    <fieldset data-testid="history">
      <legend>Images of this keyframe</legend>
      <div className="history">
        {k.image && (
          <button className={`current ${view === null ? 'on' : ''}`} title="The image in use" onClick={() => show(null)}>
            <img alt="current render" src={mediaUrl(state, { kind: 'keyframe', path: k.image, revision: k.revision })} />
            <span>current{k.source === 'diffusion' ? ` · seed ${k.overrides.seed ?? state.project.render.seed}` : ` · ${k.source}`}</span>
          </button>
        )}
        {[...k.history.keys()].reverse().map((i) => {
          const h = k.history[i];
          return (
            <button key={`${h.image}-${i}`} className={view === i ? 'on' : ''} data-index={i} title={`${h.createdAt}: click to compare with the current one in the preview, double-click to use it`}
              onClick={() => show(i)} onDoubleClick={() => void edit('pickKeyframeHistory', i)}>
              <img alt={`earlier ${isRender(h) ? 'render' : 'image'} ${i + 1}`} src={mediaUrl(state, { kind: 'file', path: h.image })} />
              <span>#{i + 1} · {historyLabel(h)}</span>
            </button>
          );
        })}
      </div>
      {entry && view !== null && (
        <div className="buttons" data-testid="history-actions">
          <span className="muted">#{view + 1} ({historyLabel(entry)}) in the preview, beside the current one</span>
          <button className="primary" onClick={() => void edit('pickKeyframeHistory', view)}>{isRender(entry) ? 'Use this render' : 'Use this image'}</button>
          <button onClick={() => void edit('removeKeyframeHistory', view)}>Delete</button>
          <button onClick={() => show(null)}>Back to current</button>
        </div>
      )}
    </fieldset>
  );
}

export function Inspector() {
  const project = useEditor((s) => s.project);
  const selection = useEditor((s) => s.selection);
  const frame = useEditor((s) => s.frame);
  const [advanced, setAdvanced] = useState(false);
  if (!project) return <aside className="inspector" />;
  const p = project.project;
  if (selection.length > 1) {
    return (
      <aside className="inspector" data-testid="inspector">
        <h2>{selection.length} keyframes selected</h2>
        <p className="muted">Drag any of them on the timeline to move them together.</p>
        <button onClick={() => void perform('keyframe.delete')}>Delete {selection.length} keyframes</button>
      </aside>
    );
  }
  const k = focusedKeyframe();
  const groups = ['Prompt', 'Sampling', 'ControlNet'] as const;
  const differing = k ? differingFields(k, p.render).length : 0;
  const diffusion = k?.source === 'diffusion';
  return (
    <aside className="inspector" data-testid="inspector">
      <h2>{k ? `Keyframe at frame ${k.frame}` : 'Project render settings'}</h2>
      <p className="muted">
        {k ? `${k.source} · ${k.status}${differing ? ` · ${differing} setting${differing === 1 ? '' : 's'} differ${differing === 1 ? 's' : ''} from the project` : ' · uses the project settings'}`
          : `No keyframe at frame ${frame}: + Keyframe (${shortcutOf('keyframe.add')}) adds one, Render (${shortcutOf('render.keyframe')}) adds and renders one. Changes here apply to every keyframe without its own value.`}
      </p>
      {k?.note && <p className="note">{k.note}</p>}
      {k && (
        <div className="buttons">
          {diffusion ? (
            <>
              <button className="primary" onClick={() => void perform('render.keyframe')}>Render this keyframe</button>
              <button onClick={() => void perform('render.regenerate')}>Regenerate (new seed)</button>
            </>
          ) : (
            <button className="primary" title="Render this keyframe by diffusion from now on; the imported image stays in its history" onClick={() => void perform('render.withDiffusion')}>Render with diffusion instead</button>
          )}
          <button onClick={() => void perform('keyframe.importImage')}>Import image…</button>
          <button data-testid="edit-externally" title={`Open the image in your paint program (${shortcutOf('keyframe.editExternally')}); each save there becomes the keyframe's new image`} onClick={() => void perform('keyframe.editExternally')}>Edit in external editor</button>
          <button className="link" title="Choose the paint program Edit in external editor opens" onClick={() => void perform('file.externalEditor')}>Paint program…</button>
          {diffusion && <button disabled={!differing} title={differing ? 'Use the project settings for every field' : 'Uses the project settings already'} onClick={() => void perform('keyframe.revert')}>Revert</button>}
          <button onClick={() => void perform('keyframe.delete')}>Delete</button>
        </div>
      )}
      {k && (k.image || k.history.length > 0) && <History state={project} k={k} />}
      {!k && <MethodSettings state={project} />}
      {!k && (
        <div className="buttons">
          <button title={`Renders every diffusion keyframe again, finished ones included (${shortcutOf('render.rerenderAll')})`} onClick={() => void perform('render.rerenderAll')}>Re-render all keyframes…</button>
        </div>
      )}
      {groups.map((g) => (
        <fieldset key={g}>
          <legend>{g}</legend>
          {FIELDS.filter((f) => f.group === g).map((f) => <FieldRow key={f.path} field={f} k={k} render={p.render} />)}
          {g === 'ControlNet' && <DetectorWarning state={project} k={k} />}
        </fieldset>
      ))}
      <fieldset className="advanced">
        <legend><button className="link" onClick={() => setAdvanced(!advanced)}>{advanced ? '▾' : '▸'} Advanced: cross-frame constraints</button></legend>
        {advanced && FIELDS.filter((f) => f.group === 'Advanced').map((f) => <FieldRow key={f.path} field={f} k={k} render={p.render} />)}
      </fieldset>
    </aside>
  );
}
