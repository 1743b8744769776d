// Load on the job system: cancelling and restarting jobs in a loop leaves no stray processes, and a
// storm of requests is queued and answered in order without leaking workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { WorkerHost } from '../../main/engine/jobs/worker-host';
import { CancelToken, isCancelled } from '../../native-models/src/errors';

const workerFile = path.join(__dirname, '..', 'helpers', 'test-worker.ts');

/** Node child processes of this test process (Linux/macOS `ps`); tsx's esbuild helper and ps itself are not workers. */
function children(): number[] {
  const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' });
  return out.trim().split('\n').map((l) => l.trim().split(/\s+/))
    .filter(([, ppid, comm]) => Number(ppid) === process.pid && /node/.test(comm))
    .map(([pid]) => Number(pid));
}

test('given 100 jobs each cancelled and restarted, then one worker process remains and nothing leaks', { skip: process.platform === 'win32' && 'ps is not available on Windows' }, async () => {
  const host = new WorkerHost('load', workerFile);
  try {
    for (let i = 0; i < 100; i++) {
      const cancel = new CancelToken();
      const job = host.call('slow', { steps: 1000 }, { cancel });
      setTimeout(() => cancel.cancel(), 5);
      await assert.rejects(job, (e) => isCancelled(e));
    }
    assert.equal(await host.call('slow', { steps: 2 }), 'finished', 'the worker still answers');
    assert.equal(host.restartCount, 0);
    const alive = children();
    assert.equal(alive.length, 1, `exactly one worker process, found ${JSON.stringify(alive)} (worker pid ${host.pid})`);
  } finally {
    await host.dispose();
  }
  assert.deepEqual(children(), [], 'once dispose resolves, no process is left behind');
});

test('given 50 rapid requests, then all are answered, in order, by the same worker', async () => {
  const host = new WorkerHost('load', workerFile);
  try {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => host.call('echo', i) as Promise<{ echoed: number; pid: number }>));
    assert.deepEqual(replies.map((r) => r.echoed), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(new Set(replies.map((r) => r.pid)).size, 1);
  } finally {
    await host.dispose();
  }
});
