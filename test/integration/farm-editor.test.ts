// The editor on the farm, through the editor's own call handlers, a real Redis with a password and a real
// worker process: Propagate goes to the farm with the document as a snapshot (an unsaved edit is what
// the worker propagates; the file is not saved), frames equal a local run, each worker's part comes with
// the job; cancel takes the queued jobs off the farm; "this machine" runs locally.
// The farm setting: a
// malformed URL is refused with the reason and nothing is stored, the password is never shown back (the
// state says *** and whether the farm answers), editing the shown URL keeps the stored password, and
// clearing it returns jobs to this machine. The settings file that keeps the password is mode 0600.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { tempDir } from '../helpers/media';
import { redisMissing, startRedis, type TestRedis } from '../helpers/redis';
import { makeFarmProject, outputFrames, startWorker, stopWorker, type WorkerProcess } from '../helpers/farm';
import { finished } from '../helpers/editor-jobs';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { Queue } from 'bullmq';
import { bullConnection, parseRedisUrl } from '../../main/farm/connection';
import { FARM_PREFIX } from '../../main/farm/jobs';
import type { JobState } from '../../preload/api';

const missing = redisMissing();
if (missing) console.log(`# skipping the editor farm setting tests: ${missing}`);

describe('editor: the farm setting', { skip: missing }, () => {
  let redis: TestRedis, editor: Editor, settingsFile: string;
  before(async () => {
    redis = await startRedis({ password: 'hunter 2' });
    settingsFile = path.join(tempDir('rerender-farm-settings-'), 'settings.json');
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile, workerModules: workerModules() });
  });
  after(async () => { editor?.dispose(); await redis?.stop(); });

  test('given farm URLs, when set in the editor, then bad ones are refused, the password is never shown back and the farm is checked', async () => {
    const h = editor.handlers;
    assert.deepEqual(await h['farm.state']({}), { url: null }, 'no farm: jobs run on this machine');
    await assert.rejects(async () => h['farm.setUrl']({ url: 'http://farm:6379' }), /must start with redis:\/\/ or rediss:\/\//);
    await assert.rejects(async () => h['farm.setUrl']({ url: 'redis://farm:6379/x' }), /database in the farm URL must be a number/);
    assert.equal(fs.existsSync(settingsFile) ? JSON.parse(fs.readFileSync(settingsFile, 'utf8')).farmUrl : null, null, 'nothing stored');

    const set = await h['farm.setUrl']({ url: redis.url });
    assert.equal(set.reachable, true, set.problem);
    assert.equal(set.warning, undefined, 'a Redis with its append-only file on: no warning');
    assert.equal(set.url, `redis://:***@127.0.0.1:${redis.port}`);
    assert.ok(!JSON.stringify(set).includes('hunter'), 'the password is not shown back');
    // The password is in the settings file in plain text: only its owner may read the file.
    if (process.platform !== 'win32') assert.equal(fs.statSync(settingsFile).mode & 0o777, 0o600, 'the settings file is readable by its owner only');

    // The UI sends back what it shows (*** as password): the stored password is kept.
    const again = await h['farm.setUrl']({ url: set.url });
    assert.equal(again.reachable, true, again.problem);
    await assert.rejects(async () => h['farm.setUrl']({ url: 'redis://:***@other-host:6379' }), /type the password for the new server/);

    const wrong = await h['farm.setUrl']({ url: `redis://:nope@127.0.0.1:${redis.port}` });
    assert.equal(wrong.reachable, false);
    assert.match(wrong.problem!, /refused the user or password/);

    // A Redis that would lose its jobs on a restart answers, with the warning and what to change.
    const noAof = await startRedis({ appendonly: false });
    try {
      const risky = await h['farm.setUrl']({ url: noAof.url });
      assert.equal(risky.reachable, true, risky.problem);
      assert.match(risky.warning ?? '', new RegExp(`Redis at 127\\.0\\.0\\.1:${noAof.port} keeps no append-only file \\(appendonly no\\).*set "appendonly yes"`));
    } finally {
      await noAof.stop();
    }

    assert.deepEqual(await h['farm.setUrl']({ url: null }), { url: null });
  });
});

