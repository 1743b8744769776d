// The timeline's edges in Debian Chromium through `rerender serve`, checked on a screenshot: the first and
// last keyframes' thumbnails are drawn whole (their frames start at the timeline's left edge and end at
// its right edge, not half outside), and the ruler's last label is whole, on the left of its tick.
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
// 51 frames: at the fitted zoom the ruler's last labelled tick (frame 50) lies a few pixels from the right edge.
const FRAMES = 51;
let dir: string;
let editor: EditorPage | undefined;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-edges-');
  const project = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: FRAMES, fps: 24 });
  for (const args of [['new', project, '--video', video, '--short-side', '64'], ['keyframes', project, '--set', `0,25,${FRAMES - 1}`]]) {
    const r = rerender([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const f of [0, 25, FRAMES - 1]) {
    const image = path.join(dir, `style-${f}.png`);
    await sharp(path.join(projectPaths(project).framesDir, frameFileName(f))).modulate({ hue: 120, saturation: 2 }).png().toFile(image);
    assert.equal(rerender(['import-keyframe', project, '--frame', String(f), '--image', image]).code, 0);
  }
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given keyframes at the first and last frames, then their thumbnails and the ruler\'s last label are whole at the timeline\'s edges', async () => {
  const page = editor!.page;
  const timeline = page.getByTestId('timeline');
  // The frames are painted with the lane (the images inside them as they load); give the images a moment for the picture.
  await page.waitForTimeout(1000);
  const shot = path.join(shots, 'timeline-edges.png');
  await timeline.screenshot({ path: shot });
  const [zoom, keysY] = await timeline.evaluate((e) => [Number(e.dataset.zoom), Number(e.dataset.keysY)]);
  const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
  const px = (x: number, y: number) => { const i = (y * info.width + x) * info.channels; return [data[i], data[i + 1], data[i + 2]]; };
  const isGreen = ([r, g, b]: number[]) => Math.abs(r - 0x2f) < 24 && Math.abs(g - 0xa3) < 24 && Math.abs(b - 0x6b) < 24; // a done keyframe's frame
  // The canvas spans the video at the fitted zoom: the last frame ends at its right edge.
  const width = Math.round(FRAMES * zoom);
  assert.ok(Math.abs(width - info.width) <= 2 || width <= info.width, `video ${width} px in a ${info.width} px timeline`);
  // Left edge: the first keyframe's frame has its left side at x 0–1 (before: half the thumbnail was left of the edge).
  const rows = [keysY - 6, keysY, keysY + 6].map(Math.round);
  for (const y of rows) assert.ok(isGreen(px(0, y)) || isGreen(px(1, y)), `left side of the first thumbnail at the edge (row ${y}: ${px(0, y)})`);
  // Right edge: the last keyframe's frame has its right side at the video's end.
  for (const y of rows) assert.ok(isGreen(px(width - 1, y)) || isGreen(px(width - 2, y)), `right side of the last thumbnail at the edge (row ${y}: ${px(width - 1, y)})`);
  // Ruler: the label of the last tick (frame 50) lies left of the tick, none of it right of it.
  const tick = Math.round(50 * zoom);
  const text = (from: number, to: number) => { let n = 0; for (let x = Math.max(0, from); x < Math.min(info.width, to); x++) for (let y = 2; y < 14; y++) { const [r, g, b] = px(x, y); if (r + g + b > 520) n++; } return n; };
  assert.ok(tick > info.width - 40, `the last tick at ${tick} px is near the right edge (${info.width} px)`);
  assert.equal(text(tick + 2, info.width), 0, 'no label text right of the last tick (it would be cut there)');
  assert.ok(text(tick - 70, tick - 1) > 20, 'the last label is drawn left of its tick');
});
