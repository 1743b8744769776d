// The jobs panel as a user fills it: a model download that keeps running (a local server that sends a few
// bytes and then waits) stays on top while newer jobs finish below it, and once another project is opened
// (toolbar Open…) the first project's jobs leave the panel while the download, which belongs to no
// project, stays.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { frameXY, openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { copySampleProject } from '../helpers/fixtures';

const shots = path.join(testOutputDir, 'e2e');
const dir = tempDir('rerender-jobs-panel-');
const waiting: http.ServerResponse[] = [];
let server: http.Server;
let editor: EditorPage;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  for (const name of ['first', 'second']) {
    copySampleProject(path.join(dir, name));
  }
  // A download that never finishes: headers and a few bytes, then nothing until the test ends.
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1 << 30) });
    res.write(Buffer.alloc(1024));
    waiting.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  editor = await openEditorPage({ project: path.join(dir, 'first', 'sample.rerender'), settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, env: { HOME: dir } });
});

after(async () => {
  await editor?.close();
  for (const r of waiting) r.destroy();
  server?.close();
});

test('given a running download and newer finished jobs, when another project is opened, then the download stays on top and the first project\'s jobs are gone', async () => {
  const page = editor.page;
  const jobs = page.getByTestId('jobs');
  const decoding = () => page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('[data-testid=jobs] [data-testid=job-decode]')].every((r) => r.dataset.status === 'done'));
  await decoding(); // the copied project's frames are decoded on open
  await page.locator('nav.toolbar button[data-action="file.models"]').click();
  await page.getByLabel('Download URL').fill(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.safetensors`);
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  await jobs.locator('[data-testid=job-download-model][data-status=running]').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' }).catch(() => undefined);

  // Newer jobs that end (renders without a checkpoint fail at once), one after another, on frame 30: the
  // sample's first keyframe to render (those before it are painted).
  const at = await frameXY(page, 30, 'ruler');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="30"]');
  for (let n = 1; n <= 4; n++) {
    await page.getByTestId('preview-canvas').click();
    await page.keyboard.press('r');
    await page.waitForFunction((want) => document.querySelectorAll('[data-testid=jobs] [data-testid=job-render][data-status=failed]').length >= want, n);
  }
  const order = await jobs.locator('li.job').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-testid')}:${r.getAttribute('data-status')}`));
  assert.equal(order[0], 'job-download-model:running', `the running job is pinned on top: ${order.join(', ')}`);
  assert.ok(order.slice(1).every((o) => /:(done|failed)$/.test(o)) && order.filter((o) => o === 'job-render:failed').length === 4, order.join(', '));
  await jobs.screenshot({ path: path.join(shots, 'jobs-running-on-top.png') });

  await page.locator('nav.toolbar button[data-action="file.open"]').click();
  const picker = page.getByTestId('path-dialog');
  await picker.locator('input').first().fill(path.join(dir, 'second', 'sample.rerender'));
  await picker.getByRole('button', { name: 'OK' }).click();
  await picker.waitFor({ state: 'detached' });
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=jobs] [data-testid=job-render]').length === 0);
  await decoding();
  const after = await jobs.locator('li.job').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-testid')}:${r.getAttribute('data-status')}`));
  // Opening a copied project decodes its frames (a job of the second project): nothing else but the download.
  assert.deepEqual(after.filter((a) => !a.startsWith('job-decode')), ['job-download-model:running'], `the first project's renders are gone; the download belongs to no project: ${after.join(', ')}`);
  assert.ok(after.filter((a) => a.startsWith('job-decode')).length <= 1, 'at most the second project\'s decoding');
  await jobs.screenshot({ path: path.join(shots, 'jobs-after-open.png') });
  // Reloading asks the engine again: the first project's jobs do not come back.
  await page.reload();
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]');
  await jobs.locator('[data-testid=job-download-model]').waitFor();
  assert.equal(await jobs.locator('[data-testid=job-render]').count(), 0);
  await jobs.locator('[data-testid=job-download-model]').getByRole('button', { name: 'Cancel' }).click();
  await jobs.locator('[data-testid=job-download-model][data-status=cancelled]').waitFor();
});
