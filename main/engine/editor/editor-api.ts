// The editor behind the contract: wires session, workers, jobs and settings, implements every call of
// preload/api.ts, and dispatches validated calls for both transports (Electron IPC, serve-mode WebSocket).
import { calls, isCallName, type CallName, type CallParams, type CallReply, type CallResult, type EventName, type EventPayload, type ModelsState, type FarmState } from '../../../preload/api';
import { WorkerHost, forkWorker, type SpawnWorker } from '../jobs/worker-host';
import { EditorSession, DEFAULT_AUTOSAVE_DELAY_MS } from './session';
import { JobList } from './job-list';
import { EditorJobs, describeFailure } from './editor-jobs';
import { AppSettingsStore } from './app-settings';
import { CACHE_LIMIT_GB } from '../project/cache-collector';
import { readFlickerMetric } from './flicker-metric';
import { readProjectCoverage } from '../propagation/coverage';
import { describeSource } from '../project/create';
import { listFolder } from './file-browser';
import { withUploadedImage } from './uploads';
import { ExternalEdits, validateExternalEditor } from './external-editor';
import path from 'node:path';
import { checkFarmConnection, keepStoredPassword, parseRedisUrl } from '../../farm/connection';
import { listModels, resolveModelsDir } from '../../../native-models/src/model-manager';
import { UserError } from '../../../native-models/src/errors';
import { PROVIDER_CHOICES, type ProviderChoice } from '../../../native-models/src/runtime/provider-names';

/** What differs between Electron and the browser: native dialogs and the file manager. */
export interface EditorPlatform {
  mode: 'electron' | 'browser';
  version: string;
  pickPath?(params: CallParams<'dialog.pick'>): Promise<string | null>;
  reveal?(file: string): void;
  /** Opens a file in the system's default app for it (Electron's shell.openPath). */
  openPath?(file: string): Promise<void>;
}

export interface EditorOptions {
  platform: EditorPlatform;
  settingsFile: string;
  workerModules: { propagation: string; inference: string };
  spawn?: SpawnWorker;
  autosaveDelayMs?: number;
  /** The clock jobs are timed by (ETAs); default Date.now. */
  clock?: () => number;
}

type Handler<N extends CallName> = (params: CallParams<N>) => Promise<CallResult<N>> | CallResult<N>;
export type Handlers = { [N in CallName]: Handler<N> };

export interface Editor {
  session: EditorSession;
  settings: AppSettingsStore;
  handlers: Handlers;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Cancels jobs, writes the autosave and stops the workers; resolves once their processes have exited. */
  dispose(): Promise<void>;
}

/**
 * Execution providers in trying order (from the runtime), those this onnxruntime build has, and why each
 * of those cannot start on this machine (the runtime's probe, in child processes: this process never holds
 * a provider; once per process, side by side).
 */
async function providerChoices(): Promise<{ order: readonly string[]; inBuild: Set<string>; unavailable: Map<string, string> }> {
  try {
    // Loaded on demand: listing onnxruntime-node's backends needs its native binding.
    const mod = await import('../../../native-models/src/runtime/providers');
    const inBuild = new Set<string>(mod.providersInThisBuild());
    const reasons = await Promise.all(mod.PROVIDER_ORDER.map(async (name) => [name, inBuild.has(name) ? await mod.probeProviderApart(name) : undefined] as const));
    const unavailable = new Map(reasons.filter((r): r is readonly [typeof r[0], string] => !!r[1]));
    return { order: [...PROVIDER_CHOICES], inBuild, unavailable };
  } catch {
    return { order: [...PROVIDER_CHOICES], inBuild: new Set(['cpu']), unavailable: new Map() };
  }
}

