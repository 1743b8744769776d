// A worker process for the worker-host tests: the real job runtime with jobs that progress, fail and crash.
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
  async crash() { setTimeout(() => process.exit(3), 10); return new Promise(() => undefined); },
});
