// The editor session (plain Node, no Electron): the open project, every edit through the action list
// with undo/redo, dirty state, debounced autosave with recovery, and change events for the UI.
import fs from 'node:fs';
import { findStaleKeyframes, readRecord, type RenderRecord } from '../render/render-records';
import { saliencyAvailability } from '../fresco/settings';
import { onnxModelAvailability, projectModelPath, resolveModelsDir, type ModelAvailability } from '../../../native-models/src/model-manager';
import type { EditRequest, EventName, EventPayload, ProjectState, SegmentState } from '../../../preload/api';
import type { Project } from '../../../preload/project-schema';
import { readProjectFile, writeProjectFile, readAutosave, writeAutosave, discardAutosave } from '../project/project-file';
import { segmentStatus, type SegmentInfo } from '../project/status';
import { segmentsOf, settleInterruptedRenders, type Segment } from '../project/keyframes';
import { projectPaths } from '../project/paths';
import { segmentOutputKey } from '../project/output-keys';
import { applyEdit } from './edit-actions';
import { saveProjectAs } from './save-as';
import { ProjectLock } from '../project/project-lock';
import { checkSource, relinkSource } from '../project/source-video';
import { UserError } from '../../../native-models/src/errors';

interface HistoryEntry { label: string; before: Project; after: Project }

interface OpenProject {
  file: string;
  /** One writer per project: held while the project is open here (CLI runs on it are refused). */
  lock: ProjectLock;
  project: Project;
  dirty: boolean;
  undo: HistoryEntry[];
  redo: HistoryEntry[];
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

const HISTORY_LIMIT = 200;
export const DEFAULT_AUTOSAVE_DELAY_MS = 2000;

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;

export class EditorSession {
  private open?: OpenProject;
  private listeners = new Map<EventName, Set<Listener<never>>>();
  private autosaveTimer: NodeJS.Timeout | undefined;
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
    return this.open?.file;
  }

  /** The open project, or a UserError telling the user to open one. */
  project(): Project {
    return this.requireOpen().project;
  }

  private requireOpen(): OpenProject {
    if (!this.open) throw new UserError('no project is open; open or create one first');
    return this.open;
  }

  async openProject(file: string): Promise<ProjectState> {
    const resolved = projectPaths(file).file;
    await readProjectFile(resolved); // a damaged or foreign file is refused before anything else
    const reopening = this.open?.file === resolved;
    const lock = reopening ? this.open!.lock : ProjectLock.acquire(resolved, 'Rerender editor');
    let project;
    try {
      // Keyframes an older version left "rendering" in the file get a truthful status.
      project = settleInterruptedRenders(await readProjectFile(resolved));
    } catch (err) {
      if (!reopening) lock.release();
      throw err;
    }
    const recovered = await readAutosave(resolved);
    this.closeProject({ keepLock: reopening });
    const frames = await fs.promises.readdir(projectPaths(resolved).framesDir).then((l) => l.filter((f) => f.endsWith('.png')).length, () => 0);
    const source = await checkSource(resolved, project);
    this.open = {
      file: resolved, lock, project, dirty: false, undo: [], redo: [], recovered, mediaRevision: 1, framesReady: frames >= project.frames.count,
      sourceProblem: source.status === 'ok' ? undefined : source.problem,
    };
    this.forgetRecords();
    return this.changed();
  }

  closeProject(opts: { keepLock?: boolean } = {}): void {
    this.flushAutosaveTimer();
    if (!opts.keepLock) this.open?.lock.release();
    this.open = undefined;
    this.overlay.renderingKeyframes.clear();
    this.overlay.propagating = undefined;
    this.overlay.failedSegments.clear();
  }

  state(): ProjectState | null {
    const o = this.open;
    if (!o) return null;
    const stale = this.staleKeyframes(o);
    const keyframes = o.project.keyframes.map((k) => {
      if (this.overlay.renderingKeyframes.has(k.id)) return { ...k, status: 'rendering' as const };
      const reason = stale.get(k.id);
      return reason !== undefined && (k.status === 'done' || k.status === 'stale') ? { ...k, status: 'stale' as const, note: reason } : k;
    });
    return {
      file: o.file,
      project: { ...o.project, keyframes },
      dirty: o.dirty,
      undo: o.undo.at(-1)?.label ?? null,
      redo: o.redo.at(-1)?.label ?? null,
      segments: this.segmentStates(o),
      recoveryAvailable: o.recovered !== undefined,
      mediaRevision: o.mediaRevision,
      framesReady: o.framesReady,
      backgroundSmoothing: o.project.mode === 'fresco' ? this.smoothingAvailability(o.project) : undefined,
      controlnetDetector: this.detectorAvailability(o.project),
      sourceProblem: o.sourceProblem,
    };
  }

