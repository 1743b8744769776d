// Render (R) in the editor on a project with no checkpoint: the job fails in the editor's words (the
// model manager, not the command line's --model flag, and no project path), while the CLI keeps its own.
// The sample's first keyframes are painted (used as they are), so R is pressed on frame 30, its first
// diffusion keyframe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { frameXY, openEditorPage, type EditorPage } from '../helpers/editor-page';
import { copySampleProject } from '../helpers/fixtures';

const dir = tempDir('rerender-nomodel-');
const project = path.join(dir, 'sample.rerender');
let editor: EditorPage;

before(async () => {
  copySampleProject(dir);
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: {}, env: { HOME: dir }, noGoto: true });
});

after(async () => {
  await editor?.close();
});

test('given a project without a checkpoint, when R is pressed in the editor, then the render job says so in the editor\'s words and the CLI in its own', async () => {
  const page = editor.page;
  page.setDefaultTimeout(300_000);
  await page.goto(editor.serve.url);
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]');
  const at = await frameXY(page, 30, 'ruler');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="30"]');
  await page.keyboard.press('r');
  const failed = page.locator('[data-testid=job-render][data-status=failed] .job-error');
  await failed.waitFor();
  const text = (await failed.textContent()) ?? '';
  assert.match(text, /No checkpoint is selected: choose one in the model manager/);
  assert.doesNotMatch(text, /--model|\.rerender/, `no command-line flag or project path: ${text}`);

  // Another copy: the editor holds this project's lock.
  const other = tempDir('rerender-nomodel-cli-');
  const cli = rerender(['render', copySampleProject(other), '--frame', '30'], { env: { HOME: other } });
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /no checkpoint is selected: pass --model <checkpoint> or choose one in the model manager/);
});
