// The round trip to a paint program in Debian Chromium through `rerender serve`: "Edit in external editor"
// asks for the program first (a bad one is refused at the field), starts it without a shell with its
// arguments as given, and each save there comes back as the keyframe's new image (painted, undoable, the
// previous image in its history); after an undo it opens the image the keyframe shows. The "paint
// program" is a small Node script that inverts the PNG it is given and saves it the way paint programs do
// (a new file renamed over the old).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { frameXY, openEditorPage, pixelAt, shotsDir, waitInspector, type EditorPage } from '../helpers/editor-page';

const shots = shotsDir('e2e-external');
const repo = path.join(__dirname, '..', '..');

const PAINT = `// A stand-in paint program: inverts the PNG it is given and saves it over the old one by a rename.
import fs from 'node:fs';
import { createRequire } from 'node:module';
const [file, log, words] = process.argv.slice(2);
fs.appendFileSync(log, JSON.stringify(process.argv.slice(2)) + '\\n');
const sharp = createRequire(${JSON.stringify(path.join(repo, 'package.json'))})('sharp');
const out = await sharp(file).negate({ alpha: false }).png().toBuffer();
fs.writeFileSync(file + '.saving', out);
fs.renameSync(file + '.saving', file);
void words;
`;

async function previewCentre(page: Page, name: string): Promise<[number, number, number]> {
  const shot = path.join(shots, name);
  await page.getByTestId('preview-canvas').screenshot({ path: shot });
  const { width, height } = await sharp(shot).metadata();
  return pixelAt(shot, width! / 2, height! / 2);
}

