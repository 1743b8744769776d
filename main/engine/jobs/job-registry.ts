// Every job a worker process runs, in one place: its worker, the schema of its parameters and the schema
// of its result. The host (WorkerHost.call, typed by it) validates the parameters it sends and the result
// it gets back; the worker (serveJobs) validates the parameters it gets and the result it sends. A job's
// parameters and result are therefore written once, here, and checked on both sides of the process line.
import { z } from 'zod';
import { crop, exportFormat, exportSizeChoice, frescoSettings, keyframeStatus, modelSelection, renderOverrides } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { PROVIDER_CHOICES } from '../../../native-models/src/runtime/provider-names';

export type WorkerName = 'inference' | 'propagation';

export interface JobSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  worker: WorkerName;
  params: P;
  result: R;
  /** What a failed or cancelled run finished before it (the error's `partial`), for jobs that keep it. */
  partial?: z.ZodType;
}

/**
 * The document a job works on, as its owner holds it (checked as a project in the worker: parseProject).
 * Jobs never need the project saved, and never write it; without one a propagation job reads the saved file.
 */
const snapshot = z.unknown();
/** Segments a propagation left out (a keyframe without a finished image): propagate-project.ts SkippedSegments. */
const skippedSegments = z.object({ ids: z.array(z.string()), note: z.string() });

const renderCommon = {
  projectFile: z.string().min(1),
  project: snapshot,
  overrides: renderOverrides.optional(),
  models: modelSelection.partial().optional(),
  mode: z.enum(['rerender', 'independent', 'fresco']).optional(),
  /** FRESCO switches for this run (on top of the project's saved settings). */
  fresco: frescoSettings.partial().optional(),
  saliencyModel: z.string().min(1).optional(),
  modelsDir: z.string().min(1).optional(),
  tokenizer: z.string().min(1).optional(),
  detector: z.string().min(1).optional(),
  /** The execution provider chosen in the model manager; 'auto' tries every one in order. */
  provider: z.enum(PROVIDER_CHOICES).optional(),
};

const losses = z.object({ warp: z.number(), similarity: z.number() });

/** RenderSummary (render/keyframe-method.ts) as it crosses the process line. */
export const renderSummary = z.object({
  rendered: z.array(z.object({ id: z.string(), frame: z.number().int(), image: z.string(), revision: z.number().int(), seconds: z.number(), unetCalls: z.number() })),
  results: z.array(z.object({
    id: z.string(), frame: z.number().int(), baseRevision: z.number().int(), image: z.string(), seed: z.number().int(),
    overrides: renderOverrides, createdAt: z.string(),
  })),
  failures: z.array(z.object({ id: z.string(), status: keyframeStatus, note: z.string().optional() })),
  notes: z.array(z.string()).optional(),
  stale: z.array(z.object({ id: z.string(), frame: z.number().int(), reason: z.string() })),
  staleSegments: z.array(z.string()),
  provider: z.string().optional(),
  skippedProviders: z.array(z.object({ provider: z.string(), reason: z.string() })).optional(),
  warnings: z.array(z.string()),
  fresco: z.object({
    batches: z.array(z.object({
      crossFrameKeys: z.array(z.object({ layer: z.number().int(), keys: z.number(), full: z.number() })),
      optimisation: z.array(z.object({ step: z.number().int(), upBlock: z.number().int(), branch: z.number().int(), before: losses, final: losses, magnitude: z.number() })),
    })),
  }).optional(),
});

