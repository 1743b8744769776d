// Long operations the editor starts in the worker processes: create (decode), render a keyframe,
// propagate, export, suggest keyframes, import a model. Each is a job in the job list; results that
// change the project come back as undoable changes of the session.
import path from 'node:path';
import type { CallParams, JobState } from '../../../preload/api';
import { actionDeclaration } from '../../../preload/action-table';
import type { WorkerHost } from '../jobs/worker-host';
import type { JobParams, WorkerJobs } from '../jobs/job-registry';
import type { ProviderChoice } from '../../../native-models/src/runtime/provider-names';
import type { EditorSession } from './session';
import type { Snapshot } from '../project/project-store';
import { jobTarget, type JobKind, type JobList, type JobRun } from './job-list';
import type { JobProgress } from '../jobs/protocol';
import { findKeyframe } from '../project/keyframes';
import { applyKeyframeResults, selectedCheckpoint } from '../render/keyframe-commit';
import { partialOf, type RenderSummary } from '../render/render-project';
import { uniformKeyframes } from '../project/keyframe-suggest';
import { downloadModel, importModel, projectModelPath } from '../../../native-models/src/model-manager';
import { UserError } from '../../../native-models/src/errors';
import { runnableSegments } from '../propagation/propagate-project';
import { count } from '../../../preload/plural';
import { ensureFrameCache, inEditorWords } from '../project/source-video';
import { checkExportDestination } from '../media/export';
import { refuseProjectFiles, suggestExportDestination } from '../project/export-project';
import { CACHE_LIMIT_GB, formatBytes, limitBytesOf } from '../project/cache-collector';

/** While propagating, the editor is shown the frames written so far at most this often. */
const PROPAGATION_REFRESH_MS = 1000;

/** What a render job is given besides the document, the models folder and the provider. */
type RenderJobParams = Omit<Partial<JobParams<'renderKeyframe'>> & JobParams<'renderKeyframes'>, 'projectFile' | 'project'>;

export interface EditorWorkers { propagation: WorkerHost<WorkerJobs<'propagation'>>; inference: WorkerHost<WorkerJobs<'inference'>> }

/** The render farm of the app settings: its URL (with the password, for the submitting worker only) and as shown. */
export interface FarmSetting { url: string; safeUrl: string }

/** Where Propagate and Render all run: on the farm (the default when one is set) or on this machine. */
export type RunOn = 'farm' | 'local';

/** An engine line as the jobs panel's note starts it. */
const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** A failure as the jobs panel shows it: the message, the file involved, and what to do about it. */
export function describeFailure(err: unknown, kind: JobKind): NonNullable<JobState['error']> {
  const e = err as Error & { file?: string; detail?: string };
  // The file has its own line in the jobs panel: the message does not start with it as well.
  const bare = e?.name === 'UserError' && e.file && e.message.startsWith(`${e.file}: `) ? e.message.slice(e.file.length + 2) : e?.message;
  const text = e?.name === 'UserError' ? inEditorWords(bare!) : e?.message ?? String(err);
  // A tool's raw words (ffmpeg's) go to the log and the job's details, never into its message.
  if (e?.name === 'UserError' && e.detail) process.stderr.write(`rerender: ${kind} job: ${text}${e.file ? ` (${e.file})` : ''} (details: ${e.detail})\n`);
  const detail = e?.name === 'UserError' && e.detail ? { detail: e.detail } : {};
  if (e?.name === 'UserError') {
    if (/not rendered yet/.test(text)) {
      // The engine's words end with the command line's flag; the editor has a checkbox instead.
      const message = text.replace(/; propagate first, or export with --allow-incomplete.*$/s, '');
      return { message, file: e.file, fix: 'Propagate first, or tick "Use source frames where nothing is rendered yet" in the export dialog.' };
    }
    if (/no checkpoint is selected: pass --model/.test(text)) {
      // The engine's words name the command line's flag and start with the project's path (the open project).
      return { message: 'No checkpoint is selected: choose one in the model manager', fix: 'Open Models…, import a checkpoint and choose "Use as checkpoint".' };
    }
    if (/^no CLIP tokenizer found: /.test(text)) {
      // The engine's words go on to name the command line's commands and flags; the editor has the model manager.
      return { message: text.split('. ')[0], file: e.file, fix: 'Open Models… and import a tokenizer folder (vocab.json and merges.txt, e.g. the tokenizer/ folder of any SD1.5 diffusers model).' };
    }
    if (/has not been rendered with its caches|is out of date: its settings changed/.test(text)) {
      // The engine's words name the command line's flags; in the editor it is a button.
      const message = text.replace(/; render it (again )?first \(--frame \d+, or --all\)$/, '');
      return { message, file: e.file, fix: `Its image was picked from the history or imported, so later keyframes have nothing to follow: render that keyframe again, or use Re-render all (${actionDeclaration('render.rerenderAll')?.shortcut}).` };
    }
    const fix = /disk is full/.test(text) ? 'Free some disk space, then run it again.'
      : /outside the video/.test(text) ? 'Choose a range inside the video.'
      : /no checkpoint is selected|checkpoint does not exist/.test(text) ? 'Open Models…, import a checkpoint and choose "Use as checkpoint".'
      : /no finished image yet/.test(text) ? 'Render or import every keyframe first (green markers are ready).'
      : undefined;
    return { message: text, file: e.file, fix, ...detail };
  }
  return { message: `internal error: ${text.split('\n')[0]}`, fix: 'This is a bug in Rerender; the log has the details. Try again, or restart the app.' };
}

