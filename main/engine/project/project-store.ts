// The one writer of a project file (issue 15): open (lock, read, validate), apply(label, change) with
// undo/redo, commit(results) of a job checked against the revision it started from, save, save as and
// autosave. The editor's session and every command that changes a project go through a store; jobs
// never touch the file, they get a snapshot and return results. A layering test keeps it the only writer.
import type { Project } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { readProjectFile, writeProjectFile, readAutosave, writeAutosave, discardAutosave } from './project-file';
import { ProjectLock } from './project-lock';
import { projectPaths } from './paths';
import { copyProjectTo } from './save-as';
import { settleInterruptedRenders } from './keyframes';

/** The document as a job started from it: results come back with it, so the store can tell what moved. */
export interface Snapshot {
  readonly revision: number;
  readonly project: Project;
}

interface HistoryEntry { label: string; before: Project; after: Project }

export interface StoreOptions {
  /** Named in the lock file, so another process can say who has the project open. */
  app?: string;
  /** Autosave this long after the last change (0: no autosave timer; `autosaveNow` still writes). */
  autosaveDelayMs?: number;
  /** A failed autosave must not interrupt editing; a save reports the same problem with its fix. */
  onAutosaveError?: (err: Error) => void;
}

const HISTORY_LIMIT = 200;

/** Files with a store open in this process: the lock file is re-entrant within a process, the store is not. */
const openHere = new Map<string, string>();

