// The editor's farm setting in Debian Chromium through `rerender serve`, against a real Redis with a
// password: the model manager's Render farm field saves the URL, says the farm answers, and shows the
// password only as ***; a wrong URL is refused with the reason; a Redis without its append-only file is warned about.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { tempDir } from '../helpers/media';
import { openEditorPage, type EditorPage } from '../helpers/editor-page';
import { redisMissing, startRedis, type TestRedis } from '../helpers/redis';

const missing = redisMissing();
if (missing) console.log(`# skipping the farm setting e2e test: ${missing}`);

describe('the farm setting in the browser editor', { skip: missing }, () => {
  let home: string, editor: EditorPage, page: Page, redis: TestRedis;
  before(async () => {
    redis = await startRedis({ password: 'hunter 2' });
    home = tempDir('rerender-farm-home-');
    // The first test loads the page itself.
    editor = await openEditorPage({ settingsFile: path.join(home, 'settings.json'), settings: { modelsFolder: path.join(home, 'models') }, env: { HOME: home }, noGoto: true });
    page = editor.page;
  });
  after(async () => { await editor?.close(); await redis?.stop(); });

  test('given the model manager, when a farm URL with a password is saved, then the farm answers and the password is shown only as ***; a Redis without its append-only file is warned about', async () => {
    await page.goto(editor.serve.url);
    await page.locator('nav.toolbar button[data-action="file.models"]').click();
    const models = page.getByTestId('models-dialog');
    const field = models.getByLabel('Farm URL');
    await field.fill(redis.url);
    await models.getByRole('button', { name: 'Save' }).click();
    await models.getByTestId('farm-status').filter({ hasText: 'the farm answers' }).waitFor();
    assert.equal(await field.inputValue(), `redis://:***@127.0.0.1:${redis.port}`);
    assert.ok(!(await models.textContent())!.includes('hunter'), 'the password is not on the page');
    await field.fill('http://nowhere');
    await models.getByRole('button', { name: 'Save' }).click();
    await page.locator('footer.status').filter({ hasText: /must start with redis:\/\// }).waitFor();
    // A Redis without its append-only file answers, and the field warns that it can lose the jobs.
    const noAof = await startRedis({ appendonly: false });
    try {
      await field.fill(noAof.url);
      await models.getByRole('button', { name: 'Save' }).click();
      const status = models.getByTestId('farm-status').filter({ hasText: 'the farm answers; warning: ' });
      await status.waitFor();
      assert.match((await status.textContent())!, /keeps no append-only file \(appendonly no\): jobs submitted since its last snapshot are lost if it restarts/);
      assert.equal(await status.getAttribute('role'), 'alert');
    } finally {
      await noAof.stop();
    }
  });
});
