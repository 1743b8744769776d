// Propagation you can watch (issue 16 item 6), in Debian Chromium through `rerender serve`: while a
// propagation job still runs, the Propagated view already shows a frame it made (frames are written one
// by one, not after the whole segment), and the job's progress counts frames; Cancel leaves the segment
// partly propagated.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/media';
import { makeSegmentProject } from '../helpers/cli';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e');
const FRAMES = 60;
let dir: string;
let project: string;
let editor: EditorPage | undefined;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-live-');
  // One long segment between two keyframes: its frames take a while, so the job runs on after its first frames.
  project = await makeSegmentProject(dir, FRAMES);
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

test('given a propagation running, when the Propagated view is on its first frame, then the frame made shows while the job still runs, with progress in frames', async () => {
  const page = editor!.page;
  await page.keyboard.press('ArrowRight');
  await page.getByRole('button', { name: 'Propagated' }).click();
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="1"][data-pending="1"]');
  await page.keyboard.press('p');
  // One look at the page: the output of frame 1 drawn and the job still running (a job that ended first fails here).
  const seen = await page.waitForFunction(() => {
    const job = document.querySelector('[data-testid=job-propagate]');
    if (job?.getAttribute('data-status') === 'failed') throw new Error(job.textContent ?? 'propagation failed');
    if (job && job.getAttribute('data-status') !== 'running') throw new Error(`the job ended (${job.getAttribute('data-status')}) before its frame was shown`);
    const canvas = document.querySelector<HTMLCanvasElement>('[data-testid=preview-canvas]');
    const shown = canvas?.dataset.drawnFrame === '1' && (canvas.dataset.drawn ?? '').includes('output/00001.png');
    return shown ? { caption: document.querySelector('[data-testid=preview-caption]')?.textContent ?? '', job: job?.textContent ?? '' } : null;
  }, undefined, { timeout: 600_000, polling: 100 });
  const { caption, job } = await seen.jsonValue() as { caption: string; job: string };
  await page.screenshot({ path: path.join(shots, 'propagation-live-frame.png') });
  assert.match(caption, /^propagated frame 1$/);
  const m = /(\d+) of (\d+) frames done/.exec(job);
  assert.ok(m, `the job's progress counts frames: ${job}`);
  assert.ok(Number(m[1]) >= 1 && Number(m[1]) < Number(m[2]), `frames done while running: ${m[0]}`);
  // Shown while the segment's syntheses go on (before, its frames were written only after all of them).
  const k = /(\d+) of (\d+) syntheses/.exec(job);
  assert.ok(k && Number(k[1]) < Number(k[2]), `syntheses still to run when the frame was shown: ${job}`);

  // The job is still running: cancel it, and the segment stays partly propagated with frame 1 kept.
  await page.locator('[data-testid=job-propagate]').getByRole('button', { name: 'Cancel' }).click();
  await page.waitForSelector('[data-testid=job-propagate][data-status=cancelled]');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="1"][data-drawn*="output/00001.png"]');
  await page.getByTestId('preview-canvas').screenshot({ path: path.join(shots, 'propagation-live-cancelled.png') });
  const stats = await sharp(path.join(shots, 'propagation-live-cancelled.png')).stats();
  assert.ok(Math.max(...stats.channels.slice(0, 3).map((c) => c.stdev)) > 3, 'the propagated frame is drawn');
});
