// Where to add a keyframe, in Debian Chromium through `rerender serve`, driven by mouse and keys: after
// propagating (P) the jobs panel counted frames ("n of m frames done"), the coverage strip shows how badly
// each frame is covered by its keyframes with the worst flagged, "Suggest a keyframe here" (the button,
// Shift+E or a flag) adds a keyframe there (undoable), and E lays the frame's error map over the preview.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { expectKeyframes, frameXY, openEditorPage, pixelAt, shotsDir, type EditorPage } from '../helpers/editor-page';

const shots = shotsDir('e2e-coverage');

/** The frames the strip flags as worst; `shown`: wait until it flags some (after an undo they are looked up again). */
async function worst(page: Page, shown = true): Promise<number[]> {
  if (shown) await page.waitForFunction(() => Boolean(document.querySelector('[data-testid=timeline]')?.getAttribute('data-worst')));
  const s = await page.getByTestId('timeline').getAttribute('data-worst');
  return s ? s.split(',').map(Number) : [];
}

describe('coverage strip, suggested keyframes and the error map (serve mode)', () => {
  let dir: string;
  let editor: EditorPage;
  let page: Page;

  before(async () => {
    dir = tempDir('rerender-e2e-coverage-');
    const video = makeVideo(dir, 'clip', { width: 192, height: 108, frames: 40, fps: 24 });
    const project = path.join(dir, 'clip.rerender');
    const made = rerender(['new', project, '--video', video, '--short-side', '64', '--json']);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(rerender(['keyframes', project, '--set', '0,39']).code, 0);
    // Each keyframe's image: its own frame tinted (a style the propagation can follow).
    for (const f of [0, 39]) {
      const image = path.join(dir, `key${f}.png`);
      await sharp(path.join(dir, 'clip.cache', 'frames', `${String(f).padStart(5, '0')}.png`)).tint({ r: 255, g: 160, b: 40 }).png().toFile(image);
      const r = rerender(['import-keyframe', project, '--frame', String(f), '--image', image]);
      assert.equal(r.code, 0, r.stderr);
    }
    editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given no propagation yet, then the strip says how to get figures and the suggest button is off', async () => {
    assert.equal(await page.getByTestId('suggest-here').isDisabled(), true);
    assert.deepEqual(await worst(page, false), []);
    // The strips' buttons sit beside the lanes: none hides frames of the strips (or their flags).
    const lanes = (await page.getByTestId('timeline').boundingBox())!;
    for (const id of ['suggest-here', 'measure-flicker']) {
      const b = (await page.getByTestId(id).boundingBox())!;
      assert.ok(b.x >= lanes.x + lanes.width, `${id} at x ${b.x}, right of the lanes ending at ${lanes.x + lanes.width}`);
    }
  });

  test('given P pressed, when propagation runs, then the jobs panel counts frames done, and afterwards the strip flags the worst frames', async () => {
    // Every job message shown while it runs, collected in the page (nothing timed: the run may be quick).
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seenMessages: string[] }).seenMessages = []);
      new MutationObserver(() => document.querySelectorAll('[data-testid=job-propagate] .job-message').forEach((m) => seen.push(m.textContent ?? '')))
        .observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('timeline').click({ position: { x: 5, y: 5 } }); // focus in the editor, not a field
    await page.keyboard.press('p');
    await page.waitForSelector('[data-testid=job-propagate][data-status=done]');
    const seen = await page.evaluate(() => (window as unknown as { seenMessages: string[] }).seenMessages);
    // Within the segment the syntheses are counted too: its frames are finished only when both directions are blended.
    assert.ok(seen.some((m) => /^\d+ of 38 frames done · frames 1–38: ([1-9]\d*) of 76 syntheses/.test(m)), `frame counts shown: ${[...new Set(seen)].slice(0, 5).join(' | ')}`);
    await page.waitForFunction(() => (document.querySelector('[data-testid=timeline]')?.getAttribute('data-worst') ?? '') !== '');
    const flagged = await worst(page);
    assert.ok(flagged.length >= 1 && flagged.every((f) => f > 0 && f < 39), `worst frames inside the segment: ${flagged}`);
    await page.waitForTimeout(200); // the strip repaints on the next frame
    const shot = path.join(shots, 'timeline.png');
    await page.getByTestId('timeline').screenshot({ path: shot });
    const box = (await page.getByTestId('timeline').boundingBox())!;
    // The orange error bars rise from the lane's bottom inside the segment. Which frames the engine finds worst
    // (drawn as yellow flags) depends on its numbers, so the bar is looked for on the frames not flagged.
    const bars: string[] = [];
    let orange = false;
    for (let f = 2; f <= 37 && !orange; f++) {
      if (flagged.some((w) => Math.abs(w - f) <= 1)) continue;
      const at = await frameXY(page, f, 'coverage');
      const bar = await pixelAt(shot, at.x - box.x, at.y - box.y + 9);
      orange = bar[0] > 180 && bar[1] > 90 && bar[1] < 160 && bar[2] < 100;
      bars.push(`${f}: ${bar}`);
    }
    assert.ok(orange, `an orange error bar on a frame not flagged: ${bars.join('; ')}`);
    const lane = await frameXY(page, 20, 'coverage');
    const flag = await frameXY(page, flagged[0], 'coverage');
    const yellow = await pixelAt(shot, flag.x - box.x, flag.y - box.y - LANE_HALF + 2);
    assert.ok(yellow[0] > 200 && yellow[1] > 180 && yellow[2] < 120, `a yellow flag at frame ${flagged[0]}: ${yellow}`);
    // The tooltip names the figures in words.
    await page.mouse.move(lane.x, lane.y);
    await page.waitForFunction(() => /× the typical frame's synthesis error, [\d.]+% not shown by any keyframe|among the worst covered/.test(document.querySelector('[data-testid=timeline]')?.getAttribute('title') ?? ''));
  });

  test('given the worst frame flagged, when Suggest a keyframe here is clicked, then a keyframe is added there and selected; undo removes it', async () => {
    const [first] = await worst(page);
    await page.getByTestId('suggest-here').click();
    await expectKeyframes(page, 3);
    await page.waitForFunction((f) => new RegExp(`frame ${f} /`).test(document.querySelector('[data-testid=status-frame]')?.textContent ?? ''), first);
    await page.locator('footer.status').getByText(new RegExp(`added a keyframe at frame ${first} \\([\\d.]+× the typical frame's synthesis error, [\\d.]+% not shown by any keyframe\\)`)).waitFor();
    await page.waitForFunction((f) => new RegExp(`Keyframe at frame ${f}`).test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? ''), first);
    await page.screenshot({ path: path.join(shots, 'suggested.png') });
    // The new keyframe's segments are not propagated yet: their frames have no figures and no flags.
    await page.waitForFunction((f) => !(document.querySelector('[data-testid=timeline]')?.getAttribute('data-worst') ?? '').split(',').includes(String(f)), first);
    await page.keyboard.press('Control+z');
    await expectKeyframes(page, 2);
    await page.waitForFunction((f) => (document.querySelector('[data-testid=timeline]')?.getAttribute('data-worst') ?? '').split(',')[0] === String(f), first);
  });

  test('given Shift+E, then the keyframe goes to the worst frame; a click on another flag adds one there too', async () => {
    const flagged = await worst(page);
    await page.getByTestId('timeline').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Shift+E');
    await expectKeyframes(page, 3);
    await page.waitForFunction((f) => new RegExp(`frame ${f} /`).test(document.querySelector('[data-testid=status-frame]')?.textContent ?? ''), flagged[0]);
    await page.keyboard.press('Control+z');
    await expectKeyframes(page, 2);
    if (flagged.length > 1) {
      await page.waitForFunction((n) => (document.querySelector('[data-testid=timeline]')?.getAttribute('data-worst') ?? '').split(',').length === n, flagged.length);
      const at = await frameXY(page, flagged[1], 'coverage');
      await page.mouse.click(at.x, at.y);
      await expectKeyframes(page, 3);
      await page.waitForFunction((f) => new RegExp(`Keyframe at frame ${f}`).test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? ''), flagged[1]);
      await page.keyboard.press('Control+z');
      await expectKeyframes(page, 2);
    }
  });

  test('given a propagated frame in the preview, when E is pressed, then its error map is drawn over it with a legend; E again hides it', async () => {
    const [first] = await worst(page);
    const at = await frameXY(page, first, 'ruler');
    await page.mouse.click(at.x, at.y);
    await page.keyboard.press('3');
    await page.waitForFunction((f) => document.querySelector('[data-testid=preview-canvas]')?.getAttribute('data-drawn-frame') === String(f), first);
    await page.waitForTimeout(300);
    const plain = path.join(shots, 'preview-plain.png');
    await page.getByTestId('preview-canvas').screenshot({ path: plain });
    await page.keyboard.press('e');
    await page.waitForFunction(() => /\/coverage\/\d+\.png/.test(document.querySelector('[data-testid=preview-canvas]')?.getAttribute('data-overlay') ?? ''));
    await page.getByTestId('error-map-legend').getByText(/red = matched poorly to its keyframes, magenta = no keyframe shows it/).waitFor();
    const shot = path.join(shots, 'preview-error-map.png');
    await page.getByTestId('preview-canvas').screenshot({ path: shot });
    await page.screenshot({ path: path.join(shots, 'editor-error-map.png') });
    const a = await sharp(plain).raw().toBuffer({ resolveWithObject: true });
    const b = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    let heat = 0, changed = 0;
    for (let i = 0; i < a.data.length; i += a.info.channels) {
      const d = Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]);
      if (d > 30) { changed++; if (b.data[i] > 170 && b.data[i + 1] < 150) heat++; }
    }
    assert.ok(changed > 0.01 * a.info.width * a.info.height, `the overlay changes the picture (${changed} pixels)`);
    assert.ok(heat > changed * 0.5, `and what changed turns red or magenta (${heat} of ${changed})`);
    await page.keyboard.press('e');
    await page.waitForFunction(() => (document.querySelector('[data-testid=preview-canvas]')?.getAttribute('data-overlay') ?? 'x') === '');
  });

  test('given a keyframe in the preview with the error map on, then the caption and legend say it has none', async () => {
    await page.getByRole('button', { name: 'Error map' }).click();
    await page.keyboard.press('Home');
    await page.getByTestId('preview-caption').getByText(/keyframe at frame 0 · error map: none for this frame/).waitFor();
    await page.getByTestId('error-map-legend').getByText(/none for this frame/).waitFor();
    await page.getByRole('button', { name: 'Error map' }).click();
  });

  test('given the propagated frames, when the Measure flicker button on the flicker strip is clicked, then the measurement runs as a job and the strip draws its bars', async () => {
    const measure = page.getByTestId('measure-flicker');
    assert.equal(await measure.isEnabled(), true, 'there are propagated frames to measure');
    await measure.click();
    await page.waitForSelector('[data-testid=job-measure][data-status=done]');
    assert.ok(await flickerBars(page, (n) => n > 50) > 50, 'the flicker strip shows bars');
    await page.getByTestId('timeline').screenshot({ path: path.join(shots, 'flicker.png') });
  });

  test('given a flicker measurement, when a keyframe is added, then the strip no longer shows it (it measured other output); undo shows it again', async () => {
    const at = await frameXY(page, 25, 'ruler');
    await page.mouse.click(at.x, at.y);
    await page.keyboard.press('k');
    await expectKeyframes(page, 3);
    assert.equal(await flickerBars(page, (n) => n === 0), 0, 'no bars for output that was not measured');
    await page.keyboard.press('Control+z');
    await expectKeyframes(page, 2);
    assert.ok(await flickerBars(page, (n) => n > 50) > 50, 'the measured output is current again');
  });

  test('given a keyframe added and not propagated, when exported without source frames, then the dialog says what to do in the editor\'s words (no CLI flag), and a later action clears the message', async () => {
    const at = await frameXY(page, 20, 'ruler');
    await page.mouse.click(at.x, at.y);
    await page.keyboard.press('k');
    await expectKeyframes(page, 3);
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByText('2 segments are not fully propagated').waitFor();
    // A range counts only the segments its frames fall in: frames 0–10 lie in the segment before the new keyframe alone.
    await dialog.locator('fieldset').first().locator('input[type=radio]').nth(1).check();
    await dialog.getByLabel('Last frame').fill('10');
    await dialog.getByText('1 segment is not fully propagated in frames 0–10').waitFor();
    await dialog.locator('fieldset').first().locator('input[type=radio]').nth(0).check();
    await dialog.getByText('2 segments are not fully propagated;').waitFor();
    await dialog.getByLabel('Destination').fill(path.join(dir, 'out.mp4'));
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    const failure = dialog.locator('[data-testid=export-status][data-status=failed]');
    await failure.waitFor();
    const text = await failure.textContent() ?? '';
    assert.match(text, /frames are not rendered yet/);
    assert.doesNotMatch(text, /--allow-incomplete|--/, 'no command-line flag in the editor');
    await page.screenshot({ path: path.join(shots, 'export-refused.png') });
    await dialog.getByRole('button', { name: 'Close' }).click();
    const status = page.locator('footer.status');
    assert.doesNotMatch(await status.textContent() ?? '', /--allow-incomplete/);
    // An error in the status bar (an image that is not there) stays only until the next action.
    await page.keyboard.press('i');
    await page.getByTestId('path-dialog').locator('input').first().fill(path.join(dir, 'no-such-image.png'));
    await page.getByTestId('path-dialog').getByRole('button', { name: 'OK' }).click();
    await status.locator('[data-testid=error]').getByText(/no-such-image\.png/).waitFor();
    await page.keyboard.press('Control+z');
    await expectKeyframes(page, 2);
    assert.equal(await status.locator('[data-testid=error]').count(), 0, 'no error left in the status bar');
  });
});

const LANE_HALF = 12;

/**
 * The violet warp-error bars in the flicker strip, counted on screenshots until
 * `until` holds for the count (the strip repaints after the figures arrive) or a minute has passed.
 */
async function flickerBars(page: Page, until: (n: number) => boolean): Promise<number> {
  const timeline = page.getByTestId('timeline');
  let bars = -1;
  for (let attempt = 0; attempt < 120; attempt++) {
    const shot = await timeline.screenshot();
    const box = (await timeline.boundingBox())!;
    const top = await timeline.evaluate((e) => Number(e.dataset.coverageY) + 12); // the flicker lane follows the coverage lane
    const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    bars = 0;
    for (let y = Math.round(top); y < Math.round(top + 22) && y < info.height; y++) {
      for (let x = 0; x < Math.min(info.width, box.width); x++) {
        const i = (y * info.width + x) * info.channels;
        if (data[i] > 170 && data[i + 1] < 140 && data[i + 2] > 170) bars++;
      }
    }
    if (until(bars)) return bars;
    await page.waitForTimeout(500);
  }
  return bars;
}
