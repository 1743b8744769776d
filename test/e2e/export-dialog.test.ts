// The export dialog in Debian Chromium through `rerender serve`: the output size (source pixels, working
// size or a typed W×H, as the CLI's --size) with the size text following the choice and a refused size
// named at its field (Export disabled then, and with no destination); the proposed destination
// ("<name> (rerendered).mp4", the next number once that exists); the warning when the name does not fit
// the format; and an earlier export replaced only after the editor's own dialog says so (Cancel keeps
// the file and never says "Exported to…").
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { exportDestination, openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e');

/** Waits until the dialog's export is done; an export that failed, or was refused in the status bar, fails the test with its words. */
async function exportDone(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const status = document.querySelector('[data-testid=export-status]');
    const refused = document.querySelector('[data-testid=error]');
    if (status?.getAttribute('data-status') === 'failed' || refused) throw new Error(`export failed: ${status?.textContent ?? ''} ${refused?.textContent ?? ''}`);
    return status?.getAttribute('data-status') === 'done';
  }, undefined, { timeout: 120_000, polling: 200 });
}

function probeSize(file: string): [number, number] {
  const [s] = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-print_format', 'json', file], { encoding: 'utf8' })).streams;
  return [s.width, s.height];
}

describe('export dialog (Chromium, serve mode)', () => {
  let dir: string;
  let project: string;
  let editor: EditorPage;
  let page: Page;
  const browserDialogs: string[] = [];

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('rerender-e2e-export-');
    project = path.join(dir, 'clip.rerender');
    const video = makeVideo(dir, 'source', { width: 320, height: 180, frames: 12, fps: 12 });
    const r = rerender(['new', project, '--video', video, '--short-side', '64', '--json']);
    assert.equal(r.code, 0, r.stderr);
    editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
    page = editor.page;
    // The browser's own confirm/alert must never be used: note any, and dismiss it.
    page.on('dialog', (d) => { browserDialogs.push(d.message()); void d.dismiss(); });
  });

  after(async () => {
    await editor?.close();
  });

  test('given the export dialog, when the size is chosen, then the size text follows it, a bad size is refused at its field, and the file has the chosen size', async () => {
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    const sizeText = dialog.getByTestId('export-size');
    const proposed = path.join(dir, 'clip (rerendered).mp4');
    assert.equal(await exportDestination(page, proposed), proposed, 'the proposed destination is a new file beside the project');
    const info = rerender(['info', project, '--json']).json();
    const [ww, wh] = [info.width, info.height];
    // Source pixels by default: the 320×180 source over the working frames' shape.
    await sizeText.getByText(/^Output size: 320×\d+, the source's pixels/).waitFor();
    const sourceText = await sizeText.textContent();
    const choice = dialog.getByTestId('export-size-choice');
    await choice.getByText(/working size/).click();
    await sizeText.getByText(`Output size: ${ww}×${wh}, the working size`).waitFor();
    await dialog.getByLabel('Export width').fill('201');
    await dialog.getByLabel('Export height').fill('100');
    await dialog.getByTestId('export-size-error').getByText('Width: an even number of pixels from 16 to 16384').waitFor();
    assert.ok(await dialog.getByRole('button', { name: 'Export', exact: true }).isDisabled(), 'an odd width cannot be exported');
    await sizeText.getByText('Output size: choose a valid size').waitFor();
    await dialog.getByLabel('Export width').fill('200');
    await sizeText.getByText('Output size: 200×100, the size chosen').waitFor();
    assert.equal(await dialog.getByTestId('export-size-error').count(), 0);
    await dialog.getByText('Side by side with the source').click();
    await sizeText.getByText('Output size: 200×100 per side (400×100 in all), the size chosen').waitFor();
    await dialog.getByText('Side by side with the source').click();
    await dialog.screenshot({ path: path.join(shots, 'export-size-choice.png') });
    assert.match(sourceText ?? '', /320×\d+/);

    await dialog.getByText('Use source frames where nothing is rendered yet').click();
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await exportDone(page);
    assert.deepEqual(probeSize(proposed), [200, 100]);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('given a name that does not fit the format, then the dialog warns as it is typed, and the warning goes with a fitting name', async () => {
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByLabel('Format').selectOption('mp4');
    await dialog.getByLabel('Destination').fill(path.join(dir, 'take.mov'));
    const warning = dialog.getByTestId('export-name-mismatch');
    await warning.getByText('MP4 (H.264) needs a name ending .mp4; the export will be refused.').waitFor();
    await dialog.screenshot({ path: path.join(shots, 'export-name-mismatch.png') });
    await dialog.getByLabel('Format').selectOption('prores');
    assert.equal(await warning.count(), 0, 'a .mov name fits ProRes');
    await dialog.getByLabel('Format').selectOption('png');
    assert.equal(await dialog.getByLabel('Destination').inputValue(), path.join(dir, 'take'), 'the typed name follows the format');
    await dialog.getByLabel('Destination').fill(path.join(dir, 'take.mov'));
    await warning.getByText('PNG frames go into a folder; the name ends .mov.').waitFor();
    await dialog.getByLabel('Destination').fill('');
    assert.ok(await dialog.getByRole('button', { name: 'Export', exact: true }).isDisabled(), 'no export without a destination');
    await dialog.getByLabel('Destination').fill(path.join(dir, 'take-frames'));
    assert.equal(await warning.count(), 0);
    assert.ok(await dialog.getByRole('button', { name: 'Export', exact: true }).isEnabled());
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('given an earlier export at the destination, when exported again, then the editor asks in its own dialog; Cancel keeps the file and says so, Replace writes it', async () => {
    const out = path.join(dir, 'clip (rerendered).mp4');
    const before = fs.statSync(out);
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByLabel('Format').selectOption('mp4');
    const next = path.join(dir, 'clip (rerendered 2).mp4');
    assert.equal(await exportDestination(page, next), next, 'the earlier export is never proposed: the next number is');
    // The user names the earlier export on purpose: replacing it is asked.
    await dialog.getByLabel('Destination').fill(out);
    await dialog.getByText('Use source frames where nothing is rendered yet').click();
    await dialog.getByTestId('export-size-choice').getByText(/working size/).click();
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    const ask = page.getByTestId('export-replace-dialog');
    await ask.getByText(`${out} already exists. Replacing it cannot be undone.`).waitFor();
    await page.screenshot({ path: path.join(shots, 'export-replace-ask.png') });
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await ask.waitFor({ state: 'detached' });
    const status = dialog.getByTestId('export-status');
    await status.getByText(`Not exported: ${out} was kept as it was.`).waitFor();
    assert.doesNotMatch(await dialog.textContent() ?? '', /Exported to/);
    const after = fs.statSync(out);
    assert.equal(after.mtimeMs, before.mtimeMs, 'the earlier export is untouched');
    await dialog.screenshot({ path: path.join(shots, 'export-replace-cancelled.png') });

    // Again, and Replace: the file is written at the working size.
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await ask.getByRole('button', { name: 'Replace' }).click();
    await exportDone(page);
    await status.getByText(`Exported to ${out}`).waitFor();
    const info = rerender(['info', project, '--json']).json();
    assert.deepEqual(probeSize(out), [info.width, info.height]);
    // A third time in the same dialog, cancelled: the last export's "Exported to…" does not stay.
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await status.getByText(`Not exported: ${out} was kept as it was.`).waitFor();
    assert.doesNotMatch(await dialog.textContent() ?? '', /Exported to/);
    assert.deepEqual(browserDialogs, [], 'no browser confirm or alert');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });
});
