// Keyframe rendering on the render farm, on a real Redis with real worker processes and the tiny fixture
// models: `render --all --farm` gives the same images as a local `render --all` byte for byte (the engine
// is deterministic), the anchor first and each later keyframe after the one before it; independent
// keyframes spread over the workers; FRESCO batches are one job each, queued at once; a worker without models says so and takes no render jobs, and a
// job whose models no render worker has is reported by the submitter instead of waiting for ever. Nothing
// lost: a render worker killed with SIGKILL mid-keyframe hands the job (after its lock) to another, and
// Redis restarted (append-only file) mid-render keeps every submitted job; the images still equal a local run.
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import type { Project } from '../../preload/project-schema';
import { tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { redisMissing, startRedis, type TestRedis } from '../helpers/redis';
import { assertSameRenders, fixtureModelsFolder, runCli, startWorker, stopWorker, type WorkerProcess } from '../helpers/farm';
import { Queue } from 'bullmq';
import { bullConnection, parseRedisUrl } from '../../main/farm/connection';
import { FARM_PREFIX } from '../../main/farm/jobs';
import { farmStatus } from '../../main/farm/farm-status';
import { writeSceneProject } from './keyframe-render-scene';
import { defaultFrescoSettings } from '../../main/engine/fresco/settings';

const missing = redisMissing();
if (missing) console.log(`# skipping the farm render tests: ${missing}`);

const LONG = { timeout: 900_000 };
// No test in this block kills a worker, so the lock is long: at BullMQ's usual 30 s a FRESCO batch on a
// machine at load 25-30 missed a renewal and was taken for stalled and rendered by both workers (same bytes,
// but the test counts each batch once). The test that kills a worker sets its own short lock.
const LOCK = ['--lock-seconds', '180'];


/** The same scene project twice (farm/ and local/), its models named relative to the models folder. */
async function twoProjects(mode: Project['mode'], keys: number[], change: (p: Project) => Project = (p) => p): Promise<{ dir: string; farm: string; local: string }> {
  const dir = tempDir('rerender-farm-render-');
  const farm = path.join(dir, 'farm', 'pan.rerender'), local = path.join(dir, 'local', 'pan.rerender');
  for (const f of [farm, local]) {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    await writeSceneProject(f, { checkpoint: 'sd-tiny', controlnet: 'sd-tiny' }, mode, keys[keys.length - 1] + 1, keys);
    await writeProjectFile(f, change(await readProjectFile(f)));
  }
  return { dir, farm, local };
}

describe('render farm: keyframes', { skip: missing }, () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  beforeEach(async () => { redis = await startRedis(); });
  afterEach(async () => {
    for (const w of workers.splice(0)) { if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL'); await w.exited; }
    await redis?.stop();
  });
  const worker = (args: string[]) => {
    const w = startWorker(['--redis', redis.url, ...LOCK, ...args]);
    workers.push(w);
    return w;
  };

  test('given two render workers, when `render --all --farm` runs in Rerender mode, then the keyframes render in order and equal a local render --all byte for byte', LONG, async () => {
    const models = fixtureModelsFolder('sd-tiny');
    const { farm, local } = await twoProjects('rerender', [0, 3, 6]);
    const loc = rerender(['render', local, '--all', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    const ws = [worker(['--kinds', 'propagate,render', '--models-dir', models]), worker(['--kinds', 'propagate,render', '--models-dir', models])];
    for (const w of ws) {
      const line = await w.waitFor(/render jobs run on /);
      assert.match(line, /render jobs run on cpu/, 'the worker says which execution provider renders (CPU on this machine)');
    }
    const status = rerender(['farm', 'status', '--redis', redis.url, '--json']).json();
    assert.ok(status.workers.every((w: { kinds: string[]; renderProvider?: string }) => w.kinds.includes('render') && w.renderProvider), 'farm status lists them as render workers');
    const r = rerender(['render', farm, '--all', '--farm', redis.url, '--models-dir', models, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rendering: \d+%/, 'progress is printed like a local render');
    const out = r.json();
    assert.deepEqual(out.rendered.map((x: { frame: number }) => x.frame), [0, 3, 6]);
    assert.equal(out.provider, 'cpu');
    await assertSameRenders(farm, local);
    // The order the method needs: no later keyframe was taken before the one before it had finished.
    const events = ws.flatMap((w) => w.log().split('\n')).filter((l) => /(took|finished) keyframe at frame/.test(l)).sort();
    const first = (what: 'took' | 'finished', frame: number) => events.findIndex((l) => l.includes(`${what} keyframe at frame ${frame} `) || l.includes(`${what} keyframe at frame ${frame}:`));
    for (const [before, after] of [[0, 3], [3, 6]]) {
      assert.ok(first('finished', before) >= 0 && first('finished', before) < first('took', after), `keyframe ${after} was taken after keyframe ${before} finished:\n${events.join('\n')}`);
    }
    assert.ok(first('finished', 6) > first('took', 6), events.join('\n'));
    await Promise.all(ws.map(stopWorker));
  });

  test('given independent keyframes and two workers, when they render on the farm, then both workers take jobs and the images equal a local render', LONG, async () => {
    const models = fixtureModelsFolder('sd-tiny');
    const { farm, local } = await twoProjects('independent', [0, 2, 4, 6]);
    const loc = rerender(['render', local, '--all', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    const ws = [worker(['--kinds', 'render', '--models-dir', models]), worker(['--kinds', 'render', '--models-dir', models])];
    await Promise.all(ws.map((w) => w.waitFor(/farm worker .* on /)));
    const r = rerender(['render', farm, '--all', '--farm', redis.url, '--models-dir', models, '--json']);
    assert.equal(r.code, 0, r.stderr);
    await assertSameRenders(farm, local);
    const took = ws.map((w) => (w.log().match(/took keyframe/g) ?? []).length);
    assert.equal(took[0] + took[1], 4, 'each keyframe was rendered once');
    await Promise.all(ws.map(stopWorker));
  });

  test('given a FRESCO project and two render workers, when `render --all --farm` runs, then each batch is one job, all queued at once, and the keyframes equal a local render --all byte for byte', LONG, async () => {
    const models = fixtureModelsFolder('sd-tiny');
    // Five keyframes in batches of 3: [0, 2, 4], then [0, 4, 6] and [0, 6, 7] (the first and the previous
    // batch's last again, their new images discarded). Colour preservation on: every job renders the
    // colour reference from the first keyframe before its batch, as the local run does once.
    const { farm, local } = await twoProjects('fresco', [0, 2, 4, 6, 7], (p) => ({ ...p, render: { ...p.render, colorPreservation: true }, fresco: { ...defaultFrescoSettings(), batchSize: 3 } }));
    const loc = rerender(['render', local, '--all', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    assert.equal(loc.json().fresco.batches.length, 3);
    const queue = new Queue('render', { connection: bullConnection(parseRedisUrl(redis.url)), prefix: FARM_PREFIX });
    queue.on('error', () => undefined);
    let ws: WorkerProcess[] = [];
    try {
      const submit = runCli(['render', farm, '--all', '--farm', redis.url, '--models-dir', models, '--json']);
      // Nothing orders the batches: with no worker yet, all three wait in the queue.
      let ended: { code: number; stderr: string } | undefined;
      void submit.done.then((r) => { ended = r; });
      while ((await queue.getJobCounts('waiting')).waiting < 3) {
        assert.equal(ended, undefined, `the submitter ended before queueing the three batches: ${ended?.stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      ws = [worker(['--kinds', 'render', '--models-dir', models]), worker(['--kinds', 'render', '--models-dir', models])];
      // `farm status` names a running batch by its frames.
      let running: string[] = [];
      while (!running.length && !ended) {
        running = (await farmStatus(parseRedisUrl(redis.url))).running.map((x) => x.segment);
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.ok(running.length && running.every((x) => /^FRESCO batch of frames (0, 2, 4|0, 4, 6|0, 6, 7)$/.test(x)), `farm status lists the running batches: ${running.join('; ')}`);
      const r = await submit.done;
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
      assert.deepEqual(out.rendered.map((x: { frame: number }) => x.frame).sort((a: number, b: number) => a - b), [0, 2, 4, 6, 7]);
      assert.equal(out.fresco.batches.length, 3, "the workers' batch reports come back");
    } finally {
      await queue.close();
    }
    await assertSameRenders(farm, local);
    const took = ws.flatMap((w) => w.log().match(/took FRESCO batch of frames [\d, ]+ of/g) ?? []).sort();
    assert.deepEqual(took, ['took FRESCO batch of frames 0, 2, 4 of', 'took FRESCO batch of frames 0, 4, 6 of', 'took FRESCO batch of frames 0, 6, 7 of'], 'each batch was rendered once');
    const p = await readProjectFile(farm);
    assert.ok(p.keyframes.every((k) => k.revision === 1), 'each keyframe got one image (the context renders were discarded)');
    await Promise.all(ws.map(stopWorker));
  });

  test('given workers without the models, then one without a checkpoint takes no render jobs and says why, and a job whose models no render worker has is reported by the submitter', LONG, async () => {
    const empty = tempDir('rerender-farm-no-models-');
    const noModels = worker(['--kinds', 'propagate,render', '--models-dir', empty]);
    const refused = await noModels.waitFor(/not taking render jobs/);
    assert.match(refused, new RegExp(`no usable Stable Diffusion checkpoint in the models folder ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await noModels.waitFor(/farm worker .* kinds propagate,/);
    const status = rerender(['farm', 'status', '--redis', redis.url, '--json']).json();
    assert.deepEqual(status.workers[0].kinds, ['propagate']);
    assert.match(status.workers[0].renderRefused, /no usable Stable Diffusion checkpoint/);
    const renderOnly = rerender(['farm', 'worker', '--redis', redis.url, '--kinds', 'render', '--models-dir', empty]);
    assert.equal(renderOnly.code, 1, 'a worker asked only to render, that cannot, stops at once');
    assert.match(renderOnly.stderr, /this machine cannot take render jobs: no usable Stable Diffusion checkpoint/);

    // A render worker whose models folder holds a checkpoint, but not the one the project names.
    const other = fixtureModelsFolder('other-sd');
    const w = worker(['--kinds', 'render', '--models-dir', other]);
    await w.waitFor(/farm worker .* on /);
    const { farm } = await twoProjects('rerender', [0, 3]);
    const before = fs.readFileSync(farm, 'utf8');
    const submit = runCli(['render', farm, '--all', '--farm', redis.url, '--models-dir', fixtureModelsFolder('sd-tiny')]);
    const r = await submit.done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no worker on the farm can render the keyframe at frame 0: .*checkpoint sd-tiny is not on this worker \(looked for .*other-sd/);
    assert.match(w.log(), /cannot render the keyframe at frame 0 of .*: checkpoint sd-tiny is not on this worker/);
    const after = await readProjectFile(farm);
    assert.ok(after.keyframes.every((k) => !k.image), 'nothing was rendered');
    assert.equal(JSON.parse(fs.readFileSync(farm, 'utf8')).keyframes.length, JSON.parse(before).keyframes.length);
  });
});

describe('render farm: keyframes, nothing lost', { skip: missing }, () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  beforeEach(async () => { redis = await startRedis(); });
  afterEach(async () => {
    for (const w of workers.splice(0)) { if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL'); await w.exited; }
    await redis?.stop();
  });
  // A killed worker's job goes to another once its lock runs out: short here. On a loaded machine a busy
  // render may also be taken as stalled and rendered twice; the bytes are the same either way.
  const worker = (models: string, lockSeconds: string) => {
    const w = startWorker(['--redis', redis.url, '--lock-seconds', lockSeconds, '--kinds', 'render', '--models-dir', models]);
    workers.push(w);
    return w;
  };

  test('given two render workers, when the one rendering the anchor is killed with SIGKILL, then the other renders it and the keyframes equal a local render --all', LONG, async () => {
    const models = fixtureModelsFolder('sd-tiny');
    const { farm, local } = await twoProjects('rerender', [0, 3]);
    const loc = rerender(['render', local, '--all', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    const a = worker(models, '6'), b = worker(models, '6');
    await Promise.all([a, b].map((w) => w.waitFor(/farm worker .* on /)));
    const submit = runCli(['render', farm, '--all', '--farm', redis.url, '--models-dir', models, '--json']);
    const took = await Promise.race([a, b].map((w) => w.waitFor(/took keyframe at frame 0 /).then(() => w)));
    took.child.kill('SIGKILL'); // mid-keyframe: it has just started the anchor's sampler
    await took.exited;
    const other = took === a ? b : a;
    const r = await submit.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(other.log(), /took keyframe at frame 0 of .*\(attempt [2-9]\)/, `the killed worker's job went to the other worker:\n${other.log()}`);
    assert.match(other.log(), /finished keyframe at frame 3/);
    await assertSameRenders(farm, local);
    await stopWorker(other);
  });

  test('given render jobs queued and Redis restarted (before and while a worker renders), then no job is lost and the keyframes equal a local render --all', LONG, async () => {
    const models = fixtureModelsFolder('sd-tiny');
    const { farm, local } = await twoProjects('rerender', [0, 3]);
    const loc = rerender(['render', local, '--all', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    const queue = new Queue('render', { connection: bullConnection(parseRedisUrl(redis.url)), prefix: FARM_PREFIX });
    queue.on('error', () => undefined);
    try {
      const submit = runCli(['render', farm, '--all', '--farm', redis.url, '--models-dir', models, '--json']);
      // No worker yet: the anchor's job waits (the later keyframe is queued once the anchor is done).
      while ((await queue.getJobCounts('waiting')).waiting < 1) await new Promise((res) => setTimeout(res, 100));
      await redis.restart();
      assert.equal((await queue.getJobCounts('waiting')).waiting, 1, 'the queued render survives the restart (append-only file)');
      const w = worker(models, '30');
      await w.waitFor(/took keyframe at frame 0 /);
      await redis.restart(); // and once more while the worker renders
      const r = await submit.done;
      assert.equal(r.code, 0, r.stderr);
      await assertSameRenders(farm, local);
      assert.equal((w.log().match(/took keyframe at frame 3 /g) ?? []).length, 1, 'the later keyframe was queued and rendered once');
      await stopWorker(w);
    } finally {
      await queue.close();
    }
  });
});