  /** Shown as status "stale" with the reason; the project keeps its statuses, so undo needs nothing more. */
  private staleKeyframes(o: OpenProject): Map<string, string> {
    let reasons = this.staleness.get(o.project);
    if (!reasons) {
      const read = (k: Project['keyframes'][number]) => {
        const key = k.image ?? '';
        if (!this.records.has(key)) this.records.set(key, readRecord(o.file, k));
        return this.records.get(key);
      };
      reasons = new Map(findStaleKeyframes(o.file, o.project, read).map((s) => [s.id, s.reason]));
      this.staleness.set(o.project, reasons);
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
    let cache = this.statusCache;
    if (cache.file !== o.file || cache.revision !== o.mediaRevision) cache = this.statusCache = { file: o.file, revision: o.mediaRevision, byKey: new Map() };
    const side = (k: Segment['left']) => (k ? `${k.status}:${k.image}` : '');
    return segmentsOf(o.project).map((seg) => {
      const key = `${seg.id}|${segmentOutputKey(o.project, seg)}|${side(seg.left)}|${side(seg.right)}`;
      let info = cache.byKey.get(key);
      if (!info) cache.byKey.set(key, (info = segmentStatus(o.file, o.project, seg)));
      return info;
    });
  }

  private segmentStates(o: OpenProject): SegmentState[] {
    const { propagating, failedSegments } = this.overlay;
    return this.segmentStatuses(o).map((s) => {
      const id = s.segment.id;
      let status: SegmentState['status'] = s.status;
      if (propagating === 'all' || propagating?.has(id)) status = 'rendering';
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
      const { project, label } = await applyEdit(o.project, req, { projectFile: o.file, modelsDir: this.modelsDir() });
      if (project === o.project) return this.state()!;
      this.record(o, label, project);
      if (req.action === 'importKeyframeImage') o.mediaRevision++;
      return this.changed();
    });
    this.edits = run.catch(() => undefined);
    return run;
  }

  /** A change made by a finished job (a rendered keyframe): undoable like any edit. */
  applyChange(label: string, change: (p: Project) => Project): ProjectState | null {
    const o = this.open;
    if (!o) return null;
    this.record(o, label, change(o.project));
    o.mediaRevision++;
    this.forgetRecords(); // the job rewrote render records
    return this.changed();
  }

  /** Points the open project at a moved copy of its source video (validated by probing); undoable. */
  async relinkSource(video: string): Promise<ProjectState> {
    const o = this.requireOpen();
    const relinked = await relinkSource(o.file, o.project, video);
    o.sourceProblem = undefined;
    return this.applyChange('Relink source video', (p) => ({ ...p, source: relinked.source }))!;
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

  private record(o: OpenProject, label: string, next: Project): void {
    o.undo.push({ label, before: o.project, after: next });
    if (o.undo.length > HISTORY_LIMIT) o.undo.shift();
    o.redo = [];
    o.project = next;
    this.markDirty(o);
  }

  undo(): ProjectState {
    const o = this.requireOpen();
    const entry = o.undo.pop();
    if (!entry) throw new UserError('nothing to undo');
    o.redo.push(entry);
    o.project = entry.before;
    o.mediaRevision++;
    this.markDirty(o);
    return this.changed();
  }

  redo(): ProjectState {
    const o = this.requireOpen();
    const entry = o.redo.pop();
    if (!entry) throw new UserError('nothing to redo');
    o.undo.push(entry);
    o.project = entry.after;
    o.mediaRevision++;
    this.markDirty(o);
    return this.changed();
  }

  /** Saves (to `file` for "Save as"); the autosave is removed once the project is safely on disk. */
  async save(file?: string): Promise<ProjectState> {
    await this.edits; // an edit sent just before "Save" (a field committed on blur) is part of what is saved
    const o = this.requireOpen();
    this.flushAutosaveTimer();
    if (file && projectPaths(file).file !== o.file) {
      const target = projectPaths(file).file;
      const lock = ProjectLock.acquire(target, 'Rerender editor');
      let moved: Project;
      try {
        moved = await saveProjectAs(o.file, target, o.project);
      } catch (err) {
        lock.release();
        throw err;
      }
      await discardAutosave(o.file);
      o.lock.release();
      o.lock = lock;
      o.file = target;
      o.project = moved;
      o.undo = [];
      o.redo = [];
    } else {
      await writeProjectFile(o.file, o.project);
      await discardAutosave(o.file);
    }
    o.dirty = false;
    return this.changed();
  }

  async restoreAutosave(): Promise<ProjectState> {
    const o = this.requireOpen();
    if (!o.recovered) throw new UserError('there is no autosave to restore', o.file);
    const recovered = o.recovered;
    o.recovered = undefined;
    this.record(o, 'Restore autosave', recovered);
    return this.changed();
  }

  async discardRecovery(): Promise<ProjectState> {
    const o = this.requireOpen();
    o.recovered = undefined;
    await discardAutosave(o.file);
    return this.changed();
  }

  private markDirty(o: OpenProject): void {
    o.dirty = true;
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = setTimeout(() => void this.autosaveNow(), this.autosaveDelayMs);
    this.autosaveTimer.unref?.();
  }

  /** Writes the autosave now if there are unsaved changes (also called on a timer after each edit). */
  async autosaveNow(): Promise<void> {
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = undefined;
    const o = this.open;
    if (!o?.dirty) return;
    try {
      await writeAutosave(o.file, o.project);
    } catch (err) {
      // Autosave failing must not interrupt editing; a save will report the same problem with its fix.
      process.stderr.write(`autosave failed: ${(err as Error).message}\n`);
    }
  }

  private flushAutosaveTimer(): void {
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = undefined;
  }

  dispose(): void {
    this.closeProject();
    this.listeners.clear();
  }
}
