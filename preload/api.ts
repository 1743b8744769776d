// The one contract between the editor's UI and its engine: every call with runtime schemas for its
// params and result, the events with their payloads, and the media URL layout. Main, preload, the
// serve-mode bridge and the renderer all use this file; it imports nothing but zod and the project schema.
import { z } from 'zod';
import { project, renderOverrides, renderParams, propagationSettings, exportSettings, exportFormat, exportSizeChoice, modelSelection, frescoSettings } from './project-schema';

const frame = z.number().int().min(0).max(10_000_000);
const id = z.string().min(1).max(128);
const filePath = z.string().min(1).max(4096);
const none = z.object({}).strict();
/** Largest dropped image the browser may send (base64 characters: about 45 MB of file; the bridge takes 64 MB). */
export const UPLOAD_BASE64_LIMIT = 60_000_000;

/** Every undoable edit of a project: one entry per action of the editor session's action list. */
export const editRequest = z.discriminatedUnion('action', [
  z.object({ action: z.literal('addKeyframe'), frame }),
  z.object({ action: z.literal('removeKeyframes'), ids: z.array(id).min(1).max(100_000) }),
  z.object({ action: z.literal('moveKeyframes'), moves: z.array(z.object({ id, frame })).min(1).max(100_000) }),
  z.object({ action: z.literal('setKeyframes'), frames: z.array(frame).min(1).max(1_000_000) }),
  z.object({ action: z.literal('setKeyframeOverrides'), id, overrides: renderOverrides }),
  z.object({ action: z.literal('revertKeyframe'), id }),
  z.object({ action: z.literal('pickKeyframeHistory'), id, index: z.number().int().min(0).max(1000) }),
  /** Forgets an earlier render of a keyframe (its file stays until the project is cleaned, so undo brings it back). */
  z.object({ action: z.literal('removeKeyframeHistory'), id, index: z.number().int().min(0).max(1000) }),
  /** An imported or painted keyframe becomes a diffusion keyframe to render; its image goes into the history. */
  z.object({ action: z.literal('useDiffusion'), id }),
  /** `painted`: the image was made in a paint program (the external editor's saves), not imported. */
  z.object({ action: z.literal('importKeyframeImage'), frame, image: filePath, painted: z.boolean().optional() }),
  z.object({ action: z.literal('setRenderDefaults'), render: renderParams }),
  z.object({ action: z.literal('setPropagation'), propagation: propagationSettings }),
  z.object({ action: z.literal('setExportSettings'), export: exportSettings }),
  z.object({ action: z.literal('setModels'), models: modelSelection }),
  /** The keyframe method (Rerender, independent, FRESCO) and FRESCO's switches (merged over the current ones). */
  z.object({ action: z.literal('setMode'), mode: project.shape.mode, fresco: frescoSettings.partial().optional() }),
]);
export type EditRequest = z.infer<typeof editRequest>;
export type EditName = EditRequest['action'];

export const segmentState = z.object({
  id: z.string(),
  start: z.number().int(),
  end: z.number().int(),
  status: z.enum(['not-rendered', 'partial', 'stale', 'rendering', 'done', 'failed']),
  framesDone: z.number().int(),
  reason: z.string().optional(),
});
export type SegmentState = z.infer<typeof segmentState>;

/** Whether a feature can run as the project is set up, and if not why (shown to the user as it is). */
const availability = z.object({ available: z.boolean(), reason: z.string().optional() });

/**
 * What the UI shows of the open project; sent whole on every change (small next to any frame). Its
 * keyframes show work in progress ("rendering") and renders an edit made out of date ("stale", the reason
 * as note) on top of the project file's statuses.
 */