export class EditorJobs {
  /** Per keyframe: the latest render of it, settled once the session holds its result. */
  private readonly rendering = new Map<string, Promise<void>>();
  /** Per keyframe: the render request waiting for the running one (at most one). */
  private readonly waiting = new Map<string, { jobId: string; job: JobState; newSeed: boolean }>();

  constructor(
    private readonly session: EditorSession,
    private readonly workers: EditorWorkers,
    readonly list: JobList,
    /** The models folder the user chose (app settings). */
    private readonly modelsDir: () => string,
    /** The execution provider the user chose in the model manager ('auto' tries each in order). */
    private readonly provider: () => ProviderChoice = () => 'auto',
    /** The cache limit the user chose (app settings, GB): old entries are collected beyond it after each propagation. */
    private readonly cacheLimitGb: () => number = () => CACHE_LIMIT_GB.default,
    /** The render farm of the app settings, or null: jobs run on this machine. */
    private readonly farm: () => FarmSetting | null = () => null,
  ) {}

  /** The farm a job goes to: the one set unless the user chose this machine. */
  private farmFor(on: RunOn | undefined): FarmSetting | undefined {
    if (on === 'local') return undefined;
    const farm = this.farm();
    if (!farm && on === 'farm') throw new UserError('no render farm is set: enter its URL under Models… → Render farm, or run on this machine');
    return farm ?? undefined;
  }

  /** Decodes a video into a new project, then opens it (and tells `onOpened`, for the recent list). */
  createProject(p: CallParams<'project.create'>, onOpened?: (file: string) => void): JobState {
    const projectFile = path.resolve(p.projectFile);
    const { job, done } = this.list.start('create', `Import ${path.basename(p.video)}`, (run) =>
      this.workers.propagation.call('createProject', { projectFile, video: path.resolve(p.video), size: p.shortSide, allowTruncated: p.allowTruncated, fps: p.fps, allowGaps: p.allowGaps }, run),
    { project: projectFile, target: [jobTarget('create', projectFile)] });
    void done.then(async (r) => {
      if (!r) return;
      await this.session.openProject(projectFile);
      this.list.forgetOtherProjects(projectFile); // the previous project's finished jobs leave the panel
      onOpened?.(projectFile);
    }).catch(() => undefined); // the file was just written; if it cannot be opened now, Open reports why
    return job;
  }

