// The message protocol between the job host and a worker process: request → progress* → result | error,
// plus cancel. Messages are validated on both sides; anything else is ignored and reported.
import { z } from 'zod';
import { farmWorkerPart, type FarmWorkerPart } from '../../../preload/api';

export const hostMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('request'), id: z.number().int().nonnegative(), method: z.string().min(1).max(100), params: z.unknown() }),
  z.object({ type: z.literal('cancel'), id: z.number().int().nonnegative() }),
]);
export type HostMessage = z.infer<typeof hostMessage>;

export const workerMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({ type: z.literal('progress'), id: z.number().int().nonnegative(), fraction: z.number().min(0).max(1), message: z.string().max(1000).optional() }),
  /** A farm submission's workers, each with its part (see farm/worker-parts.ts), every poll. */
  z.object({ type: z.literal('workers'), id: z.number().int().nonnegative(), workers: z.array(farmWorkerPart).max(1000) }),
  z.object({ type: z.literal('result'), id: z.number().int().nonnegative(), value: z.unknown() }),
  z.object({
    type: z.literal('error'), id: z.number().int().nonnegative(), message: z.string(),
    /** user: bad input the user can fix; cancelled: the job was cancelled; internal: a bug. */
    kind: z.enum(['user', 'cancelled', 'internal']),
    file: z.string().optional(),
    /** A user error's raw detail (a tool's own words), for the log and the job's details, never its message. */
    detail: z.string().max(8000).optional(),
    /** What the job finished before it failed or was cancelled (renders: the keyframes done), for the host to keep. */
    partial: z.unknown().optional(),
  }),
]);
export type WorkerMessage = z.infer<typeof workerMessage>;

/** What a job reports while it runs; the job list and the CLI add the ETA (jobs/eta.ts). */
export interface JobProgress { fraction: number; message?: string }
export type { FarmWorkerPart };