export function createEditor(opts: EditorOptions): Editor {
  const settings = new AppSettingsStore(opts.settingsFile);
  const modelsDir = () => resolveModelsDir(settings.get().modelsFolder ?? undefined);
  const session = new EditorSession(opts.autosaveDelayMs ?? DEFAULT_AUTOSAVE_DELAY_MS, modelsDir);
  const spawn = opts.spawn ?? forkWorker;
  const workers = {
    propagation: WorkerHost.of('propagation', opts.workerModules.propagation, spawn),
    inference: WorkerHost.of('inference', opts.workerModules.inference, spawn),
  };
  /** The farm of the settings; a URL that no longer parses (a hand edit) means this machine, as farm.state shows. */
  const farm = () => {
    const url = settings.get().farmUrl;
    if (!url) return null;
    try {
      return { url, safeUrl: parseRedisUrl(url).safeUrl };
    } catch {
      return null;
    }
  };
  const jobs = new EditorJobs(session, workers, new JobList((job) => session.emit('job.updated', job), describeFailure, opts.clock), modelsDir, () => settings.get().provider, () => settings.get().cacheLimitGb, farm);

  const externalEdits = new ExternalEdits(session, () => settings.get().externalEditor, opts.platform.openPath, (message, ok) => session.emit('app.notice', { message, error: !ok }));

  async function modelsState(): Promise<ModelsState> {
    const s = settings.get();
    const folder = modelsDir();
    const { order, inBuild, unavailable } = await providerChoices();
    const providers = order.map((name) => ({ name, inThisBuild: name === 'auto' || inBuild.has(name), ...(unavailable.has(name) ? { unavailable: unavailable.get(name) } : {}) }));
    try {
      const models = await listModels(folder);
      return { folder, available: true, models, providers, provider: s.provider, note: models.length ? undefined : 'No models in this folder yet: import a .safetensors checkpoint or choose another folder.' };
    } catch (err) {
      return { folder, available: false, models: [], providers, provider: s.provider, note: (err as Error).message };
    }
  }

  /** The farm setting as the UI may show it: never the password; whether the farm answers now. */
  async function farmState(): Promise<FarmState> {
    const stored = settings.get().farmUrl;
    if (!stored) return { url: null };
    let c;
    try {
      c = parseRedisUrl(stored);
    } catch (err) {
      return { url: null, reachable: false, problem: (err as Error).message };
    }
    try {
      const { warnings } = await checkFarmConnection(c, 3000);
      return { url: c.safeUrl, reachable: true, ...(warnings.length ? { warning: warnings.join('; ') } : {}) };
    } catch (err) {
      return { url: c.safeUrl, reachable: false, problem: (err as Error).message };
    }
  }

  const cacheState = () => ({ limitGb: settings.get().cacheLimitGb, min: CACHE_LIMIT_GB.min, max: CACHE_LIMIT_GB.max });
  const handlers: Handlers = {
    'cache.state': () => cacheState(),
    'cache.setLimit': async ({ limitGb }) => {
      // The contract checks the range at the gate; checked again here, as the settings file would take a bad value as the default.
      if (!(limitGb >= CACHE_LIMIT_GB.min && limitGb <= CACHE_LIMIT_GB.max)) throw new UserError(`the cache limit must be from ${CACHE_LIMIT_GB.min} to ${CACHE_LIMIT_GB.max} GB, got ${limitGb}`);
      await settings.update({ cacheLimitGb: limitGb });
      return cacheState();
    },
    'farm.state': () => farmState(),
    'farm.setUrl': async ({ url }) => {
      const text = url?.trim() || null;
      const next = text ? keepStoredPassword(text, settings.get().farmUrl) : null;
      if (next) parseRedisUrl(next); // a malformed URL is refused with the reason, and nothing is stored
      await settings.update({ farmUrl: next });
      return farmState();
    },
    'app.info': () => ({ mode: opts.platform.mode, version: opts.platform.version, platform: process.platform, nativeDialogs: !!opts.platform.pickPath, recent: settings.get().recent }),
    'project.open': async ({ file }) => {
      const state = await session.openProject(file);
      jobs.list.forgetOtherProjects(state.file); // the previous project's finished jobs leave the panel
      await settings.addRecent(state.file);
      if (!state.framesReady) jobs.rebuildFrames(); // the cache is rebuildable: a copied project just works
      return state;
    },
    'project.create': (p) => ({ jobId: jobs.createProject(p, (file) => void settings.addRecent(file)).id }),
    'project.relink': ({ video }) => session.relinkSource(video),
    'source.describe': ({ path }) => describeSource(path),
    'project.state': () => session.state(),
    'project.save': async ({ file }) => {
      const state = await session.save(file);
      if (file) await settings.addRecent(state.file);
      return state;
    },
    'project.restoreAutosave': () => session.restoreAutosave(),
    'project.discardAutosave': () => session.discardRecovery(),
    'project.close': async ({ discard }) => {
      jobs.list.cancelAll();
      if (discard) await session.discardUnsaved();
      else await session.autosaveNow(); // offered back on the next open
      session.closeProject();
      jobs.list.forgetOtherProjects(null);
      session.emit('project.changed', null);
      return null;
    },
    'project.edit': (req) => session.edit(req),
    'project.undo': () => session.undo(),
    'project.redo': () => session.redo(),
    'keyframes.suggest': (p) => jobs.suggest(p),
    'keyframe.render': ({ id, newSeed }) => ({ jobId: jobs.renderKeyframe(id, newSeed).id }),
    'keyframe.renderWithDiffusion': async ({ id, newSeed }) => ({ jobId: (await jobs.renderWithDiffusion(id, newSeed)).id }),
    'keyframes.renderAll': ({ only, on }) => ({ jobId: jobs.renderAllKeyframes(only, on).id }),
    'propagate.start': ({ segmentId, on }) => ({ jobId: jobs.propagate(segmentId, on).id }),
    'export.start': (p) => ({ jobId: jobs.exportVideo(p).id }),
    'export.suggest': ({ format }) => ({ out: jobs.suggestExport(format) }),
    'jobs.list': () => jobs.list.list(),
    'jobs.cancel': ({ id }) => {
      jobs.list.cancel(id);
      return null;
    },
    'jobs.clearFinished': () => jobs.list.clearFinished(),
    'metrics.flicker': () => (session.file ? readFlickerMetric(session.file, session.project()) : { available: false as const, reason: 'no project is open' }),
    'metrics.coverage': () => readProjectCoverage(session.file ?? '', session.project()),
    'metrics.measure': () => ({ jobId: jobs.measureFlicker().id }),
    'models.state': () => modelsState(),
    'models.setFolder': async ({ folder }) => {
      await settings.update({ modelsFolder: folder });
      if (session.file) session.changed(); // the project's model paths may resolve to other files now
      return modelsState();
    },
    'models.setProvider': async ({ provider }) => {
      const { order } = await providerChoices();
      if (!order.includes(provider)) throw new UserError(`unknown execution provider "${provider}" (choose one of ${order.join(', ')})`);
      await settings.update({ provider: provider as ProviderChoice }); // one of the choices: checked above
      return modelsState();
    },
    'models.import': ({ source }) => ({ jobId: jobs.importModel(modelsDir(), source).id }),
    'models.download': ({ url, sha256 }) => ({ jobId: jobs.downloadModel(modelsDir(), url, sha256).id }),
    'dialog.pick': async (p) => (opts.platform.pickPath ? { supported: true, path: await opts.platform.pickPath(p) } : { supported: false, path: null }),
    'files.list': ({ purpose, dir, all }) => listFolder(purpose, dir, all ?? false, {
      projectFile: session.file,
      extraPlaces: [{ label: 'Models folder', path: modelsDir() }, ...settings.get().recent.map((f) => ({ label: path.basename(path.dirname(f)), path: path.dirname(f) }))],
    }),
    'keyframe.importUpload': ({ frame, name, data }) => {
      const file = session.file;
      if (!file) throw new UserError('open a project first: a dropped image becomes one of its keyframes');
      return withUploadedImage(file, name, data, (image) => session.edit({ action: 'importKeyframeImage', frame, image }));
    },
    'externalEditor.get': () => settings.get().externalEditor,
    'externalEditor.set': async ({ program, args }) => (await settings.update({ externalEditor: program === null ? null : validateExternalEditor(program, args) })).externalEditor,
    'keyframe.editExternally': ({ id }) => externalEdits.edit(id),
    'shell.reveal': ({ path }) => {
      if (!opts.platform.reveal) return { supported: false };
      opts.platform.reveal(path);
      return { supported: true };
    },
  };

  return {
    session,
    settings,
    handlers,
    on: (event, listener) => session.on(event, listener),
    async dispose() {
      externalEdits.stopAll();
      jobs.list.cancelAll();
      const saved = session.autosaveNow();
      session.dispose();
      await Promise.all([saved, workers.propagation.dispose(), workers.inference.dispose()]);
    },
  };
}

