// Unsaved changes are never dropped without asking (issue 13 item 2), in Debian Chromium through
// `rerender serve`: closing the project (× or Ctrl+W), Open… and New… ask Save / Don't save / Cancel;
// Cancel keeps the edit, Save writes it, Don't save leaves the file as it was (and no autosave offers the
// edit back); leaving the page (closing the tab, reloading) asks through the browser's own beforeunload prompt.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { readProjectFile, autosavePath } from '../../main/engine/project/project-file';

const shots = path.join(testOutputDir, 'e2e-unsaved');

const keyframes = async (page: Page) => Number(/(\d+) keyframes/.exec((await page.getByTestId('status-frame').textContent()) ?? '')![1]);
const dirtyTitle = async (page: Page) => /•/.test((await page.getByTestId('title').textContent()) ?? '');

/** Adds a keyframe at the next free frame after the playhead (an undoable, unsaved edit). */
async function addKeyframe(page: Page): Promise<void> {
  const before = await keyframes(page);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('k');
  await page.waitForFunction((n) => new RegExp(`· ${n} keyframes`).test(document.querySelector('[data-testid=status-frame]')?.textContent ?? ''), before + 1);
  await page.waitForFunction(() => /•/.test(document.querySelector('[data-testid=title]')?.textContent ?? ''));
}

describe('unsaved changes in the browser editor (serve mode)', () => {
  let dir: string;
  let file: string;
  let editor: EditorPage;
  let page: Page;

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('rerender-e2e-unsaved-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 30, fps: 24 });
    file = path.join(dir, 'clip.rerender');
    const made = rerender(['new', file, '--video', video, '--short-side', '64', '--json']);
    assert.equal(made.code, 0, made.stderr);
    editor = await openEditorPage({ project: file, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, env: { HOME: dir } });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given an unsaved edit, when the project is closed with ×, then the editor asks; Cancel keeps the project open with the edit', async () => {
    const saved = fs.readFileSync(file, 'utf8');
    await addKeyframe(page);
    const count = await keyframes(page);
    await page.locator('button[data-action="file.close"]').click();
    const prompt = page.getByTestId('unsaved-dialog');
    await prompt.waitFor();
    assert.match(await prompt.textContent() ?? '', /Save the changes to clip before closing it\?/);
    await page.screenshot({ path: path.join(shots, 'unsaved-prompt.png') });
    await prompt.getByRole('button', { name: 'Cancel' }).click();
    await prompt.waitFor({ state: 'detached' });
    assert.equal(await keyframes(page), count, 'the edit is still there');
    assert.equal(await dirtyTitle(page), true);
    assert.equal(await page.getByTestId('start-screen').count(), 0, 'the project is still open');
    assert.equal(fs.readFileSync(file, 'utf8'), saved, 'nothing was saved');
  });

  test('given an unsaved edit, when the user leaves the page, then the browser asks before leaving; staying keeps the edit', async () => {
    const count = await keyframes(page);
    const asked = new Promise<string>((resolve) => page.once('dialog', (d) => { resolve(d.type()); void d.dismiss(); }));
    // Closing the tab and reloading both ask through beforeunload; this Chromium's headless mode shows the
    // prompt for a reload (page.close({ runBeforeUnload }) closes without one), so the reload stands in.
    void page.reload({ timeout: 15_000 }).catch(() => undefined);
    assert.equal(await asked, 'beforeunload');
    assert.equal(page.isClosed(), false, 'staying on the page keeps it open');
    assert.equal(await keyframes(page), count);
    assert.equal(await dirtyTitle(page), true);
  });

  test('given an unsaved edit, when Open… is chosen and the user saves, then the file holds the edit before the file chooser opens', async () => {
    const count = await keyframes(page);
    await page.locator('nav.toolbar button[data-action="file.open"]').click();
    const prompt = page.getByTestId('unsaved-dialog');
    await prompt.waitFor();
    assert.match(await prompt.textContent() ?? '', /before opening another project/);
    await prompt.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByTestId('path-dialog').waitFor();
    assert.equal((await readProjectFile(file)).keyframes.length, count, 'saved with the new keyframe');
    assert.equal(await dirtyTitle(page), false);
    await page.keyboard.press('Escape'); // no other project chosen: this one stays open
    await page.getByTestId('path-dialog').waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('start-screen').count(), 0);
  });

  test('given an unsaved edit, when New… is chosen, then the editor asks first; Cancel opens no dialog', async () => {
    await addKeyframe(page);
    await page.locator('nav.toolbar button[data-action="file.new"]').click();
    const prompt = page.getByTestId('unsaved-dialog');
    await prompt.waitFor();
    assert.match(await prompt.textContent() ?? '', /before starting a new project/);
    await page.keyboard.press('Escape'); // Escape is Cancel
    await prompt.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('new-dialog').count(), 0);
    assert.equal(await dirtyTitle(page), true);
  });

  test('given an unsaved edit, when Ctrl+W closes the project and the user does not save, then the start screen shows, the file is as saved and no autosave offers the edit back', async () => {
    const saved = fs.readFileSync(file, 'utf8');
    await page.keyboard.press('Control+w');
    const prompt = page.getByTestId('unsaved-dialog');
    await prompt.waitFor();
    await prompt.getByRole('button', { name: "Don't save" }).click();
    await page.getByTestId('start-screen').waitFor();
    await page.screenshot({ path: path.join(shots, 'closed-without-saving.png') });
    assert.equal(fs.readFileSync(file, 'utf8'), saved, 'the file on disk is unchanged');
    assert.equal(fs.existsSync(autosavePath(file)), false, 'no autosave of the discarded edit');
    assert.equal(fs.existsSync(file + '.lock'), false, 'the project is closed');
  });
});
