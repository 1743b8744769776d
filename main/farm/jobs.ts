// What travels through Redis: the farm's queue names and keys, the job payload (checked with zod on the
// worker: Redis is an outside input), and job ids made from a segment's inputs so that two submissions
// of the same work share one job.
import { segmentOutputKey as outputKey } from '../engine/project/output-keys';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { z } from 'zod';
import { relativePath, renderOverrides, type Project } from '../../preload/project-schema';
import type { KeyframeResult } from '../engine/render/keyframe-commit';
import type { FrescoBatchReport } from '../engine/fresco/fresco-render';
import type { Segment } from '../engine/project/keyframes';
import { UserError } from '../../native-models/src/errors';
import { SNAPSHOT_ID } from './snapshot';

/** BullMQ key prefix of every farm queue (`rerender:propagate:…`). */
export const FARM_PREFIX = 'rerender';

/** Job kinds and the queue each lives in. */
export const FARM_KINDS = ['propagate', 'render'] as const;
export type FarmKind = (typeof FARM_KINDS)[number];

/** A worker's heartbeat (see farm-worker.ts), refreshed while it runs and gone when it stops or dies. */
export const workerKey = (id: string) => `${FARM_PREFIX}:farm:worker:${id}`;
export const WORKER_KEYS = `${FARM_PREFIX}:farm:worker:*`;
/** Set by a submitter that cancels: workers running the job stop it at the next frame. */
export const cancelKey = (jobId: string) => `${FARM_PREFIX}:farm:cancel:${jobId}`;

/** The submissions that follow a job (their ids); a cancel stops the job only when no other live one does. */
export const followersKey = (jobId: string) => `${FARM_PREFIX}:farm:followers:${jobId}`;
/** A submission's heartbeat while it follows its jobs. */
export const submissionKey = (id: string) => `${FARM_PREFIX}:farm:submission:${id}`;

/** How many times a segment is tried before the submission reports it failed (a stall counts as well). */
export const JOB_ATTEMPTS = 3;

const keyframeRef = z.object({ id: z.string().min(1).max(200), revision: z.number().int().min(0), frame: z.number().int().min(0) }).strict();

/**
 * One segment to propagate. `project` is the submitter's absolute path (mapped by the worker); `snapshot`
 * the id of the document it works on, in that project's cache (snapshot.ts).
 */
export const propagateJob = z.object({
  version: z.literal(2),
  kind: z.literal('propagate'),
  project: z.string().min(2).max(4096),
  snapshot: z.string().regex(SNAPSHOT_ID, 'must be a snapshot id'),
  segment: z.object({
    id: z.string().regex(/^\d{1,8}-\d{1,8}$/),
    start: z.number().int().min(0),
    end: z.number().int().min(0),
    left: keyframeRef.optional(),
    right: keyframeRef.optional(),
  }).strict(),
  /** The segment's output key (its inputs); the worker recomputes it from the project and refuses a mismatch. */
  key: z.string().regex(/^\d{1,9}-\d{1,9}-[0-9a-f]{16}$/), // segmentOutputKey: start-end-hash
  submittedBy: z.object({ host: z.string().max(256), pid: z.number().int(), at: z.string().max(64) }).strict(),
}).strict();
export type PropagateJob = z.infer<typeof propagateJob>;

/** What a worker reports while it runs a job (BullMQ progress). */
export interface JobProgress { worker: string; framesDone: number; frames: number; fraction: number }

/** What a finished propagate job returns. */
export interface PropagateJobResult {
  worker: string; framesWritten: number; framesKept: number;
  /** Chain steps loaded from an interrupted earlier attempt (a stalled job resumed) instead of synthesised. */
  synthesesReused: number;
  seconds: number;
}

export function parsePropagateJob(data: unknown): PropagateJob {
  const r = propagateJob.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`malformed farm job: ${issue.path.join('.') || 'payload'}: ${issue.message}`);
  }
  if (r.data.segment.end < r.data.segment.start) throw new UserError('malformed farm job: the segment ends before it starts');
  return r.data;
}

const ref = (k: Segment['left']) => (k ? { id: k.id, revision: k.revision, frame: k.frame } : undefined);

/** A segment's key is the document-owner's output key: equal keys, equal inputs, one job. */
export const segmentOutputKey = (p: Project, s: Segment): string => outputKey(p, s);

/** The BullMQ job id of a segment of a project: the same work from two submissions is one job. */
export function propagateJobId(projectPath: string, key: string): string {
  return 'seg-' + createHash('sha256').update(JSON.stringify([projectPath, key])).digest('hex').slice(0, 40);
}

export function propagateJobFor(projectPath: string, p: Project, s: Segment, snapshot: string): { id: string; data: PropagateJob } {
  const key = segmentOutputKey(p, s);
  return {
    id: propagateJobId(projectPath, key),
    data: {
      version: 2, kind: 'propagate', project: projectPath, snapshot,
      segment: { id: s.id, start: s.start, end: s.end, left: ref(s.left), right: ref(s.right) },
      key,
      submittedBy: { host: os.hostname(), pid: process.pid, at: new Date().toISOString() },
    },
  };
}

