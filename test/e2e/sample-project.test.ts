// The bundled sample project as `npm start` serves it, from a copy without its frame cache: the editor
// decodes the frames as a job and then shows the timeline and the first frame, with the sample's painted
// keyframes as pictures on the timeline's keyframe lane and the keyframes left to render as "empty".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { tempDir } from '../helpers/media';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';
import { copySampleProject } from '../helpers/fixtures';
import { readProjectFile } from '../../main/engine/project/project-file';
import type { Project } from '../../preload/project-schema';
import { keyThumbX, LANES, TOP } from '../../renderer/timeline/timeline-paint';

let editor: EditorPage;
let project: Project;
const dir = tempDir('rerender-sample-');

before(async () => {
  project = await readProjectFile(copySampleProject(dir));
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

/** Mean colour of a w×h box of an RGB(A) raw image. */
function meanColour(img: { data: Buffer; info: OutputInfo }, x0: number, y0: number, w: number, h: number): number[] {
  const sum = [0, 0, 0];
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) {
    const i = (y * img.info.width + x) * img.info.channels;
    for (let c = 0; c < 3; c++) sum[c]! += img.data[i + c]!;
  }
  return sum.map((v) => v / (w * h));
}

test('given the sample opened, then the keyframe lane shows each painted keyframe\'s picture and the others as empty', async () => {
  const page = editor.page;
  const timeline = page.getByTestId('timeline');
  const [zoom, scroll] = await timeline.evaluate((e) => [Number(e.dataset.zoom), Number(e.dataset.scroll)]);
  const view = { zoom, scroll, width: (await timeline.boundingBox())!.width };
  // Each keyframe's thumbnail where the lane paints it; the top half, inside its frame, above the badge and the "empty" label.
  const h = LANES.keys - 8, w = Math.max(12, Math.min(h * (project.working.width / project.working.height), 120));
  const spots = project.keyframes.map((k) => ({ k, x: Math.round(keyThumbX(k.frame, w, view, project.frames.count)) + 3, y: TOP.keys + 4 + 3, w: Math.floor(w) - 6, h: Math.floor(h / 2) - 3 }));
  // The painted image's own colour there: the mean of its top half.
  const expected = new Map<string, number[]>();
  for (const k of project.keyframes) {
    if (!k.image) continue;
    const top = await sharp(path.join(dir, k.image)).extract({ left: 0, top: 0, width: project.working.width, height: project.working.height / 2 }).toBuffer();
    expected.set(k.id, (await sharp(top).stats()).channels.slice(0, 3).map((c) => c.mean));
  }
  const shot = path.join(testOutputDir, 'e2e', 'sample-keyframe-lane.png');
  let failures: string[] = [];
  // The thumbnails load after the lane is first painted: look again until they are drawn.
  for (let attempt = 0; attempt < 60; attempt++) {
    await timeline.screenshot({ path: shot });
    const img = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    failures = [];
    for (const s of spots) {
      const seen = meanColour(img, s.x, s.y, s.w, s.h);
      const want = expected.get(s.k.id);
      if (want) {
        if (seen.some((v, c) => Math.abs(v - want[c]!) > 30)) failures.push(`frame ${s.k.frame}: ${seen.map(Math.round)} is not its picture's ${want.map(Math.round)}`);
      } else if (Math.max(...seen) > 40) failures.push(`frame ${s.k.frame}: ${seen.map(Math.round)} is not an empty thumbnail`);
    }
    if (failures.length === 0) break;
    await page.waitForTimeout(500);
  }
  assert.deepEqual(failures, [], `keyframe lane (${shot})`);
  assert.ok(expected.size > 0 && expected.size < project.keyframes.length, 'the sample has both kinds');
});