export const projectState = z.object({
  file: z.string(),
  project,
  dirty: z.boolean(),
  /** Labels of the edits undo and redo would apply ("Move keyframe"), null when there is none. */
  undo: z.string().nullable(),
  redo: z.string().nullable(),
  segments: z.array(segmentState),
  /** An autosave newer than the saved file was found on open: offer to restore it. */
  recoveryAvailable: z.boolean(),
  /** Bumped whenever files behind media URLs change (renders, imports, propagation): cache buster. */
  mediaRevision: z.number().int(),
  /** Frames in the decoded frame cache (a project may be opened before decoding finished). */
  framesReady: z.boolean(),
  /** FRESCO projects: whether background smoothing can run with the chosen saliency model, and if not why. */
  backgroundSmoothing: availability.optional(),
  /** Whether the soft-edge and depth ControlNets have their detector (the project's choice, on disk), and if not why. */
  controlnetDetector: availability,
  /** The source video is missing or was replaced since the project was made (what changed); relink to fix. */
  sourceProblem: z.string().optional(),
});

/** The words export.start's error starts with when an earlier export exists and `overwrite` was not given. */
export const EXPORT_EXISTS = /already exists|an earlier frames export is in this folder/;
/** The engine's words when a video is opened as a project (project-file.ts); the editor then offers a new project from it. */
export const VIDEO_NOT_PROJECT = 'is a video, not a Rerender project';
export type ProjectState = z.infer<typeof projectState>;
/** The project types the renderer uses, re-exported so it never reaches into the engine. */
export type Project = ProjectState['project'];
export type Keyframe = Project['keyframes'][number];
export type RenderParams = Project['render'];
export type RenderOverrides = Keyframe['overrides'];

/**
 * One farm worker's part in a job that runs on the render farm: who it is, what it runs now for this job,
 * what it finished (frames for propagation, keyframes for renders) and how many of its attempts ended
 * without a result (failed, killed, stalled or handed back: another worker then takes the job).
 */
export const farmWorkerPart = z.object({
  worker: z.string().max(300),
  host: z.string().max(256).optional(),
  /** Whether its heartbeat is there now (a killed worker's stops). */
  alive: z.boolean(),
  running: z.array(z.object({ what: z.string().max(200), fraction: z.number().min(0).max(1) })).max(1000),
  done: z.number().int().min(0),
  failures: z.number().int().min(0),
});
export type FarmWorkerPart = z.infer<typeof farmWorkerPart>;

export const jobKind = z.enum(['create', 'decode', 'export', 'suggest', 'render', 'propagate', 'measure', 'import-model', 'download-model']);
export const jobState = z.object({
  id: z.string(),
  kind: jobKind,
  title: z.string(),
  /** `queued` waits for other work (e.g. a render of the same keyframe) before it runs; it has no progress yet. */
  status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  fraction: z.number().min(0).max(1),
  message: z.string().optional(),
  etaSeconds: z.number().optional(),
  /** A failure in the user's words: what failed, the file involved, and what to do. */
  error: z.object({ message: z.string(), file: z.string().optional(), fix: z.string().optional(), detail: z.string().optional() }).optional(),
  keyframeId: z.string().optional(),
  /** The project file the job works on (none for model imports and downloads): the panel lists the open project's. */
  project: z.string().optional(),
  /** Where the job wrote its result (export destination), for "open folder". */
  output: z.string().optional(),
  /** What a finished job reports besides its result, e.g. the execution provider a render ran on. */
  note: z.string().optional(),
  /** A job that runs on the render farm: the farm (its URL, password hidden) and each worker's part. */
  farm: z.object({ url: z.string().max(4096), workers: z.array(farmWorkerPart).max(1000) }).optional(),
  /** A failed job whose work (the same keyframes, segment, export destination or imported file) a later job of its kind has since done: its error no longer applies. */
  supersededBy: z.string().optional(),
  startedAt: z.number(),
  endedAt: z.number().optional(),
});
export type JobState = z.infer<typeof jobState>;
/**
 * The jobs the panel lists, newest first with running and queued ones pinned on top (a burst of finished
 * jobs never pushes a running one out of view): those of the open project (`projectFile`, null on the
 * start screen) and those of none (model imports and downloads); a new project's decoding also while it
 * runs, and on the start screen.
 */