describe('edit in external editor (serve mode)', () => {
  let dir: string;
  let editor: EditorPage;
  let page: Page;
  let log: string;

  before(async () => {
    dir = tempDir('rerender-e2e-external-');
    const video = makeVideo(dir, 'clip', { width: 192, height: 108, frames: 24, fps: 24 });
    const project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    const orange = path.join(dir, 'orange.png');
    await sharp({ create: { width: 192, height: 108, channels: 3, background: { r: 240, g: 140, b: 20 } } }).png().toFile(orange);
    assert.equal(rerender(['import-keyframe', project, '--frame', '10', '--image', orange]).code, 0);
    // Executable, so the file browser offers it among programs (started by Node through its first line).
    fs.writeFileSync(path.join(dir, 'paint.mjs'), `#!${process.execPath}\n${PAINT}`, { mode: 0o755 });
    log = path.join(dir, 'paint.log');
    editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, env: { HOME: dir } });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given no paint program chosen, when Edit in external editor is clicked, then it asks for one and refuses a shell line or a missing file at the field', async () => {
    const at10 = await frameXY(page, 10, 'marker');
    await page.mouse.click(at10.x, at10.y);
    await waitInspector(page, /Keyframe at frame 10.*imported · done/);
    await page.getByTestId('edit-externally').click();
    const dialog = page.getByTestId('external-editor-dialog');
    await dialog.waitFor();
    await page.getByTestId('external-program').fill('gimp; rm -rf ~');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('external-problem').getByText(/neither an absolute path nor a program name.*never run through a shell/).waitFor();
    await page.getByTestId('external-program').fill(path.join(dir, 'no-such-program'));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('external-problem').getByText(/no-such-program is not a program that can be run/).waitFor();
    await dialog.screenshot({ path: path.join(shots, 'dialog-refused.png') });
    assert.equal(fs.existsSync(log), false, 'nothing was started');
  });

  test('given the dialog, when Choose… is clicked, then the file browser opens among the folders programs are in, shows executable files only, and a double-click fills the field', async () => {
    const dialog = page.getByTestId('external-editor-dialog');
    await page.getByTestId('external-program').fill(''); // (a typed path opens the browser in its folder)
    await dialog.getByRole('button', { name: 'Choose…' }).click();
    const chooser = page.getByTestId('path-dialog');
    await page.waitForFunction(() => (document.querySelector('[data-testid=browser-folder]')?.textContent ?? '…') !== '…');
    const places = await chooser.getByRole('navigation', { name: 'Places' }).getByRole('button').allTextContents();
    const first = await chooser.getByTestId('browser-folder').textContent();
    // (Home is the project's folder here, so it is offered once, as the project folder.)
    assert.ok(places.includes(first!) && places.includes('Project folder'), `opens in a program folder (${first}), offered among the places with the project's: ${places.join(', ')}`);
    await chooser.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Project folder', exact: true }).click();
    await page.waitForFunction((h) => document.querySelector('[data-testid=browser-folder]')?.textContent === h, fs.realpathSync(dir));
    const files = await chooser.locator('li[data-kind=file]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    assert.deepEqual(files, ['paint.mjs'], 'the executable script only: not the image, the video, the project or the settings');
    assert.equal(await chooser.getByLabel('Show').locator('option:checked').textContent(), 'Programs (executable files)');
    await page.screenshot({ path: path.join(shots, 'program-browser.png') });
    await chooser.locator('li[data-name="paint.mjs"]').dblclick();
    await chooser.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('external-program').inputValue(), path.join(fs.realpathSync(dir), 'paint.mjs'));
    assert.equal(await dialog.isVisible(), true, 'the External editor dialog stays open');
  });

  test('given the Node "paint program" with its arguments one per line, when saved, then the keyframe opens in it and its save comes back as a painted new image', async () => {
    await page.getByTestId('external-program').fill(process.execPath);
    await page.getByTestId('external-args').fill([path.join(dir, 'paint.mjs'), '{file}', log, 'two words'].join('\n'));
    await page.getByTestId('external-editor-dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('external-editor-dialog').waitFor({ state: 'detached' });
    await page.locator('footer.status').getByText(/the keyframe at frame 10 has the image saved in the external editor/).waitFor();
    await waitInspector(page, /Keyframe at frame 10.*painted · done/);
    const args = JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n')[0]) as string[];
    assert.equal(args.length, 3, `one argument per line, "two words" kept whole: ${JSON.stringify(args)}`);
    assert.match(args[0], /clip\.assets[\\/]external[\\/]keyframe-.*\.png$/);
    assert.equal(args[2], 'two words');
    await page.keyboard.press('2');
    await page.waitForTimeout(300);
    const painted = await previewCentre(page, 'painted.png');
    assert.ok(painted[2] > 180 && painted[0] < 60, `the preview shows the inverted (blue) image: ${painted}`);
    await page.getByTestId('history').locator('button[data-index="0"]').waitFor(); // the orange image is in the history
    assert.match((await page.getByTestId('history').locator('button[data-index="0"]').textContent()) ?? '', /#1 · imported/, 'labelled as the imported image it was, not "seed 0"');
    await page.screenshot({ path: path.join(shots, 'editor-painted.png') });
  });

  test('given the painted image, when undone, then the keyframe has its imported image again; a second save in the program comes back too', async () => {
    await page.keyboard.press('Control+z');
    await waitInspector(page, /Keyframe at frame 10.*imported · done/);
    await page.waitForTimeout(300);
    const back = await previewCentre(page, 'undone.png');
    assert.ok(back[0] > 180 && back[2] < 80, `orange again: ${back}`);
    // The program saves again (inverting its own last result back to orange): still watched, a new revision.
    const work = (JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n')[0]) as string[])[0];
    const { execFileSync } = await import('node:child_process');
    execFileSync(process.execPath, [path.join(dir, 'paint.mjs'), work, log, 'two words']);
    await waitInspector(page, /Keyframe at frame 10.*painted · done/);
    const history = await page.getByTestId('history').locator('button[data-index]').count();
    assert.ok(history >= 1, `earlier images kept: ${history}`);
  });

  test('given a save in the program and then an undo, when Edit in external editor is clicked again, then the program gets the image the keyframe shows, not its last save', async () => {
    const work = (JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n')[0]) as string[])[0];
    const entries = () => page.getByTestId('history').locator('button[data-index]').count();
    const { execFileSync } = await import('node:child_process');
    // The program saves once more (orange → blue); undo takes the keyframe back to orange, the file stays blue.
    const before = await entries();
    execFileSync(process.execPath, [path.join(dir, 'paint.mjs'), work, log, 'two words']);
    await page.waitForFunction(([n]) => document.querySelectorAll('[data-testid=history] button[data-index]').length > n, [before]);
    await page.keyboard.press('Control+z');
    await page.waitForFunction(([n]) => document.querySelectorAll('[data-testid=history] button[data-index]').length === n, [before]);
    await page.waitForTimeout(300);
    const shown = await previewCentre(page, 'undone-again.png');
    assert.ok(shown[0] > 180 && shown[2] < 80, `orange after the undo: ${shown}`);
    const [r, , b] = await pixelAt(work, 8, 8);
    assert.ok(b > 180 && r < 60, `the working file still holds the blue save: ${[r, b]}`);
    // Edit again: the program must open the orange image (and its inverse, blue, comes back).
    await page.getByTestId('edit-externally').click();
    await page.waitForFunction(([n]) => document.querySelectorAll('[data-testid=history] button[data-index]').length > n, [before]);
    await waitInspector(page, /Keyframe at frame 10.*painted · done/);
    await page.waitForTimeout(300);
    const painted = await previewCentre(page, 'edit-after-undo.png');
    assert.ok(painted[2] > 180 && painted[0] < 60, `the program inverted the orange the keyframe showed (blue): ${painted}`);
  });
});
