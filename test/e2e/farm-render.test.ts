// The editor's Render all on the render farm, in Debian Chromium through `rerender serve`, against a real
// Redis with a password and a real `rerender farm worker --kinds render` process with the tiny fixture
// models: in Rerender mode and then in FRESCO mode (one job per batch), the jobs panel shows the worker's
// part, the editor commits the results to its document, and after Save the keyframes equal a local
// `rerender render --all` of a copy of the project byte for byte (images, settings keys, dependencies).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createProject } from '../../main/engine/project/create';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { openEditorPage, type EditorPage } from '../helpers/editor-page';
import { redisMissing, startRedis, type TestRedis } from '../helpers/redis';
import { assertSameRenders, fixtureModelsFolder, startWorker, stopWorker, type WorkerProcess } from '../helpers/farm';

const missing = redisMissing();
if (missing) console.log(`# skipping the farm render e2e test: ${missing}`);

const KEYS = [0, 5, 10, 15];

describe('the editor renders keyframes on the farm', { skip: missing }, () => {
  let redis: TestRedis, editor: EditorPage, worker: WorkerProcess, workerId: string;
  let file: string, local: string, models: string;
  before(async () => {
    redis = await startRedis({ password: 'e2e render farm' });
    const dir = tempDir('rerender-farm-render-e2e-');
    // The fixture models under the name the project stores (a link); kept between runs for the compiled graphs.
    models = fixtureModelsFolder('sd-tiny', 'e2e');
    fs.mkdirSync(path.join(dir, 'farm'));
    const video = makeVideo(path.join(dir, 'farm'), 'clip', { width: 192, height: 108, fps: 24, frames: 16 });
    file = path.join(dir, 'farm', 'clip.rerender');
    const p = await createProject(file, video, { size: 64 });
    await writeProjectFile(file, {
      ...setKeyframeFrames(p, KEYS), mode: 'rerender',
      models: { ...p.models, checkpoint: 'sd-tiny', controlnet: 'sd-tiny' },
      render: { ...p.render, prompt: 'an oil painting of hills', steps: 4, seed: 11 },
    });
    // The same project (same keyframe ids, decoded frames) for the local reference renders.
    fs.cpSync(path.join(dir, 'farm'), path.join(dir, 'local'), { recursive: true });
    local = path.join(dir, 'local', 'clip.rerender');
    worker = startWorker(['--redis', redis.url, '--kinds', 'render', '--models-dir', models, '--lock-seconds', '30']);
    workerId = /farm worker (\S+) on /.exec(await worker.waitFor(/farm worker .* on /))![1];
    editor = await openEditorPage({ project: file, settingsFile: path.join(dir, 'settings.json'), settings: { farmUrl: redis.url, modelsFolder: models } });
  });
  after(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) await stopWorker(worker);
    await editor?.close();
    await redis?.stop();
  });

  /** Waits until `n` render jobs are done (throws on a failed one). */
  const rendered = (n: number) => editor.page.waitForFunction((want) => {
    const jobs = [...document.querySelectorAll('[data-testid=job-render]')];
    const failed = jobs.find((j) => j.getAttribute('data-status') === 'failed');
    if (failed) throw new Error(failed.textContent ?? 'render failed');
    return jobs.filter((j) => j.getAttribute('data-status') === 'done').length >= want;
  }, n, { timeout: 600_000 });

  /** Saves the document (the results are committed to it, not to the file) and waits for the file to hold them. */
  const save = async (revision: number) => {
    await editor.page.keyboard.press('Control+S');
    for (;;) {
      const p = await readProjectFile(file).catch(() => undefined);
      if (p?.keyframes.every((k) => k.revision === revision && k.status === 'done')) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  /** The worker's row in the newest render job: its keyframes done, no failures. */
  const workerRow = async () => {
    const row = editor.page.locator('[data-testid=job-render]').first().locator(`[data-testid=farm-worker][data-worker="${workerId}"]`);
    await row.waitFor();
    return row.locator('td').allTextContents();
  };

  test('given a Rerender project, when Render all runs on the farm, then the worker renders every keyframe and the saved keyframes equal a local render --all', { timeout: 900_000 }, async () => {
    const { page } = editor;
    const runOn = page.getByTestId('run-on');
    await runOn.waitFor();
    assert.equal(await runOn.inputValue(), 'farm');
    await page.keyboard.press('Control+R');
    await page.locator('[data-testid=job-render]', { hasText: `Render ${KEYS.length} keyframes not done yet on the farm` }).waitFor();
    await rendered(1);
    const cells = await workerRow();
    assert.equal(cells[2], String(KEYS.length), `the worker's ${KEYS.length} keyframes are counted: ${cells.join(' | ')}`);
    assert.equal(cells[3], '0', 'no failures');
    assert.match((await page.locator('[data-testid=job-render]').first().textContent())!, /On the farm at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    await save(1);
    const loc = rerender(['render', local, '--all', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    await assertSameRenders(file, local);
    assert.equal((worker.log().match(/took keyframe at frame/g) ?? []).length, KEYS.length, 'each keyframe was rendered once');
  });

  test('given the project switched to FRESCO with batches of 3, when Re-render all runs on the farm, then each batch is one job and the saved keyframes equal a local FRESCO render --all', { timeout: 900_000 }, async () => {
    const { page } = editor;
    await page.keyboard.press('ArrowRight'); // off the keyframe: the inspector shows the project's method
    await page.locator('#field-mode').selectOption('fresco');
    const batch = page.locator('#field-fresco-batch');
    await batch.fill('3');
    await batch.blur();
    await page.waitForFunction(() => (document.querySelector('#field-fresco-batch') as HTMLInputElement | null)?.defaultValue === '3');
    await page.keyboard.press('Control+Shift+R');
    await page.locator('[data-testid=job-render]', { hasText: `Re-render all ${KEYS.length} keyframes on the farm` }).waitFor();
    await rendered(2);
    const cells = await workerRow();
    assert.equal(cells[2], String(KEYS.length), `the worker's ${KEYS.length} keyframes are counted: ${cells.join(' | ')}`);
    await save(2);
    const saved = await readProjectFile(file);
    assert.equal(saved.mode, 'fresco');
    assert.equal(saved.fresco?.batchSize, 3);
    const loc = rerender(['render', local, '--all', '--mode', 'fresco', '--batch-size', '3', '--models-dir', models, '--json']);
    assert.equal(loc.code, 0, loc.stderr);
    await assertSameRenders(file, local);
    const took = (worker.log().match(/took FRESCO batch of frames [\d, ]+ of/g) ?? []);
    assert.deepEqual(took, ['took FRESCO batch of frames 0, 5, 10 of', 'took FRESCO batch of frames 0, 10, 15 of']);
  });
});