  /**
   * Renders (or regenerates, with a new seed) one keyframe; other keyframes' files are left alone.
   * Asked again while that keyframe renders, the request waits for the running render (its image and
   * caches are the starting point); asked more often, the waiting request is updated instead of queued
   * again: at most one running and one waiting render per keyframe, however often the user clicks.
   */
  renderKeyframe(id: string, newSeed: boolean): JobState {
    const k = findKeyframe(this.session.project(), id);
    if (k.source !== 'diffusion') throw new UserError(`the keyframe at frame ${k.frame} is ${k.source}: its image is used as it is (import another image to change it)`);
    const waiting = this.waiting.get(id);
    if (waiting) {
      waiting.newSeed = newSeed; // the latest request decides
      return this.list.get(waiting.jobId) ?? waiting.job;
    }
    const request = { newSeed };
    const params = () => ({
      frame: findKeyframe(this.session.project(), id).frame, // it may have moved while waiting
      overrides: request.newSeed ? { seed: Math.floor(Math.random() * 2 ** 32) } : undefined,
    });
    const before = this.rendering.get(id);
    const job = this.render('renderKeyframe', params, [id], `Render keyframe at frame ${k.frame}`, before && {
      previous: before,
      // From its start on, new requests wait for this one instead of updating it.
      onStart: () => { if (this.waiting.get(id)?.jobId === job.id) this.waiting.delete(id); },
    });
    if (before) this.waiting.set(id, Object.assign(request, { jobId: job.id, job }));
    return job;
  }

  /**
   * "Render with diffusion instead" for an imported or painted keyframe: refused before the keyframe is
   * touched when no render can start (no checkpoint, or it is missing), so its image and the segments
   * propagated from it stay; otherwise the keyframe becomes a diffusion one (its image kept in its
   * history, one undo step) and renders.
   */
  async renderWithDiffusion(id: string, newSeed: boolean): Promise<JobState> {
    const project = this.session.project();
    const k = findKeyframe(project, id);
    if (k.source !== 'diffusion') {
      try {
        selectedCheckpoint(this.session.file!, project, (stored) => projectModelPath(this.modelsDir(), stored));
      } catch (err) {
        const why = describeFailure(err, 'render');
        throw new UserError(`cannot render the keyframe at frame ${k.frame} with diffusion: ${why.message.replace(/^No/, 'no')}; its ${k.source} image stays${why.fix ? `. ${why.fix}` : ''}`, why.file);
      }
      await this.session.edit({ action: 'useDiffusion', id });
    }
    return this.renderKeyframe(id, newSeed);
  }

  /**
   * Renders diffusion keyframes in timeline order (the anchor first, then each constrained by it):
   * those not done yet (empty, stale as the editor shows them, failed), or with `only: 'all'` every one.
   */
  renderAllKeyframes(only: 'pending' | 'all' = 'pending', on?: RunOn): JobState {
    if (this.list.running('render').length) throw new UserError('keyframes are already rendering; wait for them or cancel');
    const diffusion = (this.session.state()?.project ?? this.session.project()).keyframes.filter((k) => k.source === 'diffusion');
    if (diffusion.length === 0) throw new UserError('there are no keyframes to render (imported and painted keyframes are used as they are)');
    const chosen = only === 'all' ? diffusion : diffusion.filter((k) => k.status !== 'done');
    if (chosen.length === 0) throw new UserError('every keyframe is rendered and up to date; use Re-render all to render them again');
    const ids = chosen.map((k) => k.id);
    const params = only === 'all' ? () => ({}) : () => ({ ids });
    const farm = this.farmFor(on);
    const title = `${only === 'all' ? `Re-render all ${ids.length} keyframes` : `Render ${ids.length} keyframe${ids.length === 1 ? '' : 's'} not done yet`}${farm ? ' on the farm' : ''}`;
    return this.render('renderKeyframes', params, ids, title, undefined, farm);
  }