export function jobsShown(jobs: readonly JobState[], projectFile: string | null): JobState[] {
  return jobs
    .filter((j) => !j.project || j.project === projectFile || (j.kind === 'create' && (!jobEnded(j) || projectFile === null)))
    .sort((a, b) => Number(jobEnded(a)) - Number(jobEnded(b)) || b.startedAt - a.startedAt);
}
/** Whether a job has ended (done, failed or cancelled), as opposed to queued or running. */
export function jobEnded(job: Pick<JobState, 'status'>): boolean {
  return job.status !== 'queued' && job.status !== 'running';
}

export const modelsState = z.object({
  folder: z.string(),
  available: z.boolean(),
  /** Why the list is empty or unavailable, in the user's words. */
  note: z.string().optional(),
  models: z.array(z.object({ name: z.string(), kind: z.string(), path: z.string(), bytes: z.number(), summary: z.string(), problem: z.string().optional() })),
  /** `unavailable`: why a provider of this build cannot start on this machine (none: it starts, or it is not in the build). */
  providers: z.array(z.object({ name: z.string(), inThisBuild: z.boolean(), unavailable: z.string().optional() })),
  provider: z.string(),
});
export type ModelsState = z.infer<typeof modelsState>;

/** The limit of a project's cache (app setting `cacheLimitGb`): old entries are collected beyond it (GB). */
export const CACHE_LIMIT_GB = { min: 1, max: 10_000, default: 20 } as const;
export const cacheLimitGb = z.number().finite().min(CACHE_LIMIT_GB.min).max(CACHE_LIMIT_GB.max);
export const cacheState = z.object({ limitGb: cacheLimitGb, min: z.number(), max: z.number() });
export type CacheState = z.infer<typeof cacheState>;

/** The render farm the editor submits to (app settings): the URL with its password hidden, never in full. */
export const farmState = z.object({
  /** redis://host:port or rediss://… with the password shown as ***, or null when jobs run on this machine. */
  url: z.string().nullable(),
  /** Whether the farm answered when the URL was set or the state asked for (checked once, briefly). */
  reachable: z.boolean().optional(),
  /** Why it did not answer, in the user's words. */
  problem: z.string().optional(),
  /** It answers but can lose jobs (no append-only file): what to change there. */
  warning: z.string().optional(),
});
export type FarmState = z.infer<typeof farmState>;
/** Where Propagate and Render all run: the render farm (the default when one is set) or this machine. */
export const runOn = z.enum(['farm', 'local']);

export const pickPurpose = z.enum(['open-project', 'save-project', 'video', 'image', 'export', 'models-folder', 'model-file', 'program']);
export type PickPurpose = z.infer<typeof pickPurpose>;

/**
 * What each file chooser shows (Electron's native dialogs and serve mode's file browser alike): named
 * filters by extension, the first one the default; a purpose without files chooses a folder. Programs
 * (the paint program) are executable files, whatever their name: the filter has no extensions.
 */
export const PICK_FILTERS: Record<PickPurpose, Array<{ name: string; extensions: string[] }>> = {
  'open-project': [{ name: 'Rerender project', extensions: ['rerender'] }],
  'save-project': [{ name: 'Rerender project', extensions: ['rerender'] }],
  video: [{ name: 'Video', extensions: ['mp4', 'mov', 'm4v', 'mkv', 'webm', 'avi', 'gif'] }],
  image: [{ name: 'Image', extensions: ['png', 'jpg', 'jpeg', 'webp', 'tif', 'tiff', 'gif', 'avif', 'heic'] }],
  export: [{ name: 'MP4', extensions: ['mp4'] }, { name: 'WebM', extensions: ['webm'] }, { name: 'GIF', extensions: ['gif'] }, { name: 'ProRes (MOV)', extensions: ['mov'] }],
  'models-folder': [],
  'model-file': [{ name: 'Model', extensions: ['safetensors', 'onnx'] }],
  program: [{ name: 'Programs (executable files)', extensions: [] }],
};
/** Purposes that name a new file (a name field) rather than choose an existing one. */
export const SAVE_PURPOSES: readonly PickPurpose[] = ['save-project', 'export'];

