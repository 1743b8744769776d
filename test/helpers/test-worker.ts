// A worker process for the worker-host tests: the real job runtime with jobs that progress, fail and crash.
import fs from 'node:fs';
import { serveJobs } from '../../main/engine/jobs/worker-runtime';
import { UserError } from '../../native-models/src/errors';

serveJobs({
  async echo(params) { return { echoed: params, pid: process.pid }; },
  async slow(params, { progress, cancel }) {
    const steps = (params as { steps: number }).steps;
    for (let i = 0; i < steps; i++) {
      cancel.throwIfCancelled();
      await new Promise((r) => setTimeout(r, 20));
      progress((i + 1) / steps, `step ${i + 1}`);
    }
    return 'finished';
  },
  async bad() { throw new UserError('that input is wrong', '/some/file.png'); },
  /** Runs until cancelled, then writes `marker` on its way out (the clean-up a real job does). */
  async cleanup(params, { cancel }) {
    try {
      await new Promise<void>((resolve) => cancel.onCancel(() => resolve()));
    } finally {
      fs.writeFileSync((params as { marker: string }).marker, 'cleaned up');
    }
    return 'stopped';
  },
  /** Ignores cancellation forever: only a kill ends it. */
  async stubborn() { return new Promise(() => undefined); },
  async crash() { setTimeout(() => process.exit(3), 10); return new Promise(() => undefined); },
});
