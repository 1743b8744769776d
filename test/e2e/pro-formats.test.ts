// Pro formats in Debian Chromium against the real engine through `rerender serve`: a new project from a
// folder of PNG frames with a stated frame rate (the dialog asks for it once the path is a folder, and
// names missing frame numbers), then exports as ProRes 422 HQ and as PNG frames from a chosen number.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { makeImageSequence, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { exportDestination, openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e');

/** The colour at the middle of a screenshot (the frames of makeImageSequence are flat: red = 10 × frame). */
async function middleColour(file: string): Promise<number[]> {
  const image = sharp(file);
  const { width, height } = await image.metadata();
  const { data } = await image.extract({ left: Math.floor(width! / 2), top: Math.floor(height! / 2), width: 1, height: 1 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return [...data];
}

function assertColour(got: number[], want: number[], what: string): void {
  assert.ok(got.every((c, i) => Math.abs(c - want[i]) <= 8), `${what}: ${got} ≈ ${want}`);
}

describe('pro formats in the editor (Chromium, serve mode)', () => {
  let dir: string;
  let frames: string;
  let editor: EditorPage;
  let page: Page;
  const project = () => path.join(dir, 'shot.rerender');

  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    dir = tempDir('rerender-e2e-pro-');
    frames = makeImageSequence(dir, 'shot frames', { count: 24, width: 192, height: 108 });
    // The first test loads the page itself.
    editor = await openEditorPage({ settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, noGoto: true });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
  });

  test('given a folder of frames typed in the new-project dialog, then it asks for the frame rate, names missing numbers, and creates the project at that rate', async () => {
    await page.goto(editor.serve.url);
    await page.getByTestId('start-screen').getByRole('button', { name: /New project…/ }).click();
    const dialog = page.getByTestId('new-dialog');
    assert.equal(await dialog.getByLabel('Frame rate').count(), 0, 'no frame rate for a video or nothing yet');

    // A copy with frames 5 and 6 missing: the dialog says so and offers to take the frames in order.
    const gappy = path.join(dir, 'gappy');
    fs.cpSync(frames, gappy, { recursive: true });
    for (const n of ['0005.png', '0006.png']) fs.rmSync(path.join(gappy, n));
    await dialog.getByLabel('Video').fill(gappy);
    await dialog.getByTestId('sequence-source').getByText('22 PNG frames, 0001.png to 0024.png; frame numbers 5-6 are missing').waitFor();
    await dialog.getByText('Take the frames in order despite the missing numbers').waitFor();

    await dialog.getByLabel('Video').fill(frames);
    await dialog.getByTestId('sequence-source').getByText('24 PNG frames, 0001.png to 0024.png').waitFor();
    assert.equal(await dialog.getByText('Take the frames in order').count(), 0);
    await dialog.getByLabel('Project file').fill(project());
    await dialog.locator('input[type=number]').fill('64');
    const create = dialog.getByRole('button', { name: 'Create' });
    assert.ok(await create.isDisabled(), 'a sequence needs its frame rate first');
    await dialog.getByLabel('Frame rate').fill('12');
    await dialog.screenshot({ path: path.join(shots, 'new-sequence-dialog.png') });
    await create.click();
    await page.waitForFunction(() => /24 frames|frame 0 \/ 23/.test(document.querySelector('[data-testid=status-frame]')?.textContent ?? ''), undefined, { timeout: 120_000 });
    await dialog.waitFor({ state: 'detached' }); // the dialog closes itself once the project is open
    await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]', { timeout: 30_000 });
    await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'sequence-preview.png') });
    assertColour(await middleColour(path.join(shots, 'sequence-preview.png')), [0, 128, 255], 'the preview shows 0001.png');
    for (let k = 0; k < 10; k++) await page.keyboard.press('ArrowRight');
    await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="10"]', { timeout: 30_000 });
    await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'sequence-preview-10.png') });
    assertColour(await middleColour(path.join(shots, 'sequence-preview-10.png')), [100, 128, 155], 'frame 10 is 0011.png');

    const info = rerender(['info', project(), '--json']).json();
    assert.equal(info.frames, 24);
    assert.equal(info.fpsRational, '12');
    assert.equal(info.source.sequence.first, '0001.png');
    assert.equal(info.sourceStatus, 'ok');
  });

  test('given the export dialog, when ProRes 422 HQ is chosen, then the MOV is ProRes HQ 10-bit 4:2:2 with every frame at 12 fps', async () => {
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByLabel('Format').selectOption('prores');
    assert.equal(await exportDestination(page, path.join(dir, 'shot (rerendered).mov')), path.join(dir, 'shot (rerendered).mov'), 'the destination follows the format');
    assert.equal(await dialog.getByLabel('First frame number').count(), 0, 'a video has no numbered frames');
    await dialog.getByText('Use source frames where nothing is rendered yet').click();
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await page.waitForSelector('[data-testid=export-status][data-status=done]', { timeout: 120_000 });
    await dialog.screenshot({ path: path.join(shots, 'export-prores.png') });
    const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_streams', path.join(dir, 'shot (rerendered).mov')], { encoding: 'utf8' })).streams;
    assert.deepEqual(out.map((s: { codec_type: string }) => s.codec_type), ['video'], 'an image sequence has no sound');
    const [v] = out;
    assert.deepEqual([v.codec_name, v.profile, v.pix_fmt, v.r_frame_rate, Number(v.nb_read_frames)], ['prores', 'HQ', 'yuv422p10le', '12/1', 24]);
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  test('given the export dialog, when PNG frames from 86400 are chosen, then the folder holds 86400.png to 86423.png', async () => {
    await page.keyboard.press('Control+e');
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByLabel('Format').selectOption('png');
    const out = path.join(dir, 'shot (rerendered frames)');
    assert.equal(await exportDestination(page, out), out);
    await dialog.getByLabel('First frame number').fill('86400');
    await dialog.getByText('Use source frames where nothing is rendered yet').click();
    await dialog.screenshot({ path: path.join(shots, 'export-png-start-number.png') });
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await page.waitForSelector('[data-testid=export-status][data-status=done]', { timeout: 120_000 });
    const names = fs.readdirSync(out).filter((n) => n.endsWith('.png')).sort();
    assert.deepEqual(names, Array.from({ length: 24 }, (_, k) => `${86400 + k}.png`));
    await dialog.getByRole('button', { name: 'Close' }).click();
  });
});
