// A stale segment in the preview (issue 15), in Debian Chromium through `rerender serve`: after a
// propagation, a keyframe gets a new image; the segment beside it shows "stale" and the preview still
// shows what was propagated, marked stale, instead of a blank "not propagated yet".
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

/** A keyframe image for `frame`: its decoded frame with the colours turned (`hue` degrees). */
async function styled(frame: number, hue: number): Promise<string> {
  const out = path.join(dir, `style-${frame}-${hue}.png`);
  await sharp(path.join(projectPaths(project).framesDir, frameFileName(frame))).modulate({ hue, saturation: 2 }).png().toFile(out);
  return out;
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-stale-');
  project = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 128, height: 64, frames: 11, fps: 10 });
  for (const args of [['new', project, '--video', video, '--short-side', '64'], ['keyframes', project, '--set', '0,10']]) {
    const r = rerender([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const f of [0, 10]) assert.equal(rerender(['import-keyframe', project, '--frame', String(f), '--image', await styled(f, 120)]).code, 0);
  const propagated = rerender(['propagate', project, '--json']);
  assert.equal(propagated.code, 0, propagated.stderr);
  // The keyframe at 10 is painted again: segment 0-10 was propagated from its earlier image.
  const again = rerender(['import-keyframe', project, '--frame', '10', '--image', await styled(10, 240)]);
  assert.equal(again.code, 0, again.stderr);
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given a segment propagated before its keyframe got a new image, when a frame of it is previewed, then the old frame is shown marked stale', async () => {
  const page = editor!.page;
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  await page.getByRole('button', { name: 'Propagated' }).click();
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="5"][data-drawn*="output-stale/00005.png"]');
  await page.getByTestId('preview-stale').waitFor();
  assert.match(await page.getByTestId('preview-caption').textContent() ?? '', /stale frame 5: the keyframe at frame 10 has a new image/);
  const shot = path.join(shots, 'preview-stale.png');
  await page.getByTestId('preview-canvas').screenshot({ path: shot });
  const stats = await sharp(shot).stats();
  assert.ok(Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev)) > 3, 'the old frame is drawn, not a blank canvas');
  await page.screenshot({ path: path.join(shots, 'editor-stale.png') });
});
