// The editor in Debian Chromium against the real engine through `rerender serve`: open a project;
// add, move and delete keyframes with mouse and keyboard; import an image; import the tiny model, render
// keyframes and propagate; export and check the file with ffprobe; undo/redo; screenshots checked.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir, ffprobeStreams } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { expectKeyframes, frameXY, openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { SD_TINY } from '../helpers/fixtures';

const shots = path.join(testOutputDir, 'e2e');
const TINY_MODEL = SD_TINY;

async function keyframeCount(page: Page): Promise<number> {
  const text = await page.getByTestId('status-frame').textContent();
  return Number(/(\d+) keyframes/.exec(text ?? '')![1]);
}

/** Standard deviation of an image's pixels: a blank (single-colour) picture has almost none. */
async function variance(file: string): Promise<number> {
  const stats = await sharp(file).stats();
  return Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev));
}

describe('editor in Chromium (serve mode)', () => {
  let dir: string;
  let editor: EditorPage;
  let page: Page;

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('rerender-e2e-');
    const video = makeVideo(dir, 'clip', { width: 192, height: 108, frames: 48, fps: 24 });
    const made = rerender(['new', path.join(dir, 'clip.rerender'), '--video', video, '--short-side', '64', '--json']);
    assert.equal(made.code, 0, made.stderr);
    // The first test loads the page itself.
    editor = await openEditorPage({ project: path.join(dir, 'clip.rerender'), settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, noGoto: true });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given the project link, when opened, then the timeline and the first preview frame are drawn and not blank', async () => {
    await page.goto(editor.serve.url);
    await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]', { timeout: 15_000 });
    assert.equal(await keyframeCount(page), 5);
    await page.waitForTimeout(300); // thumbnails arrive after the first paint
    await page.getByTestId('timeline').screenshot({ path: path.join(shots, 'timeline.png') });
    await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'preview.png') });
    await page.screenshot({ path: path.join(shots, 'editor.png') });
    assert.ok(await variance(path.join(shots, 'timeline.png')) > 10, 'the timeline shows thumbnails, ticks and markers');
    assert.ok(await variance(path.join(shots, 'preview.png')) > 10, 'the preview shows the frame');
  });

  test('given the playhead moved by clicking and with arrow keys, when K or "+ Keyframe" is used, then keyframes are added there', async () => {
    const at15 = await frameXY(page, 15, 'ruler');
    await page.mouse.click(at15.x, at15.y);
    await page.waitForFunction(() => /frame 15 \//.test(document.querySelector('[data-testid=status-frame]')?.textContent ?? ''));
    await page.keyboard.press('k');
    await expectKeyframes(page, 6);
    assert.match(await page.getByTestId('inspector').locator('h2').textContent() ?? '', /frame 15/);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.getByRole('button', { name: '+ Keyframe' }).click();
    await expectKeyframes(page, 7);
    assert.match(await page.getByTestId('status-frame').textContent() ?? '', /frame 17 \//);
  });

  test('given a keyframe marker, when dragged with the mouse, then it moves to the frame it is dropped on', async () => {
    const from = await frameXY(page, 15);
    const to = await frameXY(page, 23);
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, from.y, { steps: 4 });
    await page.mouse.move(to.x, to.y, { steps: 4 });
    await page.mouse.up();
    await page.waitForFunction(() => /Keyframe at frame 23/.test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? ''));
    assert.equal(await keyframeCount(page), 7);
  });

  test('given selected keyframes, when Delete is pressed or the Delete button clicked, then they are removed; undo and redo restore and repeat', async () => {
    await page.keyboard.press('Delete'); // the moved keyframe at 23 is selected
    await expectKeyframes(page, 6);
    const at17 = await frameXY(page, 17);
    await page.mouse.click(at17.x, at17.y);
    await page.locator('nav.toolbar button[data-action="keyframe.delete"]').click();
    await expectKeyframes(page, 5);
    await page.keyboard.press('Control+z');
    await expectKeyframes(page, 6);
    await page.keyboard.press('Control+Shift+Z');
    await expectKeyframes(page, 5);
    await page.locator('nav.toolbar button[data-action="edit.undo"]').click();
    await expectKeyframes(page, 6);
    await page.locator('nav.toolbar button[data-action="edit.redo"]').click();
    await expectKeyframes(page, 5);
  });

  test('given shift-click on two markers, when dragged together, then both move by the same amount', async () => {
    const a = await frameXY(page, 10), b = await frameXY(page, 20);
    await page.mouse.click(a.x, a.y);
    await page.keyboard.down('Shift');
    await page.mouse.click(b.x, b.y);
    await page.keyboard.up('Shift');
    await page.waitForFunction(() => /2 keyframes selected/.test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? ''));
    const to = await frameXY(page, 12);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 6 });
    await page.mouse.up();
    await page.waitForFunction(() => /Move 2 keyframes/.test(document.querySelector('nav.toolbar button[data-action="edit.undo"]')?.getAttribute('title') ?? ''));
    assert.equal(await keyframeCount(page), 5);
  });

  test('given an image on disk, when imported as the keyframe at the playhead, then the keyframe shows it and the preview draws it', async () => {
    const image = path.join(dir, 'painted.png');
    await sharp({ create: { width: 400, height: 220, channels: 3, background: { r: 30, g: 160, b: 220 } } })
      .composite([{ input: Buffer.from('<svg width="400" height="220"><circle cx="200" cy="110" r="80" fill="#f0c020"/></svg>') }]).png().toFile(image);
    await page.keyboard.press('End');
    await page.keyboard.press('[');
    await page.keyboard.press('['); // keyframe at 30
    await page.waitForFunction(() => /Keyframe at frame 30/.test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? ''));
    await page.getByTestId('inspector').getByRole('button', { name: 'Import image…' }).click();
    await page.getByTestId('path-dialog').locator('input').fill(image);
    await page.getByTestId('path-dialog').getByRole('button', { name: 'OK' }).click();
    await page.waitForFunction(() => /imported · done/.test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''));
    await page.getByRole('button', { name: 'Keyframe result' }).click();
    await page.waitForTimeout(300);
    await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'preview-keyframe.png') });
    assert.ok(await variance(path.join(shots, 'preview-keyframe.png')) > 10);
    await page.getByRole('button', { name: 'Source' }).click();
  });

  test('given the tiny model imported in the model manager, when keyframes are suggested, rendered and propagated, then every frame has a result', async () => {
    await page.locator('nav.toolbar button[data-action="file.models"]').click();
    await page.getByTestId('models-dialog').getByRole('button', { name: 'Import model…' }).click();
    await page.getByTestId('path-dialog').locator('input').fill(TINY_MODEL);
    await page.getByTestId('path-dialog').getByRole('button', { name: 'OK' }).click();
    // The manager stays open and shows the import's outcome; the model is listed when it is done.
    const models = page.getByTestId('models-dialog');
    await models.locator('[data-testid=import-status][data-status=done]').waitFor({ timeout: 60_000 });
    await models.locator('tr[data-model="sd-tiny"]').getByRole('button', { name: 'Use as checkpoint' }).click();
    await models.getByTestId('project-models').getByText('sd-tiny').waitFor();
    await models.getByRole('button', { name: 'Close' }).click();

    // Project defaults in the inspector: with no keyframe under the playhead it edits them.
    await page.keyboard.press('Escape');
    const at5 = await frameXY(page, 5, 'ruler');
    await page.mouse.click(at5.x, at5.y);
    await page.getByTestId('inspector').getByText('Project render settings').waitFor();
    await page.locator('#field-prompt').fill('an oil painting of a test card');
    await page.locator('#field-steps').click(); // blurring the prompt commits it
    await page.locator('#field-steps').fill('4');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => (document.querySelector('#field-steps') as HTMLInputElement | null)?.value === '4' && /test card/.test((document.querySelector('#field-prompt') as HTMLTextAreaElement | null)?.value ?? ''));

    // Suggest keyframes every 24 frames, preview, apply.
    await page.keyboard.press('Shift+K');
    const suggest = page.getByTestId('suggest-dialog');
    await suggest.getByLabel('Every K frames').fill('24');
    await suggest.getByRole('button', { name: 'Preview' }).click();
    await suggest.getByText('2 keyframes suggested').waitFor();
    // The keyframe at 30 holds the imported image: the suggestion keeps it, and the dialog says so.
    await suggest.getByTestId('suggest-kept').getByText('frame 30').waitFor();
    await suggest.getByRole('button', { name: 'Apply' }).click();
    await expectKeyframes(page, 3);

    const rendered = (n: number) => page.waitForFunction((want) => {
      const jobs = [...document.querySelectorAll('[data-testid=job-render]')];
      const failed = jobs.find((j) => j.getAttribute('data-status') === 'failed');
      if (failed) throw new Error(failed.textContent ?? 'render failed');
      return jobs.filter((j) => j.getAttribute('data-status') === 'done').length >= want;
    }, n, { timeout: 180_000 });
    // Every status a render job shows while it runs, per job, collected in the page (nothing timed).
    await page.evaluate(() => {
      const seen = new Map<Element, string[]>();
      (window as unknown as { renderStatuses: () => string[][] }).renderStatuses = () => [...seen.values()];
      new MutationObserver(() => document.querySelectorAll('[data-testid=job-render]').forEach((j) => {
        const t = j.querySelector('.job-status')?.textContent ?? '';
        const list = seen.get(j) ?? [];
        if (list.at(-1) !== t) list.push(t);
        seen.set(j, list);
      })).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.keyboard.press('Home');
    await page.keyboard.press('r'); // the anchor alone
    await rendered(1);
    await page.locator('nav.toolbar button[data-action="render.all"]').click(); // what is not done: frame 24 only
    await rendered(2);
    // ETAs: "estimating…" until a rate is measured (never a guess from the first step), then an estimate from then on.
    const statuses = await page.evaluate(() => (window as unknown as { renderStatuses: () => string[][] }).renderStatuses());
    assert.ok(statuses.some((list) => list.some((t) => /^\d+% · /.test(t))), `render progress was shown: ${JSON.stringify(statuses)}`);
    for (const list of statuses) {
      const running = list.filter((t) => /^\d+% · /.test(t));
      const first = running.findIndex((t) => !t.endsWith('estimating…'));
      if (running.length) assert.match(running[0], /estimating…$/, `the first status of a render: ${list.join(' | ')}`);
      if (first >= 0) assert.ok(running.slice(first).every((t) => /· \d+ (s|min)( \d+ s)? left$/.test(t)), `an estimate once measured stays: ${list.join(' | ')}`);
    }
    assert.ok(await page.locator('[data-testid=job-render]', { hasText: 'Render 1 keyframe not done yet' }).count() === 1);
    // Once the editor holds frame 24's image, render the anchor again: its first render goes into the history.
    await page.keyboard.press(']');
    await page.waitForFunction(() => /Keyframe at frame 24/.test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? '') && /diffusion · done/.test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''));
    await page.keyboard.press('Home');
    await page.keyboard.press('r');
    await rendered(3);
    await page.waitForFunction(() => /diffusion · done/.test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''));
    // The anchor's first render is in its history: compare it, then pick it back, as an undoable edit.
    await page.getByTestId('history').locator('button[data-index="0"]').click();
    await page.getByTestId('history-actions').getByRole('button', { name: 'Use this render' }).click();
    await page.waitForFunction(() => /Use earlier render/.test(document.querySelector('nav.toolbar button[data-action="edit.undo"]')?.getAttribute('title') ?? ''));
    // The keyframe at 24 was constrained by the anchor's newer image: stale at once, with the reason.
    await page.keyboard.press(']');
    await page.waitForFunction(() => /Keyframe at frame 24/.test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? '') && /diffusion · stale/.test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''));
    assert.match(await page.getByTestId('inspector').locator('.note').textContent() ?? '', /anchor keyframe at frame 0 has a new image/);
    // Stale at a glance: frame 24's marker (under its framed image with the ! badge) is in the stale orange, frame 0's (current) is not.
    await page.waitForTimeout(300); // the lane repaints on the next frame
    const laneShot = path.join(shots, 'timeline-stale.png');
    await page.getByTestId('timeline').screenshot({ path: laneShot });
    const orangeNear = async (f: number) => {
      const box = (await page.getByTestId('timeline').boundingBox())!;
      const at = await frameXY(page, f, 'marker');
      const { data, info } = await sharp(laneShot).raw().toBuffer({ resolveWithObject: true });
      let n = 0;
      for (let y = Math.max(0, Math.round(at.y - box.y - 6)); y < Math.min(info.height, at.y - box.y + 6); y++) {
        for (let x = Math.max(0, Math.round(at.x - box.x - 6)); x < Math.min(info.width, at.x - box.x + 6); x++) {
          const i = (y * info.width + x) * info.channels;
          if (Math.abs(data[i] - 208) < 30 && Math.abs(data[i + 1] - 140) < 30 && data[i + 2] < 90) n++; // #d08c2f
        }
      }
      return n;
    };
    assert.ok(await orangeNear(24) > 10, 'the stale keyframe\'s marker is orange');
    assert.equal(await orangeNear(0), 0, 'the current anchor is not');
    await page.getByRole('button', { name: 'Keyframe result' }).click();
    await page.waitForTimeout(300);
    await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'preview-rendered-keyframe.png') });
    assert.ok(await variance(path.join(shots, 'preview-rendered-keyframe.png')) > 3);

    // The picked anchor image has no render caches for frame 24 to be constrained by: Re-render all.
    await page.keyboard.press('Control+Shift+R');
    await rendered(4);
    assert.ok(await page.locator('[data-testid=job-render]', { hasText: 'Re-render all 2 keyframes' }).count() === 1);
    await page.waitForFunction(() => /diffusion · done/.test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''));

    await page.keyboard.press('p');
    await page.waitForFunction(() => {
      const job = document.querySelector('[data-testid=job-propagate]');
      if (job?.getAttribute('data-status') === 'failed') throw new Error(job.textContent ?? 'propagation failed');
      return job?.getAttribute('data-status') === 'done';
    }, undefined, { timeout: 180_000 });
    const at12 = await frameXY(page, 12, 'ruler');
    await page.mouse.click(at12.x, at12.y);
    await page.getByRole('button', { name: 'Propagated' }).click();
    await page.waitForTimeout(300);
    await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'preview-propagated.png') });
    assert.ok(await variance(path.join(shots, 'preview-propagated.png')) > 3);
    await page.getByTestId('timeline').screenshot({ path: path.join(shots, 'timeline-propagated.png') });
    await page.getByRole('button', { name: 'Source' }).click();
  });

  test('given the export dialog, when an MP4 of the whole video is exported, then ffprobe finds every frame', async () => {
    const out = path.join(dir, 'export.mp4');
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByLabel('Destination').fill(out);
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await page.waitForSelector('[data-testid=export-status][data-status=done]', { timeout: 120_000 });
    await page.screenshot({ path: path.join(shots, 'export.png') });
    const video = ffprobeStreams(out).find((s) => s.codec_type === 'video')!;
    assert.equal(video.codec_name, 'h264');
    assert.equal(Number(video.nb_read_frames), 48);
    assert.equal(video.width, 192, 'exported at the source\'s own pixels (the working frames are 128 wide)');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('given the help overlay, when opened with ?, then it lists the shortcuts from the action registry', async () => {
    await page.keyboard.press('?');
    const help = page.getByTestId('help-overlay');
    await help.waitFor();
    const text = await help.textContent();
    for (const s of ['Add keyframe at playhead', 'Delete selected keyframes', 'Undo', 'Export video…']) assert.ok(text?.includes(s), s);
    await page.keyboard.press('Escape');
  });

  test('given the propagated result, when compared side by side or with a wipe and played, then both images show and the playhead advances', async () => {
    await page.keyboard.press('Home');
    await page.getByRole('button', { name: 'Propagated' }).click();
    for (const mode of ['Side by side', 'A/B wipe'] as const) {
      await page.getByRole('button', { name: mode }).click();
      await page.waitForTimeout(300);
      const shot = path.join(shots, `preview-${mode === 'A/B wipe' ? 'wipe' : 'side-by-side'}.png`);
      await page.getByTestId('preview-canvas').screenshot({ path: shot });
      assert.ok(await variance(shot) > 3, mode);
    }
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForTimeout(700);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    const frame = Number(/frame (\d+) \//.exec(await page.getByTestId('status-frame').textContent() ?? '')![1]);
    assert.ok(frame > 0, 'playback moved the playhead');
  });
});
