// The editor on the render farm in Debian Chromium through `rerender serve`, against a real Redis with a
// password and a real `rerender farm worker` process: with a farm URL in the settings the toolbar offers
// "Run on: the farm / this machine"; Propagate goes to the farm, the jobs panel shows the worker's part
// (screenshot), and the frames equal a local run byte for byte; Cancel in the jobs panel takes the
// queued jobs off the farm.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { readProjectFile } from '../../main/engine/project/project-file';
import { bullConnection, parseRedisUrl } from '../../main/farm/connection';
import { FARM_PREFIX } from '../../main/farm/jobs';
import { tempDir } from '../helpers/media';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { redisMissing, startRedis, type TestRedis } from '../helpers/redis';
import { makeFarmProject, outputFrames, startWorker, stopWorker, type WorkerProcess } from '../helpers/farm';

const missing = redisMissing();
if (missing) console.log(`# skipping the farm propagate e2e test: ${missing}`);

const shots = path.join(testOutputDir, 'e2e');

describe('the editor propagates on the farm', { skip: missing }, () => {
  let redis: TestRedis, editor: EditorPage, queue: Queue, file: string, reference: Map<string, Buffer>;
  const workers: WorkerProcess[] = [];
  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    redis = await startRedis({ password: 'e2e farm' });
    const dir = tempDir('rerender-farm-e2e-');
    fs.mkdirSync(path.join(dir, 'farm'));
    ({ file } = await makeFarmProject(path.join(dir, 'farm'), 16, [0, 8, 15]));
    const localDir = path.join(dir, 'local');
    fs.cpSync(path.join(dir, 'farm'), localDir, { recursive: true });
    const localFile = path.join(localDir, path.basename(file));
    await propagateProject(localFile, await readProjectFile(localFile));
    reference = outputFrames(localFile);
    editor = await openEditorPage({ project: file, settingsFile: path.join(dir, 'settings.json'), settings: { farmUrl: redis.url } });
    queue = new Queue('propagate', { connection: bullConnection(parseRedisUrl(redis.url)), prefix: FARM_PREFIX });
    queue.on('error', () => undefined);
  });
  after(async () => {
    for (const w of workers) { if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL'); await w.exited; }
    await queue?.close();
    await editor?.close();
    await redis?.stop();
  });

  const newestPropagate = () => editor.page.locator('[data-testid=job-propagate]').first();

  test('given a farm URL and no worker yet, when Propagate is cancelled in the jobs panel, then its jobs are taken off the farm', { timeout: 600_000 }, async () => {
    const { page } = editor;
    const runOn = page.getByTestId('run-on');
    await runOn.waitFor();
    assert.equal(await runOn.inputValue(), 'farm', 'the farm is the default when one is set');
    await page.keyboard.press('p');
    const job = newestPropagate();
    await job.getByTestId('job-farm').filter({ hasText: 'no worker yet' }).waitFor();
    assert.match((await job.textContent())!, /Propagate all keyframes on the farm/);
    assert.ok(!(await page.content()).includes('e2e farm'), 'the password is not on the page');
    while ((await queue.getJobCounts('waiting')).waiting < 2) await new Promise((r) => setTimeout(r, 100));
    await job.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-testid=job-propagate][data-status=cancelled]').waitFor();
    assert.equal((await queue.getJobCounts('waiting')).waiting, 0, 'the queued segments were removed from the farm');
  });

  test('given one farm worker, when Propagate runs, then the jobs panel shows the worker\'s part and the frames equal a local run byte for byte', { timeout: 600_000 }, async () => {
    const { page } = editor;
    const w = startWorker(['--redis', redis.url, '--lock-seconds', '30']);
    workers.push(w);
    const line = await w.waitFor(/farm worker .* on /);
    const id = /farm worker (\S+) on /.exec(line)![1];
    await page.keyboard.press('p');
    const row = page.locator(`[data-testid=farm-worker][data-worker="${id}"]`).first();
    await row.waitFor();
    await page.waitForFunction(() => {
      const job = document.querySelector('[data-testid=job-propagate]');
      if (job?.getAttribute('data-status') === 'failed') throw new Error(job.textContent ?? 'propagation failed');
      return job?.getAttribute('data-status') === 'done';
    }, undefined, { timeout: 300_000 });
    await page.getByTestId('jobs').screenshot({ path: path.join(shots, 'farm-jobs-panel.png') });
    await page.locator('nav.toolbar').screenshot({ path: path.join(shots, 'farm-toolbar.png') });
    const cells = await row.locator('td').allTextContents();
    assert.match(cells[0], new RegExp(id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the worker is named');
    const propagated = 16 - 3; // every frame but the three keyframes
    assert.equal(reference.size, propagated, 'the local run wrote every propagated frame');
    assert.equal(cells[2], String(propagated), `the worker's ${propagated} frames are counted: ${cells.join(' | ')}`);
    assert.equal(cells[3], '0', 'no failures');
    assert.match((await newestPropagate().textContent())!, /On the farm at redis:\/\/:\*\*\*@127\.0\.0\.1/);

    const out = outputFrames(file);
    assert.deepEqual([...out.keys()], [...reference.keys()], 'the same frames are output');
    for (const [name, bytes] of reference) assert.ok(out.get(name)!.equals(bytes), `frame ${name} is byte-identical to the local run`);
    await stopWorker(w);
  });
});
