// A video ffmpeg cannot decode, in Debian Chromium through `rerender serve`: the new-project dialog and the
// jobs panel say in one line which file and what is wrong with it, never ffmpeg's raw text; that text is
// kept folded under Details (and in the log).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e');
let dir: string;
let editor: EditorPage | undefined;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-media-errors-');
  editor = await openEditorPage({ settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given a video whose picture data is damaged (its header intact), when a project is made from it, then the failure is one line naming the file and the problem, with ffmpeg\'s words under Details', async () => {
  // An intact MP4 header (so ffprobe accepts it) with every byte of the picture data scrambled.
  const intact = path.join(dir, 'intact.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=s=320x180:r=12', '-frames:v', '24', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', intact]);
  const bytes = fs.readFileSync(intact);
  const at = bytes.indexOf('mdat') + 4;
  for (let k = at; k < bytes.length; k++) bytes[k] = (k * 7) & 0xff;
  const video = path.join(dir, 'damaged take.mp4');
  fs.writeFileSync(video, bytes);

  const page = editor!.page;
  await page.getByTestId('start-screen').getByRole('button', { name: /New project…/ }).click();
  const dialog = page.getByTestId('new-dialog');
  await dialog.getByLabel('Video').fill(video);
  await dialog.getByLabel('Project file').fill(path.join(dir, 'damaged.rerender'));
  await dialog.getByRole('spinbutton').fill('64');
  await dialog.getByRole('button', { name: 'Create' }).click();
  const status = dialog.locator('[data-testid=create-status][data-status=failed]');
  await status.waitFor({ timeout: 120_000 });
  const line = await status.getByRole('alert').textContent() ?? '';
  assert.equal(await status.evaluate((el) => getComputedStyle(el).color), 'rgb(240, 163, 161)', 'a failure reads as an error, not grey text');
  assert.match(line, /^cannot decode damaged take\.mp4: its video data is damaged or incomplete, and no frames could be read from it; use an intact copy of the file/);
  assert.doesNotMatch(line, /h264|NAL|@ 0x|\|/, 'none of ffmpeg\'s own words in the message');
  const job = page.locator('[data-testid=job-create][data-status=failed]');
  await job.getByText(`file: ${video}`).waitFor();
  assert.doesNotMatch(await job.locator('.job-error > div').first().textContent() ?? '', /h264|NAL/);
  // ffmpeg's words are kept, folded away.
  assert.equal(await job.getByTestId('job-error-detail').count(), 1, 'the jobs panel keeps them too');
  const details = status.getByTestId('job-error-detail');
  assert.equal(await details.locator('pre').isVisible(), false, 'folded until asked for');
  await details.locator('summary').click();
  assert.match(await details.locator('pre').textContent() ?? '', /^ffmpeg: .*(NAL|Invalid|Error)/s);
  await page.screenshot({ path: path.join(shots, 'decode-error.png') });
});

test('given a video path where nothing is, when typed in the new-project dialog, then it says so as an error and Create stays off until the path names a video', async () => {
  const page = editor!.page;
  const dialog = page.getByTestId('new-dialog');
  if (!(await dialog.isVisible())) await page.getByRole('button', { name: /New project…/ }).first().click();
  await dialog.getByLabel('Video').fill(path.join(dir, 'no such clip.mp4'));
  const missing = dialog.getByTestId('source-missing');
  await missing.waitFor();
  assert.equal(await missing.getAttribute('role'), 'alert');
  assert.equal(await missing.evaluate((el) => getComputedStyle(el).color), 'rgb(240, 163, 161)');
  const create = dialog.getByRole('button', { name: 'Create' });
  assert.equal(await create.isDisabled(), true, 'Create is off while the video does not exist');
  const video = path.join(dir, 'there.mp4');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=s=160x96:r=12', '-frames:v', '6', '-pix_fmt', 'yuv420p', video]);
  await dialog.getByLabel('Video').fill(video);
  await missing.waitFor({ state: 'detached' });
  await page.waitForFunction(() => !(document.querySelector('[data-testid=new-dialog] button.primary') as HTMLButtonElement | null)?.disabled);
  await dialog.getByRole('button', { name: 'Close' }).click();
});

test('given a video chosen in Open project…, then the editor says it is a video and offers the new project from it, filled in', async () => {
  const page = editor!.page;
  const video = path.join(dir, 'there.mp4'); // made by the test before
  await page.getByTestId('start-screen').getByRole('button', { name: /Open project…/ }).click();
  await page.getByTestId('path-dialog').locator('input').first().fill(video);
  await page.getByTestId('path-dialog').getByRole('button', { name: 'OK' }).click();
  const dialog = page.getByTestId('new-dialog');
  await dialog.getByTestId('opened-video').getByText('there.mp4 is a video, not a Rerender project').waitFor();
  assert.equal(await dialog.getByLabel('Video').inputValue(), video);
  assert.equal(await dialog.getByLabel('Project file').inputValue(), path.join(dir, 'there.rerender'));
  assert.equal(await page.getByTestId('error').count(), 0, 'no error: the offer takes its place');
  await dialog.getByRole('button', { name: 'Close' }).click();
});
