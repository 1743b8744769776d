// The bundled sample project as `npm start` serves it, from a copy without its frame cache: the editor
// decodes the frames as a job and then shows the timeline and the first frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/media';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { copySampleProject } from '../helpers/fixtures';

let editor: EditorPage;

before(async () => {
  const dir = tempDir('rerender-sample-');
  copySampleProject(dir);
  // The test loads the page itself (the frames are decoded first).
  editor = await openEditorPage({ project: path.join(dir, 'sample.rerender'), settingsFile: path.join(dir, 'settings.json'), noGoto: true });
});

after(async () => {
  await editor?.close();
});

test('given the sample project without its cache, when opened in the browser, then its frames are decoded and shown', async () => {
  const page = editor.page;
  await page.goto(editor.serve.url);
  await page.waitForSelector('[data-testid=job-decode][data-status=done]', { timeout: 120_000 });
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]', { timeout: 30_000 });
  assert.match(await page.getByTestId('status-frame').textContent() ?? '', /frame 0 \/ \d+ · \d+ keyframes/);
  await page.waitForTimeout(300);
  fs.mkdirSync(path.join(testOutputDir, 'e2e'), { recursive: true });
  const shot = path.join(testOutputDir, 'e2e', 'sample.png');
  await page.screenshot({ path: shot });
  const stats = await sharp(shot).stats();
  assert.ok(Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev)) > 10);
});