  /**
   * Runs a render job in the inference worker on a snapshot of the document. The worker writes images and
   * records under the cache and returns the results; they are committed to the document here, before the
   * job is reported done, as one undoable change (a keyframe edited meanwhile keeps its edit: the result
   * goes into its history with a note). A cancelled or failed run commits what finished before it.
   */
  private render(method: 'renderKeyframe' | 'renderKeyframes', params: () => RenderJobParams, ids: string[], title: string, after?: { previous: Promise<void>; onStart: () => void }, farm?: FarmSetting): JobState {
    const overlay = this.session.overlay.renderingKeyframes;
    ids.forEach((i) => overlay.add(i));
    this.session.changed();
    const file = this.session.file!;
    let withdrawn = false;
    let base: Snapshot = this.session.snapshot();
    const commit = (summary: RenderSummary) => {
      if (this.session.file !== file) return; // another project was opened meanwhile
      ids.filter((i) => this.rendering.get(i) === settled).forEach((i) => overlay.delete(i)); // unless a render of it waits
      forgetIfLatest(); // before the change is shown, so a request made on seeing it starts at once
      // Checked against the snapshot the job started from: a keyframe edited meanwhile keeps the edit.
      const committed = this.session.commit(file, title, base, (current, from) => applyKeyframeResults(file, current, summary.results, summary.failures, from));
      if (committed) summary.notes = committed.notes;
    };
    const { job, done } = this.list.start('render', title, async (run) => {
      if (after) {
        // A waiting render is queued until the one before it settles, and ends at once when cancelled.
        await Promise.race([after.previous, new Promise<void>((resolve) => run.cancel.onCancel(resolve))]);
        after.onStart();
        if (run.cancel.cancelled) {
          // Withdrawn before it started: the render before it is the keyframe's latest again.
          withdrawn = true;
          ids.forEach((i) => { if (this.rendering.get(i) === settled) this.rendering.set(i, after.previous); });
        }
        run.begin(); // throws when withdrawn
      }
      // The document as it is now (a waiting render starts from the result of the one before it).
      base = this.session.snapshot();
      const project = base.project;
      let summary: RenderSummary & { farm?: { warnings?: string[] } };
      try {
        const request = { ...params(), projectFile: file, project, modelsDir: this.modelsDir(), provider: this.provider() };
        // One keyframe by frame, or several by id (the parameters say which: the worker checks them). On
        // the farm the propagation worker submits and follows the renders; the results come back the same way.
        summary = farm ? await this.workers.propagation.call('renderOnFarm', { ...request, farmUrl: farm.url }, { ...run, onWorkers: (parts) => run.setFarm(farm.safeUrl, parts) })
          : method === 'renderKeyframe' ? await this.workers.inference.call(method, request as JobParams<'renderKeyframe'>, run) : await this.workers.inference.call(method, request, run);
      } catch (err) {
        const partial = partialOf(err);
        if (partial) commit(partial);
        throw err;
      }
      commit(summary);
      // On the farm, what can lose its jobs (a Redis without an append-only file) is said with it.
      const farmWarnings = (summary.farm?.warnings ?? []).map((w) => ` Warning: ${w}`).join('');
      if (summary.provider) run.setNote(`${farm ? `On the farm at ${farm.safeUrl}.${farmWarnings} ` : ''}${providerNote(summary)}`);
      return summary;
    }, { ...(ids.length === 1 ? { keyframeId: ids[0] } : {}), queued: after && 'waiting for the render of this keyframe in progress', project: file, target: ids.map((i) => jobTarget(`${file} keyframe`, i)) });
    // Settled once the session holds the result: a render waiting for this one starts from it.
    const forgetIfLatest = () => ids.forEach((i) => { if (this.rendering.get(i) === settled) this.rendering.delete(i); });
    const settled: Promise<void> = done.then(async () => {
      if (withdrawn) {
        // It never ran, so there is nothing to take over; if the render before it ended at that very moment,
        // its keyframes were left marked as rendering for this one, so clear them here.
        await after!.previous;
        const left = ids.filter((i) => this.rendering.get(i) === after!.previous);
        left.forEach((i) => { this.rendering.delete(i); overlay.delete(i); });
        if (left.length && this.session.file === file) this.session.changed();
        return;
      }
      if (this.session.file !== file) return;
      // A run that ended without a result (a worker crash): the keyframes are no longer rendering.
      const left = ids.filter((i) => this.rendering.get(i) === settled && overlay.has(i));
      left.forEach((i) => overlay.delete(i));
      forgetIfLatest();
      if (left.length) this.session.changed();
    }).catch(() => undefined).finally(forgetIfLatest);
    ids.forEach((i) => this.rendering.set(i, settled));
    return job;
  }