/** Validates a call's name and params against the contract; the parsed params, or why not. */
export function parseCall(name: unknown, params: unknown): { ok: true; name: CallName; params: unknown } | { ok: false; error: string } {
  if (typeof name !== 'string' || !isCallName(name)) return { ok: false, error: `unknown call "${String(name).slice(0, 80)}"` };
  const parsed = calls[name].params.safeParse(params ?? {});
  if (!parsed.success) {
    return { ok: false, error: `bad parameters for ${name}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, name, params: parsed.data };
}

/** Runs one validated call; failures become messages the UI shows as is (internal ones say so). */
export async function dispatchCall(handlers: Handlers, name: unknown, params: unknown): Promise<CallReply> {
  const call = parseCall(name, params);
  if (!call.ok) return { ok: false, error: { message: call.error } };
  try {
    const value = await (handlers[call.name] as Handler<CallName>)(call.params as never);
    return { ok: true, value };
  } catch (err) {
    const e = err as Error & { file?: string; detail?: string };
    // A user error's details (a tool's raw output) go to the log, not to the message the user reads.
    if (e?.name === 'UserError' && e.detail) process.stderr.write(`rerender: ${name as string}: ${e.message} (details: ${e.detail})\n`);
    if (e?.name === 'UserError' || e?.name === 'CancelledError') return { ok: false, error: { message: e.message, file: e.file } };
    process.stderr.write(`rerender: ${name as string} failed: ${e?.stack ?? String(err)}\n`);
    return { ok: false, error: { message: `internal error in ${name as string}: ${e?.message ?? String(err)}` } };
  }
}
