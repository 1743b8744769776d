// Suggest keyframes in Debian Chromium through `rerender serve`: a keyframe holding an image the user
// imported is never dropped silently by a suggestion. The dialog names the keyframes that stay because of
// their images and the empty ones that go; Apply keeps the image; undo brings back the set from before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { expectKeyframes, openEditorPage, type EditorPage } from '../helpers/editor-page';

let dir: string;
let project: string;
let editor: EditorPage | undefined;

before(async () => {
  dir = tempDir('rerender-e2e-suggest-');
  project = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 128, height: 64, frames: 48, fps: 24 });
  const image = path.join(dir, 'painted.png');
  await sharp({ create: { width: 128, height: 64, channels: 3, background: { r: 30, g: 160, b: 220 } } }).png().toFile(image);
  for (const args of [['new', project, '--video', video, '--short-side', '64'], ['keyframes', project, '--set', '0,10,25,40'], ['import-keyframe', project, '--frame', '25', '--image', image]]) {
    const r = rerender([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given a keyframe with an imported image off the suggested frames, when keyframes every 24 are previewed and applied, then the dialog says it stays, it keeps its image, and undo restores the empty ones removed', async () => {
  const page = editor!.page;
  await expectKeyframes(page, 4);
  await page.keyboard.press('Shift+K');
  const suggest = page.getByTestId('suggest-dialog');
  await suggest.getByLabel('Every K frames').fill('24');
  await suggest.getByRole('button', { name: 'Preview' }).click();
  await suggest.getByText('2 keyframes suggested').waitFor();
  assert.match(await suggest.getByTestId('suggest-kept').textContent() ?? '', /because they have images: frame 25\b/);
  assert.match(await suggest.getByTestId('suggest-removed').textContent() ?? '', /frames 10, 40\b/);
  await suggest.getByRole('button', { name: 'Apply' }).click();
  await expectKeyframes(page, 3); // 0, 24 and the imported 25
  await page.keyboard.press('Home');
  for (const [f, what] of [[24, /diffusion · empty/], [25, /imported · done/]] as const) {
    await page.keyboard.press(']');
    await page.waitForFunction(([frame, src]) => new RegExp(`Keyframe at frame ${frame}\\b`).test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? '')
      && new RegExp(src).test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''), [f, what.source] as const);
  }
  await page.keyboard.press('Control+z');
  await expectKeyframes(page, 4);
  await page.keyboard.press('Home');
  await page.keyboard.press(']');
  await page.waitForFunction(() => /Keyframe at frame 10\b/.test(document.querySelector('[data-testid=inspector] h2')?.textContent ?? ''));
});
