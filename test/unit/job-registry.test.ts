// Given the job registry, every job belongs to one worker, and a host of a registered worker checks the
// parameters it sends and the results it gets against the job's schemas (the worker checks them too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOBS, parseJobParams, workerJobs } from '../../main/engine/jobs/job-registry';
import { WorkerHost, type WorkerProcess } from '../../main/engine/jobs/worker-host';
import type { HostMessage } from '../../main/engine/jobs/protocol';

/** A worker process that answers every request with `answer(request)`. */
function fakeWorker(answer: (m: Extract<HostMessage, { type: 'request' }>) => unknown) {
  const sent: HostMessage[] = [];
  let listener: (m: unknown) => void = () => {};
  const proc: WorkerProcess = {
    send: (m) => { sent.push(m); if (m.type === 'request') queueMicrotask(() => listener(answer(m))); },
    onMessage: (l) => { listener = l; },
    onExit: () => {},
    kill: () => {},
    pid: 1,
  };
  return { sent, spawn: () => proc };
}

test('every job belongs to exactly one worker', () => {
  const names = [...Object.keys(workerJobs('inference')), ...Object.keys(workerJobs('propagation'))].sort();
  assert.deepEqual(names, Object.keys(JOBS).sort());
});

test('given parameters that do not match a job, then the host refuses them before sending, naming the job and the field', async () => {
  const w = fakeWorker((m) => ({ type: 'result', id: m.id, value: { mean: 1, pairs: 2 } }));
  const host = WorkerHost.of('propagation', 'unused.js', w.spawn);
  await assert.rejects(host.call('measureFlicker', { projectFile: '' }), /bad parameters for measureFlicker: projectFile/);
  assert.deepEqual(w.sent, []);
  assert.deepEqual(await host.call('measureFlicker', { projectFile: 'a.rerender' }), { mean: 1, pairs: 2 });
});

test('given a result that does not match its job, then the call fails as a bug of the worker, naming the job', async () => {
  const w = fakeWorker((m) => ({ type: 'result', id: m.id, value: { mean: 'high' } }));
  const host = WorkerHost.of('propagation', 'unused.js', w.spawn);
  await assert.rejects(host.call('measureFlicker', { projectFile: 'a.rerender' }), (e: Error) => e.name === 'Error' && /propagation worker: job measureFlicker answered a result that does not match its schema: mean/.test(e.message));
});

test('given a render that failed with a malformed partial summary, then the partial is dropped, not trusted', async () => {
  const w = fakeWorker((m) => ({ type: 'error', id: m.id, kind: 'user', message: 'no checkpoint', partial: { rendered: 'lots' } }));
  const host = WorkerHost.of('inference', 'unused.js', w.spawn);
  await assert.rejects(host.call('renderKeyframes', { projectFile: 'a.rerender', project: {} }), (e: Error & { partial?: unknown }) => /no checkpoint/.test(e.message) && e.partial === undefined);
});

test('the worker side reads the same schema: unknown providers and negative frames are refused', () => {
  assert.throws(() => parseJobParams('renderKeyframe', JOBS.renderKeyframe.params, { projectFile: 'a', project: {}, frame: -1 }), /bad parameters for renderKeyframe: frame/);
  assert.throws(() => parseJobParams('renderKeyframe', JOBS.renderKeyframe.params, { projectFile: 'a', project: {}, frame: 0, provider: 'tpu' }), /provider/);
});