/** One keyframe's render result as it travels in a later job's payload (validated like the project file). */
const keyframeResult = z.object({
  id: z.string().min(1).max(200), frame: z.number().int().min(0), baseRevision: z.number().int().min(0),
  image: relativePath.refine((p) => /\.png$/i.test(p), 'must be a .png image'),
  seed: z.number().int().min(0).max(2 ** 32 - 1), overrides: renderOverrides, createdAt: z.string().max(64),
}).strict();

/**
 * One keyframe to render, in the document `snapshot` names (snapshot.ts). `prior` holds the results of
 * the keyframes rendered before it in the same submission (in order): the worker applies them to the
 * snapshot, so it renders from the state a
 * local `render --all` has when it reaches this keyframe. `modelsDir` is the submitter's models folder:
 * a model path inside it is looked up in the worker's own models folder.
 */
export const renderJob = z.object({
  version: z.literal(2),
  kind: z.literal('render'),
  project: z.string().min(2).max(4096),
  snapshot: z.string().regex(SNAPSHOT_ID, 'must be a snapshot id'),
  keyframe: keyframeRef,
  mode: z.enum(['rerender', 'independent']),
  /** settingsKey of the keyframe's render; the worker recomputes it and refuses a mismatch. */
  settingsKey: z.string().regex(/^[0-9a-f]{24}$/),
  prior: z.array(keyframeResult).max(100_000),
  modelsDir: z.string().min(1).max(4096),
  /** Workers that could not render it (their models folder lacks a model it needs), with the reason. */
  refusedBy: z.array(z.object({ worker: z.string().max(300), reason: z.string().max(2000) }).strict()).max(1000).optional(),
  submittedBy: z.object({ host: z.string().max(256), pid: z.number().int(), at: z.string().max(64) }).strict(),
}).strict();
export type RenderJob = z.infer<typeof renderJob>;

/**
 * One FRESCO batch to render (fresco-method.ts, frescoUnits): its keyframes in timeline order, those that
 * get its new images (`keep`) with their settingsKey, which the worker recomputes and checks. Batches do
 * not depend on each other's images: a submission queues them all at once.
 */
export const frescoJob = z.object({
  version: z.literal(2),
  kind: z.literal('render'),
  project: z.string().min(2).max(4096),
  snapshot: z.string().regex(SNAPSHOT_ID, 'must be a snapshot id'),
  mode: z.literal('fresco'),
  batch: z.array(keyframeRef.extend({ keep: z.boolean(), settingsKey: z.string().regex(/^[0-9a-f]{24}$/) }).strict()).min(1).max(64), // batchSize ≤ 64
  modelsDir: z.string().min(1).max(4096),
  refusedBy: renderJob.shape.refusedBy,
  submittedBy: renderJob.shape.submittedBy,
}).strict();
export type FrescoJob = z.infer<typeof frescoJob>;

/** What a finished render job returns. */
export interface RenderJobResult {
  worker: string;
  /** The keyframe job's one image, or a FRESCO batch's kept images in timeline order. */
  results: KeyframeResult[];
  seconds: number;
  unetCalls: number;
  provider?: string;
  skippedProviders?: Array<{ provider: string; reason: string }>;
  warnings: string[];
  /** A FRESCO batch: what it did (cross-frame keys, optimisation losses). */
  fresco?: FrescoBatchReport[];
}

/** A render queue's job: one keyframe, or a FRESCO batch (by its `mode`). */
export function parseRenderJob(data: unknown): RenderJob | FrescoJob {
  const r = ((data as { mode?: unknown } | null)?.mode === 'fresco' ? frescoJob : renderJob).safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`malformed farm job: ${issue.path.join('.') || 'payload'}: ${issue.message}`);
  }
  return r.data;
}

/**
 * The BullMQ job id of a keyframe render: its keyframe, revision and settings, and the job it follows
 * (whose result it is constrained by), so equal inputs give one job and a changed anchor gives new ids
 * for everything after it.
 */
export function renderJobId(projectPath: string, k: { id: string; revision: number }, mode: string, settingsKey: string, after?: string): string {
  return 'key-' + createHash('sha256').update(JSON.stringify([projectPath, k.id, k.revision, mode, settingsKey, after ?? null])).digest('hex').slice(0, 40);
}

/** What a render job is called in logs, `farm status` and messages ("keyframe at frame 3", "FRESCO batch of frames 0, 3, 6"). */
export function renderJobLabel(d: RenderJob | FrescoJob): string {
  return d.mode === 'fresco' ? `FRESCO batch of frames ${d.batch?.map((b) => b.frame).join(', ')}` : `keyframe at frame ${d.keyframe?.frame}`;
}

/** The BullMQ job id of a FRESCO batch: its keyframes (ids, revisions, settings), which it keeps, and the FRESCO settings. */
export function frescoJobId(projectPath: string, batch: FrescoJob['batch'], settings: unknown): string {
  return 'fresco-' + createHash('sha256').update(JSON.stringify([projectPath, batch, settings ?? null])).digest('hex').slice(0, 40);
}

/** Parses `--kinds propagate,render`. */
export function parseKinds(text: string | undefined): FarmKind[] {
  if (text === undefined) return ['propagate'];
  const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) if (!(FARM_KINDS as readonly string[]).includes(k)) throw new UserError(`unknown job kind "${k}" in --kinds (known: ${FARM_KINDS.join(', ')})`);
  if (!kinds.length) throw new UserError('--kinds names no job kind');
  return [...new Set(kinds)] as FarmKind[];
}
