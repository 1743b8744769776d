// A project whose frame cache is gone and whose source video was moved, opened in Debian Chromium through
// `rerender serve`: decoding the frames again fails, and the status bar says so (not "decoding…" for ever);
// the banner and the jobs panel offer the editor's Relink source…, not the command line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { projectPaths } from '../../main/engine/project/paths';
import { openEditorPage, shotsDir, type EditorPage } from '../helpers/editor-page';

const shots = shotsDir('e2e');
let editor: EditorPage | undefined;

before(async () => {
  const dir = tempDir('rerender-e2e-missing-');
  const video = makeVideo(dir, 'clip', { width: 128, height: 64, frames: 12, fps: 12 });
  const project = path.join(dir, 'clip.rerender');
  const made = rerender(['new', project, '--video', video, '--short-side', '64']);
  assert.equal(made.code, 0, made.stderr);
  fs.rmSync(projectPaths(project).cacheDir, { recursive: true, force: true });
  fs.renameSync(video, path.join(dir, 'moved.mp4'));
  // The page loads in the test: frame 0 is never drawn without frames.
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, noGoto: true });
});

after(async () => {
  await editor?.close();
});

test('given a lost frame cache and a moved source, when the project is opened, then the failed decode is named in the status bar and Relink is offered', async () => {
  const page = editor!.page;
  await page.goto(editor!.serve.url);
  await page.locator('[data-testid=job-decode][data-status=failed]').waitFor();
  await page.getByTestId('frames-note').getByText(/the frames could not be decoded \(the reason is in Jobs\)/).waitFor();
  assert.doesNotMatch((await page.locator('footer.status').textContent()) ?? '', /decoding the frames again/);
  await page.getByRole('button', { name: 'Relink source…' }).waitFor();
  // In the editor's words: its button, not the command line.
  for (const where of ['source-problem', 'jobs']) {
    const text = (await page.getByTestId(where).textContent()) ?? '';
    assert.match(text, /relink it with Relink source…/, where);
    assert.doesNotMatch(text, /rerender relink|--video/, where);
  }
  await page.screenshot({ path: path.join(shots, 'missing-frames.png') });
});
