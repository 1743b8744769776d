// Load (issue 8): 50 rapid "regenerate" requests on one keyframe through the editor, with the real workers
// and the tiny fixture model: at most one render runs and one waits, every executed render lands once,
// no job is left running, the inference worker's ONNX sessions do not pile up, and one worker serves all.
import { test, describe, before, after } from 'node:test';
import { finished } from '../helpers/editor-jobs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { forkWorker, type SpawnWorker } from '../../main/engine/jobs/worker-host';
import { jobEnded, type JobState, type ProjectState } from '../../preload/api';
import { makeVideo, tempDir } from '../helpers/media';
import { SD_TINY } from '../helpers/fixtures';

const TINY_MODEL = SD_TINY;
const REQUESTS = 50;


/** Resolves once `condition` holds (checked on each project change): the session takes a render's
 *  result over from the project file shortly after the job ends. */
function until(editor: Editor, condition: () => boolean): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = editor.on('project.changed', () => { if (condition()) { off(); resolve(); } });
  });
}

async function succeeded(editor: Editor, started: Promise<{ jobId: string }> | { jobId: string }): Promise<void> {
  const job = await finished(editor, (await started).jobId);
  assert.equal(job.status, 'done', `${job.title}: ${JSON.stringify(job.error)}`);
}

describe('regenerating one keyframe under load', () => {
  let dir: string;
  let editor: Editor;
  /** Worker processes started, by worker name; and the sessions count each render reported. */
  const spawned: Record<string, number> = {};
  const sessionsAfterRender: number[] = [];

  before(async () => {
    dir = tempDir('rerender-load-regenerate-');
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ modelsFolder: path.join(dir, 'models') }));
    // The real fork, observed: how many processes start, and what the render results say.
    const spawn: SpawnWorker = (modulePath, name) => {
      spawned[name] = (spawned[name] ?? 0) + 1;
      const child = forkWorker(modulePath, name);
      child.onMessage((m) => {
        const value = (m as { type?: string; value?: { sessionsLoaded?: unknown } }).value;
        if ((m as { type?: string }).type === 'result' && typeof value?.sessionsLoaded === 'number') sessionsAfterRender.push(value.sessionsLoaded);
      });
      return child;
    };
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules(), spawn });

    await succeeded(editor, editor.handlers['models.import']({ source: TINY_MODEL }));
    const video = makeVideo(dir, 'clip', { width: 64, height: 64, frames: 6, fps: 6 });
    const opened = new Promise<ProjectState>((resolve) => { const off = editor.on('project.changed', (s) => { if (s) { off(); resolve(s); } }); });
    await succeeded(editor, editor.handlers['project.create']({ projectFile: path.join(dir, 'clip.rerender'), video, shortSide: 64 }));
    const state = await opened;
    await editor.handlers['project.edit']({ action: 'setKeyframes', frames: [0] });
    const models = await editor.handlers['models.state']({});
    const tiny = models.models.find((m) => m.name === path.basename(TINY_MODEL));
    assert.ok(tiny, 'the tiny model is installed');
    await editor.handlers['project.edit']({ action: 'setModels', models: { ...state.project.models, checkpoint: path.relative(models.folder, tiny.path) } });
    await editor.handlers['project.edit']({ action: 'setRenderDefaults', render: { ...state.project.render, steps: 2, prompt: 'a test card in watercolour' } });
  });
  after(() => editor.dispose());

  const keyframe = () => editor.session.state()!.project.keyframes[0];
  const status = (jobId: string) => (editor.handlers['jobs.list']({}) as JobState[]).find((j) => j.id === jobId)?.status;

  test(`given a rendered keyframe, when regenerate is asked ${REQUESTS} times at once, then one render runs, one waits, and both land`, { timeout: 10 * 60_000 }, async () => {
    await succeeded(editor, editor.handlers['keyframe.render']({ id: keyframe().id, newSeed: false }));
    await until(editor, () => keyframe().revision === 1);

    const ids: string[] = [];
    for (let i = 0; i < REQUESTS; i++) ids.push((await editor.handlers['keyframe.render']({ id: keyframe().id, newSeed: true })).jobId);
    const distinct = [...new Set(ids)];
    assert.equal(distinct.length, 2, 'the first request runs; every later one joins the single waiting request');
    assert.ok(ids.slice(1).every((id) => id === distinct[1]));
    assert.equal(status(distinct[1]), 'queued', 'the waiting request shows as queued, not running');
    assert.equal(keyframe().status, 'rendering');

    for (const id of distinct) assert.equal((await finished(editor, id)).status, 'done');
    await until(editor, () => keyframe().revision >= 3);

    const k = keyframe();
    assert.equal(k.revision, 3, 'rendered once per executed request (1 + 2), not once per click');
    assert.equal(k.status, 'done');
    assert.equal(k.history.length, 2, 'each earlier image is kept once in the history');
    const jobs = editor.handlers['jobs.list']({}) as JobState[];
    assert.deepEqual(jobs.filter((j) => !jobEnded(j)), [], 'no job is left running or queued');
    assert.equal(jobs.filter((j) => j.kind === 'render').length, 3);
  });

  test('given the renders above, then one inference worker served them and its sessions did not pile up', async () => {
    assert.equal(spawned.inference, 1, 'one inference worker process');
    assert.equal(sessionsAfterRender.length, 3);
    assert.ok(sessionsAfterRender[0] > 0, 'the render loaded sessions');
    assert.deepEqual(sessionsAfterRender, sessionsAfterRender.map(() => sessionsAfterRender[0]), `sessions after each render: ${sessionsAfterRender.join(', ')}`);
  });

  test('given a render running and one waiting, when the waiting one is cancelled, then it ends at once and the running one still lands', { timeout: 5 * 60_000 }, async () => {
    const id = keyframe().id;
    const running = (await editor.handlers['keyframe.render']({ id, newSeed: true })).jobId;
    const waiting = (await editor.handlers['keyframe.render']({ id, newSeed: true })).jobId;
    assert.notEqual(waiting, running);
    assert.equal(status(waiting), 'queued');
    await editor.handlers['jobs.cancel']({ id: waiting });
    assert.equal((await finished(editor, waiting)).status, 'cancelled');
    assert.equal(status(running), 'running', 'the running render is not affected');
    assert.equal((await finished(editor, running)).status, 'done');
    await until(editor, () => keyframe().revision >= 4);
    assert.equal(keyframe().revision, 4, 'the cancelled request did not render');
    assert.equal(keyframe().status, 'done');
  });
});
