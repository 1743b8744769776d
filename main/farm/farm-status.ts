// `rerender farm status`: the workers alive now (their heartbeats), the queue's counts, the running
// jobs and the latest failures with their reasons.
import IORedis from 'ioredis';
import { bullConnection, checkFarmConnection, scanKeys, type FarmConnection } from './connection';
import { WORKER_KEYS, renderJobLabel, type FrescoJob, type JobProgress, type PropagateJob, type RenderJob } from './jobs';
import type { WorkerHeartbeat } from './farm-worker';
import { attemptsText, propagateQueue } from './submit';
import { Queue } from 'bullmq';
import { FARM_PREFIX } from './jobs';

export interface FarmStatus {
  redis: string;
  /** What can lose jobs on this Redis (no append-only file), one line each. */
  warnings: string[];
  workers: WorkerHeartbeat[];
  counts: Record<string, number>;
  /** Render jobs: waiting, running, done, failed. */
  renderCounts?: Record<string, number>;
  /** `segment` names the segment, or for a render job the keyframe or FRESCO batch (renderJobLabel). */
  running: Array<{ jobId: string; project: string; segment: string; worker?: string; framesDone?: number; frames?: number }>;
  failures: Array<{ jobId: string; project: string; segment: string; attempts: number; reason: string; at?: string }>;
}

export async function farmStatus(c: FarmConnection, maxFailures = 10): Promise<FarmStatus> {
  const { warnings } = await checkFarmConnection(c);
  const client = new IORedis(bullConnection(c));
  const queue = propagateQueue(c);
  const renders = new Queue('render', { connection: bullConnection(c), prefix: FARM_PREFIX });
  try {
    const keys = await scanKeys(client, WORKER_KEYS);
    const workers: WorkerHeartbeat[] = [];
    for (const k of keys) {
      const text = await client.get(k);
      try { if (text) workers.push(JSON.parse(text)); } catch { /* a damaged heartbeat is skipped: it expires */ }
    }
    workers.sort((a, b) => a.id.localeCompare(b.id));
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const renderCounts = await renders.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    const what = (d: PropagateJob | RenderJob | FrescoJob | undefined) => (d?.kind === 'render' ? renderJobLabel(d) : `segment ${(d as PropagateJob | undefined)?.segment?.id ?? '?'}`);
    const running = [...await queue.getActive(0, 199), ...await renders.getActive(0, 199)].map((j) => {
      const d = j.data as PropagateJob | RenderJob | FrescoJob, prog = j.progress as unknown as JobProgress | undefined;
      return { jobId: j.id!, project: d.project, segment: what(d), worker: prog?.worker ?? j.processedBy, framesDone: prog?.framesDone, frames: prog?.frames };
    });
    const failures = [...await queue.getFailed(0, maxFailures - 1), ...await renders.getFailed(0, maxFailures - 1)]
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0)).slice(0, maxFailures).map((j) => {
        const d = j.data as PropagateJob | RenderJob | FrescoJob;
        return { jobId: j.id!, project: d?.project, segment: what(d), attempts: j.attemptsMade, reason: j.failedReason, at: j.finishedOn ? new Date(j.finishedOn).toISOString() : undefined };
      });
    return { redis: c.safeUrl, warnings, workers, counts, renderCounts, running, failures };
  } finally {
    await queue.close().catch(() => undefined);
    await renders.close().catch(() => undefined);
    client.disconnect();
  }
}

export function formatFarmStatus(s: FarmStatus): string[] {
  const lines = [`farm at ${s.redis}`];
  for (const w of s.warnings) lines.push(`warning: ${w}`);
  lines.push(`workers: ${s.workers.length}`);
  for (const w of s.workers) {
    const jobs = w.active.map((a) => `${a.segment} ${a.framesDone}/${a.frames}`).join(', ');
    const renders = w.renderProvider ? `  renders on ${w.renderProvider}` : w.renderRefused ? `  no render jobs: ${w.renderRefused}` : '';
    lines.push(`  ${w.id}  kinds ${w.kinds.join(',')}  concurrency ${w.concurrency}  done ${w.jobsDone}  failed ${w.jobsFailed}${renders}${jobs ? `  running ${jobs}` : '  idle'}`);
  }
  const c = s.counts;
  lines.push(`jobs: ${c.waiting + (c.prioritized ?? 0) + (c.delayed ?? 0)} waiting, ${c.active} running, ${c.completed} done, ${c.failed} failed`);
  const r = s.renderCounts;
  if (r) lines.push(`render jobs: ${r.waiting + (r.prioritized ?? 0) + (r.delayed ?? 0)} waiting, ${r.active} running, ${r.completed} done, ${r.failed} failed`);
  for (const r of s.running) lines.push(`  running ${r.segment} of ${r.project}${r.worker ? ` on ${r.worker}` : ''}${r.frames ? ` (${r.framesDone}/${r.frames} frames)` : ''}`);
  if (s.failures.length) lines.push('failures (latest first):');
  for (const f of s.failures) lines.push(`  ${f.segment}${typeof f.project === 'string' ? ` of ${f.project}` : ''}: ${f.reason} (${attemptsText(f.attempts)}${f.at ? `, ${f.at}` : ''})`);
  return lines;
}