export class ProjectStore {
  private current: Project;
  /** Counts every change of the document (edit, commit, undo, redo): a job's results name the one they started from. */
  private rev = 0;
  private unsaved = false;
  private undoList: HistoryEntry[] = [];
  private redoList: HistoryEntry[] = [];
  private autosaveTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private path: string, private lock: ProjectLock, project: Project, private readonly opts: StoreOptions) {
    this.current = project;
  }

  /** Takes the project's lock and reads it (validated, migrated); a damaged or foreign file is refused before the lock is taken. */
  static async open(file: string, opts: StoreOptions = {}): Promise<ProjectStore> {
    const resolved = projectPaths(file).file;
    await readProjectFile(resolved);
    const holder = openHere.get(resolved);
    if (holder !== undefined) throw new UserError(`the project is already open (${holder}); close it there first`, resolved);
    const lock = ProjectLock.acquire(resolved, opts.app);
    try {
      // Keyframes an older version left "rendering" in the file get a truthful status (not an edit).
      const store = new ProjectStore(resolved, lock, settleInterruptedRenders(await readProjectFile(resolved)), opts);
      openHere.set(resolved, opts.app ?? 'rerender');
      return store;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** Writes a new project file (after `rerender new` decoded its frames) under its lock. */
  static async create(file: string, project: Project): Promise<void> {
    const resolved = projectPaths(file).file;
    if (openHere.has(resolved)) throw new UserError('the project is already open; close it first', resolved);
    const lock = ProjectLock.acquire(resolved);
    try {
      await writeProjectFile(resolved, project);
    } finally {
      lock.release();
    }
  }

  /** Opens the project, runs `fn` on its store and closes it (the command line's one-shot changes). */
  static async with<T>(file: string, fn: (store: ProjectStore) => Promise<T>, opts: StoreOptions = {}): Promise<T> {
    const store = await ProjectStore.open(file, { autosaveDelayMs: 0, ...opts });
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  }

  get file(): string { return this.path; }
  get project(): Project { return this.current; }
  get revision(): number { return this.rev; }
  get dirty(): boolean { return this.unsaved; }
  get undoLabel(): string | null { return this.undoList.at(-1)?.label ?? null; }
  get redoLabel(): string | null { return this.redoList.at(-1)?.label ?? null; }

  /** What a job gets: the document now and its revision. */
  snapshot(): Snapshot {
    return { revision: this.rev, project: this.current };
  }

  /**
   * Every document undo or redo can return to (each step's before and after), not the current one: the
   * cache collector keeps their outputs (`keysToKeep`), so undo finds the output it returns to.
   */
  historyDocuments(): Project[] {
    const documents = new Set<Project>();
    for (const e of [...this.undoList, ...this.redoList]) documents.add(e.before).add(e.after);
    documents.delete(this.current);
    return [...documents];
  }

  /** The autosave left by an earlier session, when it is newer than the file. */
  readAutosave(): Promise<Project | undefined> {
    return readAutosave(this.path);
  }

  /** One undoable change; false when it changed nothing (no undo step is recorded then). */
  apply(label: string, change: (p: Project) => Project): boolean {
    this.requireOpen();
    const next = change(this.current);
    if (next === this.current || JSON.stringify(next) === JSON.stringify(this.current)) return false;
    this.undoList.push({ label, before: this.current, after: next });
    if (this.undoList.length > HISTORY_LIMIT) this.undoList.shift();
    this.redoList = [];
    this.become(next);
    return true;
  }

  /**
   * A change that takes time to prepare (an image copied into the assets first). It is prepared from the
   * document as it is at its start; if the document moved meanwhile (a job's results arrived), it is
   * prepared again from the new one, so nothing that arrived meanwhile is lost.
   */
  async applyAsync(change: (p: Project) => Promise<{ project: Project; label: string }>): Promise<boolean> {
    for (;;) {
      const base = this.rev;
      const next = await change(this.current);
      if (base === this.rev) return this.apply(next.label, () => next.project);
    }
  }

  /**
   * Commits a job's results as one undoable change. `merge` gets the document now and the snapshot the
   * job started from, and whether the document moved since: it must then check each result against what
   * it was made from (a result whose inputs the user changed meanwhile is kept aside with a note, or
   * marked stale, never written over the user's edit). Returns what `merge` returned, and whether the
   * document changed.
   */
  commit<T extends { project: Project }>(label: string, base: Snapshot, merge: (current: Project, base: Project, moved: boolean) => T): T & { changed: boolean } {
    this.requireOpen();
    const merged = merge(this.current, base.project, base.revision !== this.rev);
    const changed = this.apply(label, () => merged.project);
    return { ...merged, changed };
  }

  undo(): void {
    this.requireOpen();
    const entry = this.undoList.pop();
    if (!entry) throw new UserError('nothing to undo');
    this.redoList.push(entry);
    this.become(entry.before);
  }

  redo(): void {
    this.requireOpen();
    const entry = this.redoList.pop();
    if (!entry) throw new UserError('nothing to redo');
    this.undoList.push(entry);
    this.become(entry.after);
  }

  /** Saves to the project's file (keeping the last good one as .bak); the autosave goes once it is on disk. */
  async save(): Promise<void> {
    this.requireOpen();
    this.stopAutosaveTimer();
    const saving = this.current;
    await writeProjectFile(this.path, saving);
    await discardAutosave(this.path);
    if (this.current === saving) this.unsaved = false;
  }

  /**
   * Saves under a new name or folder: the assets and cache go along, the paths are rewritten, the new
   * file's lock is taken and the old one's released. The history starts again (its paths were the old file's).
   */
  async saveAs(file: string): Promise<void> {
    this.requireOpen();
    const target = projectPaths(file).file;
    if (target === this.path) return this.save();
    const holder = openHere.get(target);
    if (holder !== undefined) throw new UserError(`that project is open (${holder}); close it there first, or choose another name`, target);
    this.stopAutosaveTimer();
    const lock = ProjectLock.acquire(target, this.opts.app);
    let moved: Project;
    try {
      moved = await copyProjectTo(this.path, target, this.current);
      await writeProjectFile(target, moved);
    } catch (err) {
      lock.release();
      throw err;
    }
    await discardAutosave(this.path);
    this.lock.release();
    openHere.delete(this.path);
    openHere.set(target, this.opts.app ?? 'rerender');
    this.lock = lock;
    this.path = target;
    this.current = moved;
    this.rev++;
    this.undoList = [];
    this.redoList = [];
    this.unsaved = false;
  }

  /** Writes the autosave now if there are unsaved changes (also on a timer after each change). */
  async autosaveNow(): Promise<void> {
    this.stopAutosaveTimer();
    if (!this.unsaved || this.closed) return;
    try {
      await writeAutosave(this.path, this.current);
    } catch (err) {
      (this.opts.onAutosaveError ?? ((e) => process.stderr.write(`autosave failed: ${e.message}\n`)))(err as Error);
    }
  }

  /** Removes the autosave (the user restored or refused it, or chose "Don't save"); no timer writes it again. */
  discardAutosave(): Promise<void> {
    this.stopAutosaveTimer();
    return discardAutosave(this.path);
  }

  /** Releases the lock; unsaved changes stay in the autosave only if `autosaveNow` ran first. */
  close(): void {
    if (this.closed) return;
    this.stopAutosaveTimer();
    this.closed = true;
    this.lock.release();
    openHere.delete(this.path);
  }

  private become(next: Project): void {
    this.current = next;
    this.rev++;
    this.unsaved = true;
    this.stopAutosaveTimer();
    const delay = this.opts.autosaveDelayMs ?? 0;
    if (delay > 0) {
      this.autosaveTimer = setTimeout(() => void this.autosaveNow(), delay);
      this.autosaveTimer.unref?.();
    }
  }

  private stopAutosaveTimer(): void {
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = undefined;
  }

  private requireOpen(): void {
    if (this.closed) throw new UserError('the project was closed', this.path);
  }
}
