// The inspector and the keyframe lane in Debian Chromium through `rerender serve`, driven as a user does:
// actions follow the playhead (not an old selection), imported keyframes offer diffusion instead of
// refusing, out-of-range numbers are refused at the field, overrides equal to the default are not counted,
// a 10-digit seed fits, the keyframe lane shows images in their status, the history is compared and
// pruned, and the toolbar keeps one row at 1024 px.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { testOutputDir } from '../helpers/serve';
import { frameXY, importAtPlayhead, openEditorPage, waitInspector, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e-inspector');


describe('inspector and keyframe lane (serve mode)', () => {
  let dir: string;
  let editor: EditorPage;
  let page: Page;
  const images: Record<string, string> = {};

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('rerender-e2e-inspector-');
    const video = makeVideo(dir, 'clip', { width: 192, height: 108, frames: 48, fps: 24 });
    const made = rerender(['new', path.join(dir, 'clip.rerender'), '--video', video, '--short-side', '64', '--json']);
    assert.equal(made.code, 0, made.stderr);
    for (const [name, rgb] of Object.entries({ blue: [30, 90, 230], orange: [240, 140, 20] })) {
      images[name] = path.join(dir, `${name}.png`);
      await sharp({ create: { width: 192, height: 108, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(images[name]);
    }
    editor = await openEditorPage({ project: path.join(dir, 'clip.rerender'), settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, env: { HOME: dir } });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given keyframe 10 clicked and the playhead then moved to 15, when Import image is used, then a new keyframe at 15 gets the image and 10 is untouched', async () => {
    const at10 = await frameXY(page, 10, 'marker');
    await page.mouse.click(at10.x, at10.y);
    await waitInspector(page, /Keyframe at frame 10/);
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    await waitInspector(page, /No keyframe at frame 15/);
    await importAtPlayhead(page, images.blue);
    await waitInspector(page, /Keyframe at frame 15.*imported · done/);
    await page.keyboard.press('[');
    await waitInspector(page, /Keyframe at frame 10.*diffusion · empty/);
  });

  test('given an imported keyframe, when inspected, then it offers "Render with diffusion instead" and R explains rather than failing', async () => {
    await page.keyboard.press(']');
    await waitInspector(page, /Keyframe at frame 15/);
    const inspector = page.getByTestId('inspector');
    await inspector.getByRole('button', { name: 'Render with diffusion instead' }).waitFor();
    assert.equal(await inspector.getByRole('button', { name: 'Render this keyframe' }).count(), 0);
    await page.keyboard.press('r');
    await page.locator('footer.status').getByText(/choose "Render with diffusion instead"/).waitFor();
  });

  test('given a second image imported at 15, when an earlier one is chosen in the history, then the preview compares it with the current one; Delete removes it and undo brings it back', async () => {
    await importAtPlayhead(page, images.orange);
    const history = page.getByTestId('history');
    await history.locator('button[data-index="0"]').click();
    // An imported image is named as one (it has no seed), and it is used as an image, not a render.
    await page.getByTestId('preview-caption').getByText(/left: earlier image #1 \(imported\).*right: current/).waitFor();
    assert.doesNotMatch(await page.getByTestId('preview-caption').textContent() ?? '', /seed/);
    await page.getByTestId('history-actions').getByRole('button', { name: 'Use this image' }).waitFor();
    await page.waitForTimeout(300); // the two images decode
    const shot = path.join(shots, 'history-compare.png');
    await page.getByTestId('preview-canvas').screenshot({ path: shot });
    const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    const px = (fx: number) => { const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width * fx)) * info.channels; return [data[i], data[i + 1], data[i + 2]]; };
    assert.ok(px(0.25)[2] > 150 && px(0.25)[0] < 100, `left is the blue earlier image: ${px(0.25)}`);
    assert.ok(px(0.75)[0] > 150 && px(0.75)[2] < 100, `right is the orange current image: ${px(0.75)}`);
    await page.screenshot({ path: path.join(shots, 'history-editor.png') });
    await page.getByTestId('history-actions').getByRole('button', { name: 'Delete' }).click();
    await history.locator('button[data-index="0"]').waitFor({ state: 'detached' });
    await page.keyboard.press('Control+z');
    await history.locator('button[data-index="0"]').waitFor();
    await page.getByRole('button', { name: 'Side by side' }).click(); // back to no comparison
  });

  test('given the keyframe lane, when drawn, then imported keyframes show their image and empty ones a dashed frame; clicking a thumbnail selects it', async () => {
    await page.waitForTimeout(300);
    const shot = path.join(shots, 'timeline.png');
    await page.getByTestId('timeline').screenshot({ path: shot });
    const box = (await page.getByTestId('timeline').boundingBox())!;
    const at20 = await frameXY(page, 15, 'keys');
    const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    const i = (Math.round(at20.y - box.y) * info.width + Math.round(at20.x - box.x)) * info.channels;
    assert.ok(data[i] > 150 && data[i + 2] < 100, `the thumbnail at 15 shows the orange image: ${[data[i], data[i + 1], data[i + 2]]}`);
    await page.keyboard.press('Home');
    await page.mouse.click(at20.x, at20.y);
    await waitInspector(page, /Keyframe at frame 15/);
  });

  test('given strength 5 and steps -3 typed, when committed, then each is refused at its field with the range and the project keeps its values', async () => {
    const at5 = await frameXY(page, 5, 'ruler');
    await page.mouse.click(at5.x, at5.y);
    await waitInspector(page, /Project render settings/);
    await page.locator('#field-strength').fill('5');
    await page.keyboard.press('Enter');
    await page.getByTestId('error-strength').getByText('Strength must be from 0 to 1 (5 is outside)').waitFor();
    await page.locator('#field-steps').fill('-3');
    await page.keyboard.press('Enter');
    await page.getByTestId('error-steps').getByText('Steps must be from 1 to 1000 (-3 is outside)').waitFor();
    await page.getByTestId('inspector').screenshot({ path: path.join(shots, 'field-errors.png') });
    const project = JSON.parse(fs.readFileSync(path.join(dir, 'clip.rerender'), 'utf8'));
    assert.equal(project.render.strength, 0.75);
    assert.equal(await page.locator('nav.toolbar button[data-action="edit.undo"]').getAttribute('title').then((t) => /render settings/.test(t ?? '')), false, 'nothing was committed');
  });

  test('given a keyframe whose strength is set to the project value, when inspected, then no setting differs and Revert is off; a 10-digit seed fits its field', async () => {
    await page.keyboard.press('Home');
    await waitInspector(page, /Keyframe at frame 0/);
    await page.locator('#field-strength').fill('0.5');
    await page.keyboard.press('Enter');
    await waitInspector(page, /1 setting differs from the project/);
    await page.locator('#field-strength').fill('0.75');
    await page.keyboard.press('Enter');
    await waitInspector(page, /uses the project settings/);
    assert.equal(await page.getByTestId('inspector').getByRole('button', { name: 'Revert' }).isDisabled(), true);
    await page.locator('#field-seed').fill('4294967295');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.querySelector('#field-seed') as HTMLInputElement).value === '4294967295');
    const [scrollW, clientW] = await page.locator('#field-seed').evaluate((e) => [e.scrollWidth, e.clientWidth]);
    assert.ok(scrollW <= clientW, `the seed fits (${scrollW} ≤ ${clientW} px)`);
  });

  test('given a 1024 px wide window, when the toolbar is laid out, then it keeps one row and the title stays readable', async () => {
    await page.setViewportSize({ width: 1024, height: 768 });
    const bar = (await page.locator('nav.toolbar').boundingBox())!;
    const button = (await page.locator('nav.toolbar button[data-action="file.new"]').boundingBox())!;
    assert.ok(bar.height < button.height + 16, `one row: toolbar ${bar.height} px, button ${button.height} px`);
    const title = (await page.getByTestId('title').boundingBox())!;
    assert.ok(title.width >= 60 && title.x + title.width <= 1024, `title ${title.width} px wide at ${title.x}`);
    // The preview's caption is cut off this narrow: its whole text is its tooltip.
    const caption = page.getByTestId('preview-caption');
    const [text, tip, cut] = await caption.evaluate((e) => [e.textContent, e.getAttribute('title'), e.scrollWidth > e.clientWidth]);
    assert.ok(cut, 'the caption does not fit at 1024 px');
    assert.equal(tip, text);
    await page.screenshot({ path: path.join(shots, 'editor-1024.png') });
  });
});
