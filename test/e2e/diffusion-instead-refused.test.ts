// "Render with diffusion instead" on an imported keyframe whose segment is propagated, in a project with no
// checkpoint: the editor refuses before touching the keyframe (it stays imported and done, nothing to
// undo, no render job), instead of switching it to "diffusion · empty" and then failing the render.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { openEditorPage, testOutputDir, waitInspector, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e');
const dir = tempDir('rerender-diffusion-refused-');
const project = path.join(dir, 'clip.rerender');
let editor: EditorPage;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  const video = makeVideo(dir, 'clip', { width: 192, height: 108, frames: 12, fps: 24 });
  for (const args of [
    ['new', project, '--video', video, '--short-side', '64'],
    ['keyframes', project, '--set', '0'],
  ]) {
    const r = rerender(args);
    assert.equal(r.code, 0, r.stderr);
  }
  const image = path.join(dir, 'blue.png');
  await sharp({ create: { width: 192, height: 108, channels: 3, background: { r: 30, g: 90, b: 230 } } }).png().toFile(image);
  for (const args of [['import-keyframe', project, '--frame', '0', '--image', image], ['propagate', project]]) {
    const r = rerender(args, { env: { HOME: dir } });
    assert.equal(r.code, 0, r.stderr);
  }
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, env: { HOME: dir } });
});

after(async () => {
  await editor?.close();
});

test('given an imported, propagated keyframe and no checkpoint, when "Render with diffusion instead" is clicked, then it is refused and the keyframe stays imported', async () => {
  const page = editor.page;
  await waitInspector(page, /Keyframe at frame 0.*imported · done/);
  await page.getByTestId('inspector').getByRole('button', { name: 'Render with diffusion instead' }).click();
  const error = page.getByTestId('error');
  await error.waitFor();
  const text = (await error.textContent()) ?? '';
  assert.match(text, /cannot render the keyframe at frame 0 with diffusion: no checkpoint is selected: choose one in the model manager; its imported image stays/);
  assert.doesNotMatch(text, /--model|\.rerender/, `the editor's words: ${text}`);
  await page.screenshot({ path: path.join(shots, 'diffusion-instead-refused.png') });
  await waitInspector(page, /Keyframe at frame 0.*imported · done/);
  assert.equal(await page.locator('nav.toolbar button[data-action="edit.undo"]').isDisabled(), true, 'no edit was made');
  assert.equal(await page.locator('[data-testid=job-render]').count(), 0, 'no render job started');
});