  propagate(segmentId?: string, on?: RunOn): JobState {
    if (this.list.running('propagate').length) throw new UserError('propagation is already running; wait for it or cancel it');
    const farm = this.farmFor(on);
    const overlay = this.session.overlay;
    overlay.propagating = segmentId ? new Set([segmentId]) : 'all';
    this.session.changed();
    // The job works on the document as shown (a snapshot): nothing is saved for it, and its frames go
    // under the output keys of that snapshot's segments. Frames appear while it runs: the segments'
    // progress and the output frames are refreshed now and then.
    const projectFile = this.session.file!;
    const project = this.session.project();
    let shown = Date.now();
    const showProgress = () => {
      if (Date.now() - shown < PROPAGATION_REFRESH_MS || this.session.file !== projectFile) return;
      shown = Date.now();
      this.session.mediaChanged();
    };
    const title = `${segmentId ? `Propagate frames ${segmentId}` : 'Propagate all keyframes'}${farm ? ' on the farm' : ''}`;
    const onProgress = (p: JobProgress) => { run.onProgress(p); showProgress(); };
    let run!: JobRun;
    let runNote = '';
    // On the farm the propagation worker submits the segments (the snapshot goes with them, see
    // farm/snapshot.ts) and follows them; the frames land in the project cache as a local run's.
    const { job, done } = this.list.start('propagate', title, async (r) => {
      run = r;
      try {
        if (!farm) {
          const result = await this.workers.propagation.call('propagate', { projectFile, project, segmentId }, { cancel: run.cancel, onProgress });
          runNote = result.skipped ? sentence(result.skipped.note) : '';
          if (runNote) run.setNote(runNote);
          return result;
        }
        const result = await this.workers.propagation.call('propagateOnFarm', { projectFile, project, segmentId, farmUrl: farm.url }, { cancel: run.cancel, onProgress, onWorkers: (parts) => run.setFarm(farm.safeUrl, parts) });
        runNote = `On the farm at ${farm.safeUrl}: ${result.workers.length ? `workers ${result.workers.join(', ')}` : 'every segment was done already'}${result.segmentsShared ? `; ${result.segmentsShared} of ${count(result.segments, 'segment')} shared or done before` : ''}${(result.warnings ?? []).map((w) => `. Warning: ${w}`).join('')}${result.skipped ? `. ${sentence(result.skipped.note)}` : ''}`;
        run.setNote(runNote);
        return result;
      } finally {
        // Once the run is over (done, cancelled or failed: what it wrote stays under its keys), before the job
        // says so; what the collection removed is added to the farm's note, not put in its place.
        await this.collectCache(projectFile, (note) => run.setNote(runNote ? `${runNote}. ${note}` : note));
      }
    }, { project: projectFile, target: [jobTarget(`${projectFile} segment`, segmentId ?? '*')] });
    // Only segments the run would start can fail with it: those skipped (a keyframe without a finished image),
    // or all when none could start, keep the status they have.
    const runnable = (() => { try { return new Set(runnableSegments(project, segmentId).segments.map((s) => s.id)); } catch { return new Set<string>(); } })();
    void done.then(() => {
      if (this.session.file !== projectFile) return;
      const covered = overlay.propagating;
      overlay.propagating = undefined;
      const ids = covered === 'all' || !covered ? (this.session.state()?.segments.map((s) => s.id) ?? []) : [...covered];
      // A cancelled run is not a failure: its segments show what they hold (partial, not rendered).
      const failed = this.list.get(job.id)?.status === 'failed';
      for (const sid of ids) if (failed && runnable.has(sid)) overlay.failedSegments.add(sid); else overlay.failedSegments.delete(sid);
      this.session.mediaChanged();
    });
    return job;
  }

  /**
   * Collects the project's old cache entries over the user's limit, keeping what the document and its
   * undo history use; never while an export or a measurement reads outputs. A failure to collect is a
   * note on the job, not its failure.
   */
  private async collectCache(projectFile: string, note: (text: string) => void): Promise<void> {
    if (this.session.file !== projectFile || this.list.running('export').length || this.list.running('measure').length) return;
    try {
      const report = await this.session.collectCache(limitBytesOf(this.cacheLimitGb()));
      if (report?.removed.length) note(`Cache over its limit of ${formatBytes(report.limitBytes)}: removed ${report.removed.length} old entr${report.removed.length === 1 ? 'y' : 'ies'} (${formatBytes(report.totalBytes - report.bytesAfter)})`);
    } catch (err) {
      note(`Old cache entries could not be collected: ${(err as Error).message}`);
    }
  }

  /** Decodes the frames again when the cache is missing; runs beside the editor (ffmpeg does the work). */
  rebuildFrames(): JobState {
    const file = this.session.file!;
    const project = this.session.project();
    const { job, done } = this.list.start('decode', `Decode frames of ${project.name}`, (run) =>
      ensureFrameCache(file, project, { thumbnails: true, cancel: run.cancel, onProgress: (fraction, message) => run.onProgress({ fraction, message }) }),
    { project: file, target: [jobTarget('decode', file)] });
    void done.then((n) => { if (n !== undefined && this.session.file === file) this.session.framesRebuilt(); });
    return job;
  }

