// The editor session (plain Node, no Electron): the open project's store (project-store.ts: the document,
// undo/redo, save, autosave), every edit through the action list, what the UI shows on top of the
// document (job overlay, staleness, media revision), autosave recovery, and change events for the UI.
import fs from 'node:fs';
import { findStaleKeyframes, readRecord, type RenderRecord } from '../render/render-records';
import { saliencyAvailability } from '../fresco/settings';
import { onnxModelAvailability, projectModelPath, resolveModelsDir, type ModelAvailability } from '../../../native-models/src/model-manager';
import type { EditRequest, EventName, EventPayload, ProjectState, SegmentState } from '../../../preload/api';
import type { Project } from '../../../preload/project-schema';
import { readProjectFile } from '../project/project-file';
import { ProjectStore, type Snapshot } from '../project/project-store';
import { segmentStatus, type SegmentInfo } from '../project/status';
import { segmentsOf, type Segment } from '../project/keyframes';
import { projectPaths } from '../project/paths';
import { segmentOutputKey } from '../project/output-keys';
import { collectCache, keysToKeep, type CacheReport } from '../project/cache-collector';
import { applyEdit } from './edit-actions';
import { checkSource, inEditorWords, relinkSource } from '../project/source-video';
import { UserError } from '../../../native-models/src/errors';

interface OpenProject {
  /** The one writer of the file: holds its lock while the project is open here (CLI runs on it are refused). */
  store: ProjectStore;
  /** The autosave found on open, until the user restores or discards it. */
  recovered?: Project;
  mediaRevision: number;
  framesReady: boolean;
  /** The source video is missing or was replaced (checked on open and after a relink). */
  sourceProblem?: string;
}

/** Work in progress that the state shows on top of the project (jobs own it, not the project file). */
export interface StateOverlay {
  renderingKeyframes: Set<string>;
  /** Segment ids being propagated ('all' for a whole-project run), and those whose last run failed. */
  propagating: Set<string> | 'all' | undefined;
  failedSegments: Set<string>;
}

export const DEFAULT_AUTOSAVE_DELAY_MS = 2000;

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

export class EditorSession {
  private open?: OpenProject;
  private listeners = new Map<EventName, Set<Listener<never>>>();
  private edits: Promise<unknown> = Promise.resolve();
  readonly overlay: StateOverlay = { renderingKeyframes: new Set(), propagating: undefined, failedSegments: new Set() };
  /**
   * Keyframes out of date per project snapshot (id → reason), derived from the render records: an edit
   * makes a new snapshot and undo returns to an earlier one, so each is checked once. Records change only
   * when a job finishes, which clears both caches.
   */
  private staleness = new WeakMap<Project, Map<string, string>>();
  /** Render records read so far, by image (each render's record lies beside its image and never changes). */
  private records = new Map<string, RenderRecord | undefined>();