export const folderListing = z.object({
  /** The folder listed (real path, inside the allowed places). */
  dir: z.string(),
  /** Its parent, when that is allowed too. */
  parent: z.string().nullable(),
  entries: z.array(z.object({ name: z.string(), path: z.string(), kind: z.enum(['folder', 'file']), bytes: z.number().optional(), modified: z.number().optional() })),
  /** More entries matched than are listed. */
  truncated: z.boolean(),
  /** Places to jump to: home, the project's folder, the models folder, recent projects' folders. */
  places: z.array(z.object({ label: z.string(), path: z.string() })),
});
export type FolderListing = z.infer<typeof folderListing>;

const jobStarted = z.object({ jobId: z.string() });

/** Every call: name → params and result schemas. The IPC channel of a call is `rerender:<name>`. */
export const calls = {
  'app.info': {
    params: none,
    result: z.object({ mode: z.enum(['electron', 'browser']), version: z.string(), platform: z.string(), nativeDialogs: z.boolean(), recent: z.array(z.string()) }),
  },
  'project.open': { params: z.object({ file: filePath }), result: projectState },
  'project.create': {
    params: z.object({
      projectFile: filePath, video: filePath, shortSide: z.number().int().min(64).max(8192).optional(),
      /** Keep what decodes from a video holding fewer frames than it announces (otherwise refused). */
      allowTruncated: z.boolean().optional(),
      /** `video` is a folder of frames (an image sequence): its frame rate as the user states it ("24", "23.976"). */
      fps: z.string().min(1).max(32).optional(),
      /** An image sequence with missing frame numbers: take its frames in order (otherwise refused). */
      allowGaps: z.boolean().optional(),
    }),
    result: jobStarted,
  },
  /** What a path given as a new project's source is (the dialog asks for a frame rate for a folder), without decoding. */
  'source.describe': {
    params: z.object({ path: filePath }),
    result: z.object({
      kind: z.enum(['video', 'image-sequence', 'missing']),
      /** An image sequence's frames ("240 PNG frames, 0001.png to 0240.png"), or why the folder is not one. */
      summary: z.string().optional(),
      problem: z.string().optional(),
      /** Frame numbers are missing (the summary says which). */
      gaps: z.boolean().optional(),
    }),
  },
  /** Points the project at a moved copy of its source video (same frames, rate and size, checked by probing). */
  'project.relink': { params: z.object({ video: filePath }), result: projectState },
  'project.state': { params: none, result: projectState.nullable() },
  'project.save': { params: z.object({ file: filePath.optional() }), result: projectState },
  'project.restoreAutosave': { params: none, result: projectState },
  'project.discardAutosave': { params: none, result: projectState },
  /** `discard`: the user chose "Don't save": the unsaved changes go, with their autosave (otherwise they stay in the autosave). */
  'project.close': { params: z.object({ discard: z.boolean().optional() }).strict(), result: z.null() },
  'project.edit': { params: editRequest, result: projectState },
  'project.undo': { params: none, result: projectState },
  'project.redo': { params: none, result: projectState },
  'keyframes.suggest': {
    params: z.discriminatedUnion('method', [
      z.object({ method: z.literal('uniform'), every: z.number().int().min(1).max(100_000) }),
      z.object({ method: z.literal('adaptive'), min: z.number().int().min(1).max(100_000), max: z.number().int().min(1).max(100_000) }),
    ]),
    result: z.object({ frames: z.array(z.number().int()) }),
  },
  /** An imported or painted keyframe rendered with diffusion instead (refused untouched when no render can start). */
  'keyframe.renderWithDiffusion': { params: z.object({ id, newSeed: z.boolean() }), result: jobStarted },
  'keyframe.render': { params: z.object({ id, newSeed: z.boolean() }), result: jobStarted },
  /**
   * Diffusion keyframes in timeline order (the anchor first, later ones constrained by it): those not
   * done yet (empty, stale, failed; the default), or every one with `only: 'all'` ("Re-render all").
   */
  'keyframes.renderAll': { params: z.object({ only: z.enum(['pending', 'all']).optional(), on: runOn.optional() }), result: jobStarted },
  /** Propagates every segment that is not done, or just one segment (its id as in ProjectState.segments). */
  'propagate.start': { params: z.object({ segmentId: z.string().max(64).optional(), on: runOn.optional() }), result: jobStarted },
  'export.start': {
    params: z.object({
      out: filePath,
      format: exportFormat,
      range: z.object({ start: frame, end: frame }).optional(),
      /** PNG frames: the first file's number (default 0), e.g. 1 or 86400. */
      startNumber: z.number().int().min(0).max(99_999_999).optional(),
      /** Output size (default: the source's pixels), as the CLI's --size. */
      size: exportSizeChoice.optional(),
      sideBySide: z.boolean(),
      allowIncomplete: z.boolean(),
      /** The user confirmed replacing an earlier export at `out`; without it an existing one is an error (EXPORT_EXISTS). */
      overwrite: z.boolean().optional(),
    }),
    result: jobStarted,
  },
  /** The destination the export dialog proposes for `format`: never an existing file, the source or the project's own files. */
  'export.suggest': { params: z.object({ format: exportFormat }), result: z.object({ out: z.string() }) },
  'jobs.list': { params: none, result: z.array(jobState) },
  'jobs.cancel': { params: z.object({ id: z.string().max(64) }), result: z.null() },
  'jobs.clearFinished': { params: none, result: z.array(jobState) },
  'metrics.flicker': {
    params: none,
    result: z.union([
      z.object({ available: z.literal(false), reason: z.string() }),
      z.object({ available: z.literal(true), values: z.array(z.number()) }),
    ]),
  },
  /**
   * How well each frame of the current output is covered by its keyframes (recorded by propagation): the
   * mean synthesis error and the share of pixels no keyframe shows, per frame (null: not propagated with
   * the current keyframes, or a keyframe), the frames where a keyframe would help most, and the scale of
   * the error-map overlay (media `coverage/NNNNN.png`: red = error code, green = not shown by a keyframe).
   */
  'metrics.coverage': {
    params: none,
    result: z.object({
      error: z.array(z.number().nullable()),
      uncovered: z.array(z.number().nullable()),
      worst: z.array(z.number().int()),
      /** The median frame's error: figures are shown relative to it ("3.1× the typical frame"). */
      typical: z.number(),
      scale: z.object({ low: z.number(), high: z.number() }),
    }),
  },
  /** Measures flicker (warp error per frame) of the propagated output for the flicker view. */
  'metrics.measure': { params: none, result: jobStarted },
  'models.state': { params: none, result: modelsState },
  'models.setFolder': { params: z.object({ folder: filePath }), result: modelsState },
  'models.setProvider': { params: z.object({ provider: z.string().max(32) }), result: modelsState },
  'models.import': { params: z.object({ source: filePath }), result: jobStarted },
  /** The cache limit (GB) and its range. */
  'cache.state': { params: none, result: cacheState },
  /** Sets the cache limit: a project's old cache entries are collected beyond it after each propagation. */
  'cache.setLimit': { params: z.object({ limitGb: cacheLimitGb }).strict(), result: cacheState },
  'farm.state': { params: none, result: farmState },
  /** Sets (or with null clears) the farm URL; a URL whose password is *** keeps the stored password. */
  'farm.setUrl': { params: z.object({ url: z.string().max(4096).nullable() }), result: farmState },
  'models.download': { params: z.object({ url: z.string().url().max(4096), sha256: z.string().regex(/^[0-9a-fA-F]{64}$/).optional() }), result: jobStarted },
  /** Native file dialog (Electron); the browser answers supported: false and the UI asks for a typed path. */
  'dialog.pick': {
    params: z.object({ purpose: pickPurpose, suggestedName: z.string().max(256).optional() }),
    result: z.object({ supported: z.boolean(), path: z.string().nullable() }),
  },
  /**
   * Serve mode's file browser: a folder's subfolders and the files matching the purpose's filter (all
   * files with `all`), confined to the user's home folder and the open project's folder.
   */
  'files.list': {
    params: z.object({ purpose: pickPurpose, dir: filePath.optional(), all: z.boolean().optional() }),
    result: folderListing,
  },
  /**
   * An image dropped on the browser window (browsers do not reveal its path): its bytes, copied into the
   * project's assets as the keyframe image at `frame`, like importKeyframeImage.
   */
  'keyframe.importUpload': {
    params: z.object({ frame, name: z.string().min(1).max(255), data: z.string().min(1).max(UPLOAD_BASE64_LIMIT) }),
    result: projectState,
  },
  /** The paint program "Edit in external editor" starts (null: none chosen; Electron then uses the system's default app). */
  'externalEditor.get': { params: none, result: z.object({ program: z.string(), args: z.array(z.string()) }).nullable() },
  /**
   * Chooses the paint program: an absolute path (or a name on the PATH) and its arguments, each a separate
   * string (never run through a shell); `{file}` stands for the image, else it is the last argument. Null clears it.
   */
  'externalEditor.set': {
    params: z.object({ program: z.string().max(4096).nullable(), args: z.array(z.string().max(4096)).max(32) }),
    result: z.object({ program: z.string(), args: z.array(z.string()) }).nullable(),
  },
  /** Opens the keyframe's image (an empty one: its source frame) in the paint program; each save there becomes its new image. */
  'keyframe.editExternally': { params: z.object({ id }), result: z.object({ file: z.string(), program: z.string() }) },
  /** Shows a file in the system file manager (Electron only). */
  'shell.reveal': { params: z.object({ path: filePath }), result: z.object({ supported: z.boolean() }) },
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallParams<N extends CallName> = z.input<Calls[N]['params']>;
export type CallResult<N extends CallName> = z.infer<Calls[N]['result']>;

export const callNames = Object.keys(calls) as CallName[];
export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(calls, name);
}