export const JOBS = {
  renderKeyframe: {
    worker: 'inference',
    params: z.object({ ...renderCommon, frame: z.number().int().min(0) }),
    /** Also the ONNX sessions the worker holds afterwards, so leaks show. */
    result: renderSummary.extend({ sessionsLoaded: z.number().int() }),
    partial: renderSummary,
  },
  renderKeyframes: {
    worker: 'inference',
    /** Every diffusion keyframe, or those with these ids (the editor's "Render all" renders those not done). */
    params: z.object({ ...renderCommon, ids: z.array(z.string().min(1).max(128)).max(100_000).optional() }),
    result: renderSummary,
    partial: renderSummary,
  },
  computeLearnedFlows: {
    worker: 'inference',
    params: z.object({
      modelFile: z.string().min(1),
      inputScale: z.number().positive().optional(),
      framesDir: z.string().min(1),
      flowDir: z.string().min(1),
      sourceKey: z.string().min(1),
      /** Pairs first..last-1 (frames first..last). */
      first: z.number().int().min(0),
      last: z.number().int().min(1),
    }),
    result: z.object({ pairs: z.number().int(), estimator: z.string() }),
  },
  createProject: {
    worker: 'propagation',
    params: z.object({
      projectFile: z.string().min(1), video: z.string().min(1),
      mode: z.enum(['short-side', 'long-side']).optional(), size: z.number().int().optional(), crop: crop.nullable().optional(),
      allowTruncated: z.boolean().optional(), fps: z.string().max(32).optional(), allowGaps: z.boolean().optional(),
    }),
    result: z.object({ frames: z.number().int() }),
  },
  exportProject: {
    worker: 'propagation',
    params: z.object({
      projectFile: z.string().min(1), out: z.string().min(1), format: exportFormat.optional(),
      allowIncomplete: z.boolean().optional(), sideBySide: z.boolean().optional(), overwrite: z.boolean().optional(),
      range: z.object({ start: z.number().int(), end: z.number().int() }).optional(), startNumber: z.number().int().min(0).optional(),
      size: exportSizeChoice.optional(), project: snapshot.optional(),
    }),
    result: z.object({ out: z.string(), frames: z.number().int(), fromSource: z.number().int(), leftOut: z.array(z.string()) }),
  },
  propagate: {
    worker: 'propagation',
    params: z.object({ projectFile: z.string().min(1), segmentId: z.string().max(64).optional(), workers: z.number().int().min(1).max(64).optional(), project: snapshot.optional() }),
    result: z.object({ segments: z.number().int(), framesWritten: z.number().int(), framesKept: z.number().int(), synthesesRun: z.number().int(), synthesesReused: z.number().int(), skipped: skippedSegments.optional() }),
  },
  /**
   * The editor's propagation on the render farm (farm/submit.ts): the document's segments as farm jobs,
   * followed with progress and each worker's part; the frames land in the project cache as a local run's.
   * `farmUrl` holds the password: it goes only to this machine's worker process.
   */
  propagateOnFarm: {
    worker: 'propagation',
    params: z.object({ projectFile: z.string().min(1), project: snapshot, segmentId: z.string().max(64).optional(), farmUrl: z.string().min(1).max(4096) }),
    result: z.object({ segments: z.number().int(), segmentsShared: z.number().int(), framesWritten: z.number().int(), framesKept: z.number().int(), workers: z.array(z.string()), warnings: z.array(z.string()).optional(), skipped: skippedSegments.optional() }),
  },
  /** The editor's keyframe renders on the render farm (farm/submit-render.ts): results for the editor to commit, as renderKeyframes. */
  renderOnFarm: {
    worker: 'propagation',
    params: z.object({ ...renderCommon, ids: z.array(z.string().min(1).max(128)).max(100_000).optional(), farmUrl: z.string().min(1).max(4096) }),
    result: renderSummary.extend({ farm: z.object({ jobsShared: z.number().int(), workers: z.array(z.string()), warnings: z.array(z.string()).optional() }) }),
    partial: renderSummary,
  },
  measureFlicker: {
    worker: 'propagation',
    params: z.object({ projectFile: z.string().min(1), project: snapshot.optional() }),
    result: z.object({ mean: z.number(), pairs: z.number().int() }),
  },
  suggestKeyframes: {
    worker: 'propagation',
    params: z.object({ projectFile: z.string().min(1), min: z.number().int(), max: z.number().int(), project: snapshot.optional() }),
    result: z.object({ frames: z.array(z.number().int()), differences: z.array(z.number()) }),
  },
} as const satisfies Record<string, JobSpec>;

export type Jobs = typeof JOBS;
export type JobName = keyof Jobs;
/** The jobs one worker runs. */
export type WorkerJobs<W extends WorkerName> = { [N in JobName as Jobs[N]['worker'] extends W ? N : never]: Jobs[N] };
export type JobParams<N extends JobName> = z.input<Jobs[N]['params']>;
export type JobResult<N extends JobName> = z.output<Jobs[N]['result']>;

/** The jobs of one worker, as the host and the worker of that name take them. */
export function workerJobs<W extends WorkerName>(worker: W): WorkerJobs<W> {
  return Object.fromEntries(Object.entries(JOBS).filter(([, spec]) => spec.worker === worker)) as WorkerJobs<W>;
}

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(the whole value)'}: ${i.message}`).join('; ');
}

/** Parameters checked against their job's schema; the error names the job and every problem. */
export function parseJobParams<S extends z.ZodType>(job: string, schema: S, params: unknown): z.output<S> {
  const r = schema.safeParse(params);
  if (!r.success) throw new UserError(`bad parameters for ${job}: ${issues(r.error)}`);
  return r.data;
}

/** A result checked against its job's schema (a malformed one is a bug in the worker, not the user's doing). */
export function parseJobResult<S extends z.ZodType>(job: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`job ${job} answered a result that does not match its schema: ${issues(r.error)}`);
  return r.data;
}
