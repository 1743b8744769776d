// Nothing in the editor that misleads, in Debian Chromium through `rerender serve`, driven as a user does:
// an image of another shape than the frames says it was centre-cropped (and the CLI's import-keyframe
// too), the comparison views name their two sides, the project name gives way to the toolbar's buttons
// (ellipsised, whole in its tooltip) at 1024, 1280 and 1920 px, execution providers that cannot start here
// are marked and disabled (and a chosen one that cannot is flagged), the shortcut list lines up, and the
// export size is plain text unless wrong.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Locator, Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { testOutputDir } from '../helpers/serve';
import { importAtPlayhead, openEditorPage, waitInspector, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e-polish');
const NAME = 'Mountain valley at dusk, watercolour study take 3';

/** Luminance figures of an element's screenshot: its median and its brightest pixel (0–255). */
async function luminance(el: Locator, file: string): Promise<{ median: number; max: number }> {
  await el.screenshot({ path: file });
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const ys: number[] = [];
  for (let i = 0; i < data.length; i += info.channels) ys.push(0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2]);
  ys.sort((a, b) => a - b);
  return { median: ys[ys.length >> 1], max: ys[ys.length - 1] };
}

describe('nothing misleading in the editor (serve mode)', () => {
  let dir: string;
  let editor: EditorPage;
  let page: Page;
  let working: { width: number; height: number };
  const images: Record<string, string> = {};

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('rerender-e2e-polish-');
    const video = makeVideo(dir, 'clip', { width: 192, height: 108, frames: 30, fps: 24 });
    for (const file of [`${NAME}.rerender`, 'cli.rerender']) {
      const made = rerender(['new', path.join(dir, file), '--video', video, '--short-side', '64', '--json']);
      assert.equal(made.code, 0, made.stderr);
    }
    const info = rerender(['info', path.join(dir, 'cli.rerender'), '--json']).json();
    working = { width: info.width, height: info.height };
    // A wide white image (4:1, far from the frames' shape), and black and grey ones of the frames' own shape.
    const make = async (name: string, width: number, height: number, v: number) => {
      images[name] = path.join(dir, `${name}.png`);
      await sharp({ create: { width, height, channels: 3, background: { r: v, g: v, b: v } } }).png().toFile(images[name]);
    };
    await make('wide-white', 400, 100, 250);
    await make('black', working.width * 2, working.height * 2, 5);
    await make('grey', working.width, working.height, 128);
    editor = await openEditorPage({ project: path.join(dir, `${NAME}.rerender`), settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models'), provider: 'cuda' }, env: { HOME: dir } });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given an image of another shape, when imported at the playhead, then the status bar and the inspector say it was centre-cropped and how', async () => {
    await importAtPlayhead(page, images['wide-white']);
    await waitInspector(page, /Keyframe at frame 0.*imported · done/);
    const crop = `centre-cropped: the image (400×100) is wider than the working frames (${working.width}×${working.height}), so it was scaled to their height`;
    await page.locator('footer.status').getByText(`wide-white.png is the keyframe at frame 0 — ${crop}`).waitFor();
    const note = await page.getByTestId('inspector').locator('p.note').textContent() ?? '';
    assert.match(note, /cut from its left and right \(\d+×100 of it kept\)$/, note);
    await page.screenshot({ path: path.join(shots, 'import-cropped.png') });
    // The long word wraps beside the frame line, which stays on one line.
    const line = page.getByTestId('status-frame');
    const lineHeight = await line.evaluate((e) => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect().height; });
    assert.ok(lineHeight < 20, `the frame line is one line (${lineHeight} px high)`);
    // An image of the frames' own shape says nothing of cropping.
    await importAtPlayhead(page, images.black);
    await page.locator('footer.status').getByText('black.png is the keyframe at frame 0').waitFor();
    assert.doesNotMatch(await page.locator('footer.status').textContent() ?? '', /cropped/);
    assert.equal(await page.getByTestId('inspector').locator('p.note').count(), 0);
  });

  test('given the CLI, when import-keyframe takes an image of another shape, then it says so (and --json gives it); one of the frames\' shape says nothing', () => {
    const file = path.join(dir, 'cli.rerender');
    const wide = rerender(['import-keyframe', file, '--frame', '0', '--image', images['wide-white']]);
    assert.equal(wide.code, 0, wide.stderr);
    assert.match(wide.stdout, new RegExp(`keyframe at frame 0 now uses .*\\ncentre-cropped: the image \\(400×100\\) is wider than the working frames \\(${working.width}×${working.height}\\)`));
    const json = rerender(['import-keyframe', file, '--frame', '10', '--image', images['wide-white'], '--json']).json();
    assert.match(json.cropped, /^centre-cropped: .*left and right/);
    const same = rerender(['import-keyframe', file, '--frame', '10', '--image', images.grey, '--json']).json();
    assert.equal(same.cropped, null);
    assert.match(rerender(['info', file]).stdout, /frame +0 +imported +done \(centre-cropped: /);
  });

  test('given side by side, when a keyframe result or an earlier image is compared, then each side is labelled and the labels read on black and on white', async () => {
    await page.getByRole('button', { name: 'Keyframe result' }).click();
    await page.getByRole('button', { name: 'Side by side' }).click();
    const left = page.getByTestId('compare-left'), right = page.getByTestId('compare-right');
    await left.getByText('Source frame 0').waitFor();
    await right.getByText('Keyframe at frame 0 (imported)', { exact: true }).waitFor();
    const canvas = (await page.getByTestId('preview-canvas').boundingBox())!;
    const [l, r] = [(await left.boundingBox())!, (await right.boundingBox())!];
    assert.ok(l.x + l.width <= canvas.x + canvas.width / 2 && r.x >= canvas.x + canvas.width / 2, `one label over each half: ${l.x}+${l.width}, ${r.x}`);
    await page.screenshot({ path: path.join(shots, 'side-by-side.png') });
    // The right side is the black image now: the label reads there (light text on its own dark chip) …
    const onBlack = await luminance(right, path.join(shots, 'label-on-black.png'));
    assert.ok(onBlack.max > 200 && onBlack.median < 90, `on black: ${JSON.stringify(onBlack)}`);
    // A side with nothing to show says so over its own half, not over the source.
    await page.keyboard.press('End');
    const empty = page.getByTestId('preview-empty');
    await empty.getByText('keyframe at frame 20 is not rendered yet').waitFor();
    await right.getByText('Keyframe at frame 20', { exact: true }).waitFor();
    const text = await empty.evaluate((e) => { const r = document.createRange(); r.selectNodeContents(e); const b = r.getBoundingClientRect(); return { x: b.x, w: b.width }; });
    assert.ok(text.x >= canvas.x + canvas.width / 2, `the message (${text.x}+${text.w}) is over the right half (from ${canvas.x + canvas.width / 2})`);
    await page.screenshot({ path: path.join(shots, 'side-by-side-empty.png') });
    await page.keyboard.press('Home');
    await left.getByText('Source frame 0').waitFor();
    // … and over the white one, an earlier image compared with the current one, each named.
    await page.getByTestId('history').locator('button[data-index="0"]').click();
    await left.getByText('Earlier image #1 (imported)').waitFor();
    await right.getByText('Current image (imported)').waitFor();
    await page.waitForTimeout(300); // both images decode
    const onWhite = await luminance(left, path.join(shots, 'label-on-white.png'));
    assert.ok(onWhite.max > 200 && onWhite.median < 90, `on white: ${JSON.stringify(onWhite)}`);
    await page.screenshot({ path: path.join(shots, 'history-side-by-side.png') });
    await page.getByRole('button', { name: 'A/B wipe' }).click();
    await left.getByText('Earlier image #1 (imported) ◂').waitFor();
    await right.getByText('▸ Current image (imported)').waitFor();
    await page.screenshot({ path: path.join(shots, 'history-wipe.png') });
    await page.getByRole('button', { name: 'A/B wipe' }).click(); // no comparison: no labels
    await left.waitFor({ state: 'detached' });
    // Choosing what the preview shows leaves the earlier image: the button pressed is what is shown.
    await page.getByRole('button', { name: 'Source', exact: true }).click();
    await page.getByTestId('preview-caption').getByText('source frame 0', { exact: true }).waitFor();
    assert.equal(await page.locator('.preview-bar button.on').textContent(), 'Source');
  });

  for (const width of [1024, 1280, 1920]) {
    test(`given a long project name at ${width} px, when the toolbar is laid out, then it keeps one row, its buttons keep their place and the name is whole or ellipsised with a tooltip`, async () => {
      await page.setViewportSize({ width, height: 800 });
      await page.locator('nav.toolbar').screenshot({ path: path.join(shots, `toolbar-${width}.png`) });
      await page.screenshot({ path: path.join(shots, `editor-${width}.png`) });
      const buttons = page.locator('nav.toolbar button[data-action]:not([data-action="file.close"])');
      const boxes = await buttons.evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((b) => ({ x: b.x, y: b.y, w: b.width, h: b.height })));
      assert.ok(boxes.every((b) => b.y === boxes[0].y), 'one row');
      for (let i = 1; i < boxes.length; i++) assert.ok(boxes[i].x >= boxes[i - 1].x + boxes[i - 1].w - 0.5, `button ${i} after button ${i - 1}`);
      const title = page.getByTestId('title'), name = page.getByTestId('title-name');
      const last = boxes[boxes.length - 1];
      const [t, n] = [(await title.boundingBox())!, (await name.boundingBox())!];
      assert.ok(t.x >= last.x + last.w && t.x + t.width <= width, `the title (${t.x}–${t.x + t.width}) is right of the buttons (${last.x + last.w}) and inside the window`);
      assert.ok(n.width >= 60, `the name has room (${n.width} px)`);
      // The jobs beside the timeline reach down as far as it does (no strip of page below them).
      const [jobs, bottom] = [(await page.locator('.bottom > .jobs').boundingBox())!, (await page.locator('.bottom').boundingBox())!];
      assert.ok(Math.abs(jobs.y + jobs.height - (bottom.y + bottom.height)) <= 1, `jobs end at ${jobs.y + jobs.height}, the timeline row at ${bottom.y + bottom.height}`);
      const [cut, overflow] = await name.evaluate((e) => [e.scrollWidth > e.clientWidth, getComputedStyle(e).textOverflow]);
      assert.equal(overflow, 'ellipsis');
      assert.equal(await name.textContent(), NAME);
      assert.match(await title.getAttribute('title') ?? '', new RegExp(`^${NAME}( \\(unsaved changes\\))? — .*\\.rerender$`));
      if (width === 1920) assert.equal(cut, false, 'whole at 1920 px');
    });
  }

  test('given the model manager, when its execution providers are listed, then each one that cannot start here is disabled with the reason, and the CPU is offered', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('nav.toolbar button[data-action="file.models"]').click();
    const models = page.getByTestId('models-dialog');
    const select = models.getByLabel('Execution provider');
    await select.waitFor();
    const options = await select.locator('option').evaluateAll((els) => els.map((e) => ({ value: (e as HTMLOptionElement).value, text: e.textContent ?? '', disabled: (e as HTMLOptionElement).disabled })));
    assert.deepEqual(options.find((o) => o.value === 'cpu'), { value: 'cpu', text: 'cpu', disabled: false });
    assert.match(options.find((o) => o.value === 'auto')!.text, /^automatic \(first that starts: \w+ here\)$/);
    const notHere = options.filter((o) => / — not available on this machine$/.test(o.text));
    const why = notHere.length ? await models.getByTestId('providers-unavailable').textContent() ?? '' : '';
    for (const o of options) {
      if (o.value === 'auto' || o.value === 'cpu') continue;
      // Every other provider either starts here, or is disabled and its reason given below the list.
      if (!o.disabled) assert.equal(o.text, o.value);
      else if (notHere.includes(o)) assert.match(why, new RegExp(`\\b${o.value}: \\S`), `${o.value}'s reason in "${why}"`);
      else assert.equal(o.text, `${o.value} — not in this build`);
    }
    // CUDA is the provider chosen (in the settings): where it cannot start, the manager says what renders do instead.
    const cuda = options.find((o) => o.value === 'cuda')!;
    const chosen = models.getByTestId('provider-chosen-unavailable');
    if (cuda.disabled) await chosen.getByText(/^cuda is chosen but cannot start here( \(not in this build\))?: renders run on the CPU/).waitFor();
    else assert.equal(await chosen.count(), 0);
    await select.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, 'models-providers.png') });
    await models.getByRole('button', { name: 'Close' }).click();
  });

  test('given the shortcut list, when opened, then every name starts at one place in its column, a wrapped one (Shift+P) stays left, and keys sit on its first line', async () => {
    await page.keyboard.press('?');
    const help = page.getByTestId('help-overlay');
    await help.waitFor();
    const rows = await help.locator('tr').evaluateAll((trs) => trs.map((tr) => {
      const [keyCell, nameCell] = [...tr.querySelectorAll('td')];
      const button = nameCell.querySelector('button')!;
      const range = document.createRange();
      range.selectNodeContents(button);
      const firstLine = range.getClientRects()[0];
      return { key: keyCell.textContent, keyTop: keyCell.querySelector('kbd')!.getBoundingClientRect().top, cellX: nameCell.getBoundingClientRect().x, textX: firstLine.x, textTop: firstLine.top };
    }));
    const columns = [...new Set(rows.map((r) => Math.round(r.cellX)))];
    assert.equal(columns.length, 2, `names start at one place in each of the two columns: ${columns}`);
    for (const r of rows) {
      assert.ok(Math.abs(r.textX - r.cellX) <= 1, `${r.key}: the name starts at its cell (${r.textX} vs ${r.cellX})`);
      assert.ok(Math.abs(r.keyTop - r.textTop) <= 4, `${r.key}: the key sits on the name's first line (${r.keyTop} vs ${r.textTop})`);
    }
    const shiftP = rows.find((r) => r.key === 'Shift+P')!;
    assert.ok(shiftP, 'Shift+P is listed');
    await help.screenshot({ path: path.join(shots, 'shortcuts.png') });
    await help.getByRole('button', { name: 'Close', exact: true }).click();
  });

  test('given the export dialog, when the size is fine, then it is plain text; a stretching or invalid size is shown as a warning', async () => {
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    const sizeText = dialog.getByTestId('export-size');
    await sizeText.getByText(/^Output size: \d+×\d+, the source's pixels/).waitFor();
    const colour = (el: Locator) => el.evaluate((e) => getComputedStyle(e).color);
    const warn = await dialog.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--warn').trim());
    const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(', ')})`;
    assert.notEqual(await colour(sizeText), rgb(warn), 'not in the warning colour');
    await dialog.getByTestId('export-size-choice').getByText(/working size/).click();
    await sizeText.getByText(`Output size: ${working.width}×${working.height}, the working size`).waitFor();
    assert.notEqual(await colour(sizeText), rgb(warn));
    assert.equal(await dialog.getByTestId('export-size-stretch').count(), 0);
    await dialog.screenshot({ path: path.join(shots, 'export-size-plain.png') });
    // Half as wide again for the frames' height: another shape than the frames, so the picture would be stretched.
    await dialog.getByLabel('Export width').fill(String(working.width * 3));
    await dialog.getByLabel('Export height').fill(String(working.height * 2));  // 1.5 times the frames' aspect
    const stretch = dialog.getByTestId('export-size-stretch');
    await stretch.getByText(/is wider than the frames .*: the picture will be stretched/).waitFor();
    assert.equal(await colour(stretch), rgb(warn));
    await dialog.screenshot({ path: path.join(shots, 'export-size-stretch.png') });
    await dialog.getByLabel('Export width').fill('201');
    await sizeText.getByText('Output size: choose a valid size').waitFor();
    assert.equal(await colour(sizeText), rgb(warn));
    await dialog.getByRole('button', { name: 'Close' }).click();
  });
});
