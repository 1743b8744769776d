// The job list as the jobs panel sees it: a queued job waits without progress, then runs and ends;
// cancelled while queued, it ends as cancelled without its work running.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { JobList, jobTarget } from '../../main/engine/editor/job-list';
import type { JobState } from '../../preload/api';

/** A job list whose events are recorded in order. */
function recordedList(): { list: JobList; events: JobState[] } {
  const events: JobState[] = [];
  const list = new JobList((j) => events.push(j), (err) => ({ message: String(err) }));
  return { list, events };
}

/** A promise with its resolve, to let a test decide when a wait ends. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => { open = resolve; });
  return { opened, open };
}

describe('job list', () => {
  test('given a queued job, when its wait ends, then it runs with progress and ends done', async () => {
    const { list, events } = recordedList();
    const wait = gate();
    const { job, done } = list.start('render', 'Render keyframe at frame 0', async (run) => {
      run.onProgress({ fraction: 0.5, message: 'ignored while queued' });
      await wait.opened;
      run.begin();
      run.onProgress({ fraction: 0.5, message: 'denoising' });
      return 'image';
    }, { keyframeId: 'k1', queued: 'waiting for the render of this keyframe in progress' });

    assert.equal(job.status, 'queued');
    assert.equal(job.message, 'waiting for the render of this keyframe in progress');
    const queued = list.get(job.id)!;
    assert.equal(queued.fraction, 0, 'a queued job has no progress');
    assert.equal(queued.etaSeconds, undefined, 'nor an ETA');
    assert.deepEqual(list.running('render').map((j) => j.id), [job.id], 'a queued render counts as rendering');
    assert.deepEqual(list.clearFinished().map((j) => j.id), [job.id], 'clearing finished jobs keeps it');

    wait.open();
    assert.equal(await done, 'image');
    assert.deepEqual(events.map((e) => e.status), ['queued', 'running', 'running', 'done']);
    assert.equal(events[1].message, undefined, 'the wait reason goes once it runs');
    // The list measures the ETA itself (one place, jobs/eta.ts): none yet from a single fraction.
    assert.deepEqual([events[2].fraction, events[2].message, events[2].etaSeconds], [0.5, 'denoising', undefined]);
    assert.equal(list.get(job.id)!.keyframeId, 'k1');
    assert.deepEqual(list.running(), []);
  });

  test('given a queued job, when it is cancelled, then it ends as cancelled and its work never runs', async () => {
    const { list, events } = recordedList();
    let ran = false;
    const { job, done } = list.start('render', 'Render keyframe at frame 0', async (run) => {
      await new Promise<void>((resolve) => run.cancel.onCancel(resolve));
      run.begin();
      ran = true;
    }, { queued: 'waiting' });

    list.cancel(job.id);
    assert.equal(await done, undefined);
    assert.equal(ran, false);
    assert.deepEqual(events.map((e) => e.status), ['queued', 'cancelled']);
    assert.equal(list.get(job.id)!.error, undefined, 'cancelling is not a failure');
    assert.deepEqual(list.running(), []);
  });

  test('given a job started without a wait, then it runs at once', async () => {
    const { list, events } = recordedList();
    const { job, done } = list.start('export', 'Export out.mp4', async (run) => { run.begin(); return 1; });
    assert.equal(job.status, 'running');
    assert.equal(job.message, undefined);
    await done;
    assert.deepEqual(events.map((e) => e.status), ['running', 'done'], 'begin on a running job changes nothing');
  });

  test('given a failed propagation and a failed render, when a later propagation is done, then only the propagation failure is marked superseded', async () => {
    const { list, events } = recordedList();
    const all = [jobTarget('p segment', '*')];
    const failed = list.start('propagate', 'Propagate', async () => { throw new Error('keyframes at frames 0, 10 have no finished image'); }, { target: all });
    await failed.done;
    const render = list.start('render', 'Render keyframe at frame 0', async () => { throw new Error('no checkpoint'); }, { keyframeId: 'k1', target: [jobTarget('p keyframe', 'k1')] });
    await render.done;
    const otherKey = list.start('render', 'Render keyframe at frame 10', async () => 'image', { keyframeId: 'k2', target: [jobTarget('p keyframe', 'k2')] });
    await otherKey.done;
    assert.equal(list.get(render.job.id)!.supersededBy, undefined, 'a render of another keyframe does not supersede it');
    const later = list.start('propagate', 'Propagate', async () => 'frames', { target: all });
    await later.done;
    assert.equal(list.get(failed.job.id)!.supersededBy, later.job.id);
    assert.equal(list.get(failed.job.id)!.status, 'failed', 'it stays a failure in the list, with its error');
    assert.ok(list.get(failed.job.id)!.error);
    assert.equal(list.get(render.job.id)!.supersededBy, undefined);
    assert.ok(events.some((e) => e.id === failed.job.id && e.supersededBy === later.job.id), 'the panel is told');
  });

  test('given failures with targets, when later jobs of the same kind are done on other targets, then none is marked superseded until its own target is done', async () => {
    const { list } = recordedList();
    const fail = async (kind: 'export' | 'import-model' | 'propagate' | 'render', target: string[]) => {
      const j = list.start(kind, kind, async () => { throw new Error('failed'); }, { target });
      await j.done;
      return j.job.id;
    };
    const succeed = async (kind: 'export' | 'import-model' | 'propagate' | 'render', target: string[]) => {
      const j = list.start(kind, kind, async () => 'ok', { target });
      await j.done;
      return j.job.id;
    };
    const superseded = (id: string) => list.get(id)!.supersededBy;
    const exportA = await fail('export', [jobTarget('export', '/a.mp4')]);
    const importX = await fail('import-model', [jobTarget('/m import', '/x.txt')]);
    const segment = await fail('propagate', [jobTarget('p segment', '0-10')]);
    const propagateAll = await fail('propagate', [jobTarget('p segment', '*')]);
    const renderTwo = await fail('render', [jobTarget('p keyframe', 'k1'), jobTarget('p keyframe', 'k2')]);
    const untargeted = await fail('export', []);

    await succeed('export', [jobTarget('export', '/b.mp4')]);
    await succeed('import-model', [jobTarget('/m import', '/y.safetensors')]);
    await succeed('propagate', [jobTarget('p segment', '10-20')]);
    await succeed('propagate', [jobTarget('other-project segment', '*')]);
    await succeed('render', [jobTarget('p keyframe', 'k1')]);
    for (const id of [exportA, importX, segment, propagateAll, renderTwo, untargeted]) assert.equal(superseded(id), undefined, `${list.get(id)!.kind} ${id}`);

    const exportedA = await succeed('export', [jobTarget('export', '/a.mp4')]);
    assert.equal(superseded(exportA), exportedA, 'the same destination done since');
    const both = await succeed('render', [jobTarget('p keyframe', 'k2'), jobTarget('p keyframe', 'k1'), jobTarget('p keyframe', 'k3')]);
    assert.equal(superseded(renderTwo), both, 'every keyframe it failed on is rendered since');
    const segmentDone = await succeed('propagate', [jobTarget('p segment', '0-10')]);
    assert.equal(superseded(segment), segmentDone);
    assert.equal(superseded(propagateAll), undefined, 'one segment done is not every segment');
    const allDone = await succeed('propagate', [jobTarget('p segment', '*')]);
    assert.equal(superseded(propagateAll), allDone);
    assert.equal(superseded(importX), undefined);
    assert.equal(superseded(untargeted), undefined);
  });
});
