// Worker host over child_process.fork: progress, cancel, errors, and a crash that fails its job and restarts.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerHost } from '../../main/engine/jobs/worker-host';
import { CancelToken, UserError, isCancelled } from '../../native-models/src/errors';
import type { JobProgress } from '../../main/engine/jobs/protocol';

const workerFile = path.join(__dirname, '..', 'helpers', 'test-worker.ts');

describe('worker host', () => {
  const host = new WorkerHost('test', workerFile);
  after(() => host.dispose());

  test('given a job, when it runs, then progress arrives in order and the result comes back', async () => {
    const seen: JobProgress[] = [];
    const r = await host.call('slow', { steps: 10 }, { onProgress: (p) => seen.push(p) });
    assert.equal(r, 'finished');
    assert.ok(seen.length >= 2);
    assert.ok(seen.every((p, i) => i === 0 || p.fraction >= seen[i - 1].fraction));
    assert.equal(seen[seen.length - 1].fraction, 1);
  });

  test('given a running job, when cancelled, then it rejects as cancelled and the worker stays usable', async () => {
    const cancel = new CancelToken();
    const job = host.call('slow', { steps: 1000 }, { cancel, onProgress: (p) => { if (p.fraction > 0.01) cancel.cancel(); } });
    await assert.rejects(job, (e) => isCancelled(e));
    assert.deepEqual(await host.call('echo', { a: new Uint8Array([1, 2]) }).then((r) => (r as { echoed: unknown }).echoed), { a: new Uint8Array([1, 2]) });
  });

  test('given bad input in a job, then the user error comes back with its message', async () => {
    await assert.rejects(host.call('bad', {}), (e) => e instanceof UserError && /that input is wrong/.test(e.message) && e.message.includes('/some/file.png'));
  });

  test('given an unknown job, then it fails clearly', async () => {
    await assert.rejects(host.call('nope', {}), /unknown job "nope"/);
  });

  test('given a worker that crashes mid-job, then the job fails with a clear error and the next job runs in a new process', async () => {
    const before = ((await host.call('echo', 1)) as { pid: number }).pid;
    await assert.rejects(host.call('crash', {}), /worker stopped unexpectedly.*exited with code 3/);
    assert.equal(host.restartCount, 1);
    const afterPid = ((await host.call('echo', 2)) as { pid: number }).pid;
    assert.notEqual(afterPid, before);
  });
});

/** Whether a process with this id still exists (a zombie counts: it has not been reaped yet). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

describe('worker host disposal', () => {
  test('given a running job, when the host is disposed, then the job fails as cancelled, the worker cleans up and exits, and dispose resolves only after that', async () => {
    const host = new WorkerHost('dispose', workerFile);
    const pid = ((await host.call('echo', 0)) as { pid: number }).pid;
    const marker = path.join(os.tmpdir(), `rerender-dispose-${process.pid}-${pid}`);
    const failed = assert.rejects(host.call('cleanup', { marker }), (e) => isCancelled(e));
    await host.call('echo', 1); // the cleanup job has started: requests are handled in order
    await host.dispose(600_000); // a grace period far beyond the test: the worker ends itself
    await failed;
    assert.equal(exists(pid), false, 'the worker process has exited when dispose resolves');
    assert.equal(fs.readFileSync(marker, 'utf8'), 'cleaned up', 'the cancelled job ran its clean-up');
    fs.rmSync(marker);
    await assert.rejects(async () => host.call('echo', 2), /shut down/);
  });

  test('given a worker that does not stop when asked, when the host is disposed, then it is killed after the grace period', async () => {
    const host = new WorkerHost('dispose', workerFile);
    const pid = ((await host.call('echo', 0)) as { pid: number }).pid;
    const failed = assert.rejects(host.call('stubborn', {}), (e) => isCancelled(e));
    await host.call('echo', 1);
    await host.dispose(100);
    await failed;
    assert.equal(exists(pid), false, 'the stubborn worker was killed and reaped');
  });

  test('given an idle worker, when disposed twice, then both calls resolve once it has exited', async () => {
    const host = new WorkerHost('dispose', workerFile);
    const pid = ((await host.call('echo', 0)) as { pid: number }).pid;
    await Promise.all([host.dispose(), host.dispose()]);
    assert.equal(exists(pid), false);
    await new WorkerHost('never-started', workerFile).dispose(); // nothing to stop
  });
});