describe('editor: Propagate on the farm', { skip: missing }, () => {
  let redis: TestRedis, editor: Editor, dir: string;
  const workers: WorkerProcess[] = [];
  before(async () => {
    redis = await startRedis({ password: 'farm pass' });
    dir = tempDir('rerender-farm-editor-');
    const settingsFile = path.join(dir, 'settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ farmUrl: redis.url }));
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile, workerModules: workerModules() });
  });
  after(async () => {
    for (const w of workers) { if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL'); await w.exited; }
    await editor?.dispose();
    await redis?.stop();
  });

  test('given an unsaved edit and a farm worker, when the editor propagates, then the worker works on the document (not the saved file), the frames equal a local run and the job shows the worker\'s part', { timeout: 600_000 }, async () => {
    fs.mkdirSync(path.join(dir, 'farm'));
    const { file } = await makeFarmProject(path.join(dir, 'farm'), 12, [0, 5, 11]);
    const saved = fs.readFileSync(file, 'utf8');
    const h = editor.handlers;
    await h['project.open']({ file });
    // Unsaved: the keyframe at 5 goes, so the document has one segment 0-11 where the file has two.
    const k5 = editor.session.project().keyframes.find((k) => k.frame === 5)!;
    await h['project.edit']({ action: 'removeKeyframes', ids: [k5.id] });
    assert.equal(editor.session.state()!.dirty, true);

    // The reference: a copy of the project with the same edit, propagated here.
    const localDir = path.join(dir, 'local');
    fs.cpSync(path.join(dir, 'farm'), localDir, { recursive: true });
    const localFile = path.join(localDir, path.basename(file));
    const edited = editor.session.project();
    await propagateProject(localFile, edited);

    const w = startWorker(['--redis', redis.url, '--lock-seconds', '30']);
    workers.push(w);
    await w.waitFor(/farm worker .* on /);
    const seen: JobState[] = [];
    const off = editor.on('job.updated', (j) => { if (j.kind === 'propagate') seen.push(j); });
    const { jobId } = await h['propagate.start']({});
    const job = await finished(editor, jobId);
    off();
    assert.equal(job.status, 'done', JSON.stringify(job.error));
    assert.match(job.title, /on the farm/);
    assert.match(w.log(), /took segment 0-11 of /, 'the worker propagated the document\'s one segment, not the saved file\'s two');
    assert.equal(fs.readFileSync(file, 'utf8'), saved, 'the project file was not saved for the farm');

    const out = outputFrames(file), reference = outputFrames(localFile);
    assert.deepEqual([...out.keys()], [...reference.keys()]);
    for (const [name, bytes] of reference) assert.ok(out.get(name)!.equals(bytes), `frame ${name} is byte-identical to the local run`);

    // Each worker's part, through the job events the jobs panel gets.
    assert.equal(job.farm?.url, `redis://:***@127.0.0.1:${redis.port}`, 'the farm is named, its password hidden');
    const part = job.farm!.workers.find((p) => w.log().includes(`farm worker ${p.worker}`)) ?? job.farm!.workers[0];
    assert.ok(part, JSON.stringify(job.farm));
    assert.equal(part.done, 10, 'the worker propagated the 10 frames between the two keyframes');
    assert.equal(part.failures, 0);
    assert.ok(part.host, 'the worker\'s host is named');
    assert.ok(seen.some((j) => j.status === 'running' && j.farm?.workers.length), 'the part is shown while the job runs');
    assert.ok(!JSON.stringify(seen).includes('farm pass'), 'the password never reaches the UI');
    await stopWorker(w);
  });

  test('given no worker, when the editor\'s farm propagation is cancelled, then its queued jobs are removed; "this machine" runs it locally', { timeout: 600_000 }, async () => {
    const h = editor.handlers;
    for (const w of workers.splice(0)) { if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL'); await w.exited; }
    // Other propagation settings: every segment has new work.
    await h['project.edit']({ action: 'setPropagation', propagation: { ...editor.session.project().propagation, searchVoteIters: 3 } });
    const { jobId } = await h['propagate.start']({});
    const queue = new Queue('propagate', { connection: bullConnection(parseRedisUrl(redis.url)), prefix: FARM_PREFIX });
    try {
      while ((await queue.getJobCounts('waiting')).waiting < 1) await new Promise((r) => setTimeout(r, 100));
      await h['jobs.cancel']({ id: jobId });
      const job = await finished(editor, jobId);
      assert.equal(job.status, 'cancelled');
      assert.equal((await queue.getJobCounts('waiting')).waiting, 0, 'the queued job was taken off the farm');
    } finally {
      await queue.close();
    }
    const local = await finished(editor, (await h['propagate.start']({ on: 'local' })).jobId);
    assert.equal(local.status, 'done', JSON.stringify(local.error));
    assert.doesNotMatch(local.title, /farm/);
    assert.equal(local.farm, undefined);
  });
});
