// The cache limit in the editor's settings (the model manager, beside the farm field), in Debian
// Chromium through `rerender serve`: the field shows the app setting, refuses a value outside 1…10000 GB
// before sending it, and a saved value is kept in the settings file and shown again after a reload.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { openEditorPage, type EditorPage } from '../helpers/editor-page';

describe('the cache limit setting in the browser editor', () => {
  let dir: string;
  let editor: EditorPage;
  before(async () => {
    dir = tempDir('rerender-e2e-cache-');
    editor = await openEditorPage({ settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, env: { HOME: dir } });
  });
  after(async () => { await editor?.close(); });

  test('given the model manager, when a cache limit is typed, then one outside the range cannot be saved and one inside is kept', async () => {
    const { page } = editor;
    const open = async () => {
      await page.locator('nav.toolbar button[data-action="file.models"]').click();
      return page.getByTestId('models-dialog');
    };
    let models = await open();
    const field = () => models.getByLabel('Cache limit (GB)');
    await models.getByTestId('cache-status').waitFor(); // the setting has arrived from the engine (the field is empty until then)
    assert.equal(await field().inputValue(), '20', 'the default');
    const save = () => models.getByRole('button', { name: 'Set limit' });
    assert.equal(await save().isDisabled(), true, 'nothing changed yet');
    await field().fill('0');
    await models.getByTestId('cache-status').filter({ hasText: 'the limit is from 1 to 10000 GB' }).waitFor();
    assert.equal(await save().isDisabled(), true);
    await field().fill('20000');
    assert.equal(await save().isDisabled(), true);
    await field().fill('150');
    await save().click();
    await models.getByTestId('cache-status').filter({ hasText: 'over 150 GB' }).waitFor();
    assert.equal(await save().isDisabled(), true, 'saved: the same value again is no change');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')).cacheLimitGb, 150);

    await page.reload();
    models = await open();
    await models.getByTestId('cache-status').filter({ hasText: 'over 150 GB' }).waitFor();
    assert.equal(await field().inputValue(), '150');
    if (process.env.RR_SCREENSHOTS) await models.screenshot({ path: path.join(process.env.RR_SCREENSHOTS, 'cache-setting.png') });
  });
});
