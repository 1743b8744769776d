// The export dialog's proposed destination on a fresh copy of the sample (its source video sample.mp4 lies
// beside the project): never the source or a file that exists, and naming the source as the destination is
// refused as the source before any "Replace it?" question (the engine checks it first).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { exportDestination, openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { copySampleProject } from '../helpers/fixtures';

const shots = path.join(testOutputDir, 'e2e');
const dir = tempDir('rerender-export-dest-');
const project = path.join(dir, 'sample.rerender');
let editor: EditorPage;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  copySampleProject(dir);
  // An earlier export under the first proposed name: the dialog proposes the next number.
  fs.writeFileSync(path.join(dir, 'sample (rerendered).mp4'), 'an earlier export');
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: {}, env: { HOME: dir } });
});

after(async () => {
  await editor?.close();
});

test('given the sample project, when the export dialog opens, then it proposes a new name, and the source as destination is refused without a replace question', async () => {
  const page = editor.page;
  const questions: string[] = [];
  page.on('dialog', (d) => { questions.push(d.message()); void d.dismiss(); });
  const sourceBefore = fs.readFileSync(path.join(dir, 'sample.mp4'));

  await page.keyboard.press('Control+e');
  const dialog = page.getByTestId('export-dialog');
  await dialog.waitFor();
  const proposed = path.join(dir, 'sample (rerendered 2).mp4');
  assert.equal(await exportDestination(page, proposed), proposed, 'neither the source sample.mp4 nor the earlier export');
  await dialog.getByLabel('Format').selectOption('webm');
  const webm = path.join(dir, 'sample (rerendered).webm');
  assert.equal(await exportDestination(page, webm), webm, 'the proposal follows the format');
  await dialog.getByLabel('Format').selectOption('mp4');
  assert.equal(await exportDestination(page, proposed), proposed);

  await dialog.getByLabel('Destination').fill(path.join(dir, 'sample.mp4'));
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  const error = page.getByTestId('error');
  await error.waitFor();
  assert.match((await error.textContent()) ?? '', /that is the project's source video; export under another name/);
  await page.screenshot({ path: path.join(shots, 'export-source-refused.png') });
  assert.deepEqual(questions, [], 'no "already exists. Replace it?" question for the source');
  assert.equal(await page.getByTestId('export-replace-dialog').count(), 0, 'nor the editor\'s own "Replace the earlier export?" dialog');
  assert.equal(await page.locator('[data-testid=export-status]').count(), 0, 'no export job started');
  assert.ok(fs.readFileSync(path.join(dir, 'sample.mp4')).equals(sourceBefore), 'the source is untouched');
});