  /** Warp error per frame of the propagated output (job `measureFlicker`, see metrics/flicker-measure.ts). */
  measureFlicker(): JobState {
    const projectFile = this.session.file;
    if (!projectFile) throw new UserError('no project is open; open or create one first');
    const project = this.session.project();
    const { job, done } = this.list.start('measure', 'Measure flicker', (run) => this.workers.propagation.call('measureFlicker', { projectFile, project }, run), { project: projectFile, target: [jobTarget('measure', projectFile)] });
    void done.then((r) => { if (r && this.session.file === projectFile) this.session.mediaChanged(); });
    return job;
  }

  exportVideo(p: CallParams<'export.start'>): JobState {
    const out = path.resolve(p.out);
    const projectFile = this.session.file!;
    const project = this.session.project();
    // The project's own files (its source video above all) are refused before an existing file is
    // reported, so the editor never asks whether to replace the source.
    refuseProjectFiles(projectFile, project, out);
    checkExportDestination(out, p.format, p.overwrite); // an existing export: the call fails at once, so the editor can ask
    const { job } = this.list.start('export', `Export ${path.basename(out)}`, async (run) => {
      return this.workers.propagation.call('exportProject', { projectFile, project, out, format: p.format, range: p.range, sideBySide: p.sideBySide, allowIncomplete: p.allowIncomplete, overwrite: p.overwrite, startNumber: p.startNumber, size: p.size }, run);
    }, { output: out, project: projectFile, target: [jobTarget('export', out)] });
    return job;
  }

  /** The export dialog's proposed destination (see suggestExportDestination). */
  suggestExport(format: CallParams<'export.suggest'>['format']): string {
    const projectFile = this.session.file;
    if (!projectFile) throw new UserError('no project is open; open or create one first');
    return suggestExportDestination(projectFile, this.session.project(), format);
  }

  /** Keyframe frames to preview before applying: uniform at once, content-adaptive as a job. */
  async suggest(p: CallParams<'keyframes.suggest'>): Promise<{ frames: number[] }> {
    const project = this.session.project();
    if (p.method === 'uniform') return { frames: uniformKeyframes(project.frames.count, p.every) };
    if (p.max < p.min) throw new UserError(`the largest gap (${p.max}) must not be below the smallest (${p.min})`);
    const projectFile = this.session.file!;
    const { done } = this.list.start('suggest', 'Suggest keyframes from content', (run) =>
      this.workers.propagation.call('suggestKeyframes', { projectFile, project, min: p.min, max: p.max }, run), { project: projectFile });
    const result = await done;
    if (!result) throw new UserError('suggesting keyframes failed; the jobs panel has the reason');
    return { frames: result.frames };
  }

  importModel(modelsDir: string, source: string): JobState {
    const { job } = this.list.start('import-model', `Import model ${path.basename(source)}`, (run) =>
      importModel(modelsDir, path.resolve(source), { cancel: run.cancel, onProgress: (fraction, message) => run.onProgress({ fraction, message }) }),
    { target: [jobTarget(`${modelsDir} import`, path.resolve(source))] });
    return job;
  }

  /** Downloads only when the user asks, with a resumable transfer and an optional checksum. */
  downloadModel(modelsDir: string, url: string, sha256?: string): JobState {
    const { job } = this.list.start('download-model', `Download ${url.split('/').pop() || url}`, (run) =>
      downloadModel(modelsDir, url, { sha256, cancel: run.cancel, onProgress: (fraction, message) => run.onProgress({ fraction, message }) }),
    { target: [jobTarget(`${modelsDir} download`, url)] });
    return job;
  }
}

/** "Ran on cpu; not used: webgpu (no usable GPU adapter …)", for the jobs panel. */
export function providerNote(summary: Pick<RenderSummary, 'provider' | 'skippedProviders'>): string {
  const skipped = (summary.skippedProviders ?? []).filter((s) => !/not included in this build/.test(s.reason));
  return `Ran on ${summary.provider}${skipped.length ? `; not used: ${skipped.map((s) => `${s.provider} (${s.reason})`).join(', ')}` : ''}`;
}