  constructor(
    private readonly autosaveDelayMs = DEFAULT_AUTOSAVE_DELAY_MS,
    /** The models folder the user chose: relative model paths of the project resolve against it. */
    private readonly modelsDir: () => string = () => resolveModelsDir(),
  ) {}

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as Listener<never>);
    this.listeners.set(event, set);
    return () => set.delete(listener as Listener<never>);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const l of this.listeners.get(event) ?? []) (l as Listener<E>)(payload);
  }

  get file(): string | undefined {
    return this.open?.store.file;
  }

  /** The open project, or a UserError telling the user to open one. */
  project(): Project {
    return this.requireOpen().store.project;
  }

  /** The document and its revision, for a job to start from (its results are committed against it). */
  snapshot(): Snapshot {
    return this.requireOpen().store.snapshot();
  }

  private requireOpen(): OpenProject {
    if (!this.open) throw new UserError('no project is open; open or create one first');
    return this.open;
  }

  async openProject(file: string): Promise<ProjectState> {
    const resolved = projectPaths(file).file;
    await readProjectFile(resolved); // a damaged or foreign file is refused before anything else
    if (this.open?.store.file === resolved) this.closeProject(); // opened again: read afresh
    const store = await ProjectStore.open(resolved, { app: 'Rerender editor', autosaveDelayMs: this.autosaveDelayMs });
    const project = store.project;
    const recovered = await store.readAutosave();
    this.closeProject();
    const frames = await fs.promises.readdir(projectPaths(resolved).framesDir).then((l) => l.filter((f) => f.endsWith('.png')).length, () => 0);
    const source = await checkSource(resolved, project);
    this.open = {
      store, recovered, mediaRevision: 1, framesReady: frames >= project.frames.count,
      sourceProblem: source.status === 'ok' ? undefined : inEditorWords(source.problem),
    };
    this.forgetRecords();
    return this.changed();
  }

  closeProject(): void {
    this.open?.store.close();
    this.open = undefined;
    this.overlay.renderingKeyframes.clear();
    this.overlay.propagating = undefined;
    this.overlay.failedSegments.clear();
  }

  state(): ProjectState | null {
    const o = this.open;
    if (!o) return null;
    const stale = this.staleKeyframes(o);
    const { store } = o;
    const keyframes = store.project.keyframes.map((k) => {
      if (this.overlay.renderingKeyframes.has(k.id)) return { ...k, status: 'rendering' as const };
      const reason = stale.get(k.id);
      return reason !== undefined && (k.status === 'done' || k.status === 'stale') ? { ...k, status: 'stale' as const, note: reason } : k;
    });
    return {
      file: store.file,
      project: { ...store.project, keyframes },
      dirty: store.dirty,
      undo: store.undoLabel,
      redo: store.redoLabel,
      segments: this.segmentStates(o),
      recoveryAvailable: o.recovered !== undefined,
      mediaRevision: o.mediaRevision,
      framesReady: o.framesReady,
      backgroundSmoothing: store.project.mode === 'fresco' ? this.smoothingAvailability(store.project) : undefined,
      controlnetDetector: this.detectorAvailability(store.project),
      sourceProblem: o.sourceProblem,
    };
  }

  /** Shown as status "stale" with the reason; the project keeps its statuses, so undo needs nothing more. */
  private staleKeyframes(o: OpenProject): Map<string, string> {
    const { file, project } = o.store;
    let reasons = this.staleness.get(project);
    if (!reasons) {
      const read = (k: Project['keyframes'][number]) => {
        const key = k.image ?? '';
        if (!this.records.has(key)) this.records.set(key, readRecord(file, k));
        return this.records.get(key);
      };
      reasons = new Map(findStaleKeyframes(file, project, read).map((s) => [s.id, s.reason]));
      this.staleness.set(project, reasons);
    }
    return reasons;
  }

  private forgetRecords(): void {
    this.staleness = new WeakMap();
    this.records.clear();
  }

  /** Whether background smoothing can run with the project's saliency model, checked on every state. */
  private smoothingAvailability(p: Project): ModelAvailability {
    const model = p.fresco?.saliencyModel;
    return saliencyAvailability(model ? projectModelPath(this.modelsDir(), model) : undefined);
  }

  /**
   * Whether soft-edge and depth ControlNets can make their map: the editor's renders use the project's
   * detector (a CLI run may name its own), checked on every state so a file added or removed is noticed.
   */
  private detectorAvailability(p: Project): ModelAvailability {
    const chosen = p.models.detector;
    return onnxModelAvailability(chosen ? projectModelPath(this.modelsDir(), chosen) : undefined, 'ControlNet detector',
      'soft-edge and depth ControlNets need a detector (ONNX: RGB image in, map out) to make their map; none is chosen: choose one in the model manager (Use as ControlNet detector), or use the canny ControlNet');
  }

  /**
   * Segment status looks up each segment's current output key (output-keys.ts); the folders only change
   * with the media revision (propagation, renders), so each key is looked up once per revision.
   */
  private statusCache = { file: '', revision: -1, byKey: new Map<string, SegmentInfo>() };

  private segmentStatuses(o: OpenProject): SegmentInfo[] {
    const { file, project } = o.store;
    let cache = this.statusCache;
    if (cache.file !== file || cache.revision !== o.mediaRevision) cache = this.statusCache = { file, revision: o.mediaRevision, byKey: new Map() };
    const side = (k: Segment['left']) => (k ? `${k.status}:${k.image}` : '');
    return segmentsOf(project).map((seg) => {
      const key = `${seg.id}|${segmentOutputKey(project, seg)}|${side(seg.left)}|${side(seg.right)}`;
      let info = cache.byKey.get(key);
      if (!info) cache.byKey.set(key, (info = segmentStatus(file, project, seg)));
      return info;
    });
  }

  private segmentStates(o: OpenProject): SegmentState[] {
    const { propagating, failedSegments } = this.overlay;
    return this.segmentStatuses(o).map((s) => {
      const id = s.segment.id;
      let status: SegmentState['status'] = s.status;
      // A segment the running propagation has finished shows done at once, not "rendering" until the whole run ends.
      if ((propagating === 'all' || propagating?.has(id)) && s.status !== 'done') status = 'rendering';
      else if (failedSegments.has(id) && s.status !== 'done') status = 'failed';
      return { id, start: s.segment.start, end: s.segment.end, status, framesDone: s.framesDone, reason: s.reason };
    });
  }

  /** Sends the current state to every listener and returns it. */
  changed(): ProjectState {
    const state = this.state();
    this.emit('project.changed', state);
    return state!;
  }

  /** Applies one edit from the action list; edits run one at a time, in the order they arrive. */
  edit(req: EditRequest): Promise<ProjectState> {
    const run = this.edits.then(async () => {
      const o = this.requireOpen();
      const changed = await o.store.applyAsync((p) => applyEdit(p, req, { projectFile: o.store.file, modelsDir: this.modelsDir() }));
      if (!changed) return this.state()!;
      if (req.action === 'importKeyframeImage') o.mediaRevision++;
      return this.changed();
    });
    this.edits = run.catch(() => undefined);
    return run;
  }

  /**
   * Commits a finished job's results (rendered keyframes) as one undoable change, checked against the
   * snapshot the job started from (see ProjectStore.commit). Returns what `merge` returned, or undefined
   * when another project is open now.
   */
  commit<T extends { project: Project }>(file: string, label: string, base: Snapshot, merge: (current: Project, base: Project, moved: boolean) => T): (T & { changed: boolean }) | undefined {
    const o = this.open;
    if (!o || o.store.file !== file) return undefined;
    const committed = o.store.commit(label, base, merge);
    o.mediaRevision++;
    this.forgetRecords(); // the job wrote render records
    this.changed();
    return committed;
  }

  /** Points the open project at a moved copy of its source video (validated by probing); undoable. */
  async relinkSource(video: string): Promise<ProjectState> {
    const o = this.requireOpen();
    const relinked = await relinkSource(o.store.file, o.store.project, video);
    o.sourceProblem = undefined;
    o.store.apply('Relink source video', (p) => ({ ...p, source: relinked.source }));
    o.mediaRevision++;
    return this.changed();
  }

  /** The decoded frames are complete again (after rebuilding the cache). */
  framesRebuilt(): ProjectState | null {
    if (!this.open) return null;
    this.open.framesReady = true;
    return this.mediaChanged();
  }

  /** Files behind media URLs changed (propagated frames): bump the cache buster. */
  mediaChanged(): ProjectState | null {
    if (!this.open) return null;
    this.open.mediaRevision++;
    return this.changed();
  }

  /**
   * Removes the open project's old cache entries while the cache exceeds `limitBytes`: never what the
   * document uses now, nor what undo or redo can return to (their keys are kept), so undo brings output back.
   */
  async collectCache(limitBytes: number): Promise<CacheReport | undefined> {
    const o = this.open;
    if (!o) return undefined;
    const report = await collectCache(o.store.file, o.store.project, { limitBytes, keep: keysToKeep(o.store.historyDocuments()) });
    if (report.removed.length && this.open === o) this.mediaChanged(); // statuses are looked up again
    return report;
  }

  undo(): ProjectState {
    const o = this.requireOpen();
    o.store.undo();
    o.mediaRevision++;
    return this.changed();
  }

  redo(): ProjectState {
    const o = this.requireOpen();
    o.store.redo();
    o.mediaRevision++;
    return this.changed();
  }

  /** Saves (to `file` for "Save as"); the autosave is removed once the project is safely on disk. */
  async save(file?: string): Promise<ProjectState> {
    await this.edits; // an edit sent just before "Save" (a field committed on blur) is part of what is saved
    const o = this.requireOpen();
    if (file) await o.store.saveAs(file);
    else await o.store.save();
    return this.changed();
  }

  async restoreAutosave(): Promise<ProjectState> {
    const o = this.requireOpen();
    if (!o.recovered) throw new UserError('there is no autosave to restore', o.store.file);
    const recovered = o.recovered;
    o.recovered = undefined;
    o.store.apply('Restore autosave', () => recovered);
    return this.changed();
  }

  async discardRecovery(): Promise<ProjectState> {
    const o = this.requireOpen();
    o.recovered = undefined;
    await o.store.discardAutosave();
    return this.changed();
  }

  /** "Don't save" before closing: the autosave of the unsaved changes goes too, so nothing offers them back. */
  async discardUnsaved(): Promise<void> {
    await this.open?.store.discardAutosave();
  }

  /** Writes the autosave now if there are unsaved changes (also called on a timer after each edit). */
  async autosaveNow(): Promise<void> {
    await this.open?.store.autosaveNow();
  }

  dispose(): void {
    this.closeProject();
    this.listeners.clear();
  }
}
