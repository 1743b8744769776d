// The model manager on an empty models folder, in Debian Chromium through `rerender serve`: instead of an
// empty table it says what to bring (a checkpoint, the tokenizer folder) and which execution providers
// this build has; once a model is in the folder, Refresh lists it and the hint goes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { SD_TINY } from '../helpers/fixtures';

const shots = path.join(testOutputDir, 'e2e');
let dir: string;
let editor: EditorPage | undefined;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-models-empty-');
  fs.mkdirSync(path.join(dir, 'models'));
  editor = await openEditorPage({ settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given an empty models folder, when the model manager opens, then it says what to bring and which execution providers exist', async () => {
  const page = editor!.page;
  await page.locator('nav.toolbar button[data-action="file.models"]').click();
  const models = page.getByTestId('models-dialog');
  const empty = models.getByTestId('models-empty');
  await empty.waitFor();
  const text = await empty.textContent() ?? '';
  assert.match(text, /No models in this folder yet/);
  assert.match(text, /A checkpoint.*\.safetensors.*diffusers folder/s);
  assert.match(text, /The tokenizer folder.*vocab\.json.*merges\.txt/s);
  const providers = await models.getByTestId('models-empty-providers').textContent() ?? '';
  assert.match(providers, /^Execution providers: on this machine [^;]*\bcpu\b/, providers);
  // The providers named are the ones the select offers.
  const options = (await models.getByLabel('Execution provider').locator('option').allTextContents()).filter((o) => !/automatic/.test(o)).map((o) => o.replace(/ — not (in this build|available on this machine)$/, ''));
  for (const name of options) assert.ok(providers.includes(name), `${name} is named`);
  assert.equal(await models.locator('table.models').count(), 0, 'no empty table');
  await models.screenshot({ path: path.join(shots, 'models-empty.png') });

  // A model put in the folder: Refresh lists it and the hint goes.
  fs.cpSync(path.join(SD_TINY, 'tokenizer'), path.join(dir, 'models', 'tokenizer'), { recursive: true });
  await models.getByRole('button', { name: 'Refresh' }).click();
  await models.locator('table.models tr[data-model="tokenizer"]').waitFor();
  assert.equal(await empty.count(), 0);
  await models.getByRole('button', { name: 'Close' }).click();
});
