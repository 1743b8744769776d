// An unfinished frame in the Propagated view, in Debian Chromium through `rerender serve`: a segment
// propagated part way (as an interrupted or running propagation leaves it) shows its missing frames as the
// source frame dimmed under "not propagated yet", never as a black canvas captioned like output; its
// finished frames show the output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';

const shots = path.join(testOutputDir, 'e2e');
let dir: string;
let project: string;
let editor: EditorPage | undefined;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-partial-');
  project = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 128, height: 64, frames: 11, fps: 10 });
  for (const args of [['new', project, '--video', video, '--short-side', '64'], ['keyframes', project, '--set', '0,10']]) {
    const r = rerender([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const f of [0, 10]) {
    const image = path.join(dir, `style-${f}.png`);
    await sharp(path.join(projectPaths(project).framesDir, frameFileName(f))).modulate({ hue: 120, saturation: 2 }).png().toFile(image);
    const r = rerender(['import-keyframe', project, '--frame', String(f), '--image', image]);
    assert.equal(r.code, 0, r.stderr);
  }
  const propagated = rerender(['propagate', project, '--json']);
  assert.equal(propagated.code, 0, propagated.stderr);
  // Leave the segment as a propagation stopped part way leaves it: frames 6 to 9 not written, not complete.
  const outputs = projectPaths(project).outputDir;
  const segment = fs.readdirSync(outputs).map((d) => path.join(outputs, d)).find((d) => fs.existsSync(path.join(d, frameFileName(7))));
  assert.ok(segment, 'the propagation wrote frame 7');
  for (const name of fs.readdirSync(segment)) if (!name.endsWith('.png')) fs.rmSync(path.join(segment, name));
  for (const f of [6, 7, 8, 9]) fs.rmSync(path.join(segment, frameFileName(f)));
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given a segment propagated part way, when an unfinished frame is shown in the Propagated view, then the source frame is drawn dimmed under "not propagated yet", and a finished frame shows the output', async () => {
  const page = editor!.page;
  for (let i = 0; i < 7; i++) await page.keyboard.press('ArrowRight');
  await page.getByRole('button', { name: 'Propagated' }).click();
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="7"][data-pending="1"]');
  assert.match(await page.getByTestId('preview-caption').textContent() ?? '', /frame 7 is not propagated yet/);
  assert.match(await page.getByTestId('preview-empty').textContent() ?? '', /frame 7 is not propagated yet/);
  const shot = path.join(shots, 'preview-not-propagated.png');
  await page.getByTestId('preview-canvas').screenshot({ path: shot });
  const stats = await sharp(shot).stats();
  assert.ok(Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev)) > 3, 'the dimmed source frame is drawn, not a plain black canvas');

  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="3"][data-drawn*="output/00003.png"]');
  assert.match(await page.getByTestId('preview-caption').textContent() ?? '', /^propagated frame 3$/);
  assert.equal(await page.getByTestId('preview-empty').count(), 0);
});