/** Events from the engine to the UI. */
export const events = {
  'project.changed': projectState.nullable(),
  'job.updated': jobState,
  /** A native menu item or a file dropped on the window asks the UI to perform an action. */
  'app.command': z.object({ action: z.string().max(64), path: z.string().max(4096).optional() }),
  /** Something the engine did on its own that the user should know (a keyframe reloaded from the external editor). */
  'app.notice': z.object({ message: z.string(), error: z.boolean() }),
} as const;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;

/** What every transport answers: the value, or an error message the UI can show as is. */
export type CallReply<T = unknown> = { ok: true; value: T } | { ok: false, error: { message: string; file?: string } };

/** window.rerender: the same object in Electron (preload) and in a browser (WebSocket bridge). */
export interface RerenderApi {
  readonly mode: 'electron' | 'browser';
  call<N extends CallName>(name: N, params: CallParams<N>): Promise<CallResult<N>>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Path of a file dropped on the window (Electron only; browsers do not reveal paths). */
  pathForFile(file: File): string | null;
}

export { IPC_PREFIX, EVENT_CHANNEL } from './channels';

/**
 * Media URL layout, relative to the media root (`app://rerender/media/` in Electron, `/media/` in
 * serve mode): decoded frames, timeline thumbnails, propagated output frames, and files inside the
 * project folder (keyframe images) by their project-relative path.
 */
export const MEDIA_PREFIX = 'media/';
/** Frame files are named like the cache names them (frameFileName in main/engine/project/paths.ts). */
function frameNumber(index: number): string {
  return String(index).padStart(5, '0');
}
export const mediaPaths = {
  frame: (index: number) => `${MEDIA_PREFIX}frames/${frameNumber(index)}.png`,
  thumb: (index: number) => `${MEDIA_PREFIX}thumbs/${frameNumber(index)}.jpg`,
  output: (index: number) => `${MEDIA_PREFIX}output/${frameNumber(index)}.png`,
  /** The coverage map of output frame N (see metrics.coverage). */
  coverage: (index: number) => `${MEDIA_PREFIX}coverage/${frameNumber(index)}.png`,
  /** A stale segment's frame from its last propagation (made from other inputs): shown marked stale. */
  staleOutput: (index: number) => `${MEDIA_PREFIX}output-stale/${frameNumber(index)}.png`,
  projectFile: (relative: string) => `${MEDIA_PREFIX}project/${relative.split('/').map(encodeURIComponent).join('/')}`,
};
