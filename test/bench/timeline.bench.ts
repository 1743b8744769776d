// Timeline bench: a generated 10,000-frame project with 1,000 keyframes (each with its own image, so the
// keyframe lane draws thumbnails) and coverage figures for every segment, in Chromium through serve mode.
// Prints the time from opening the editor to the first preview frame, and frame times while zooming,
// scrolling, dragging the scrollbar and scrubbing the timeline.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { projectPaths } from '../../main/engine/project/paths';
import { sampleProject } from '../helpers/project';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { writeSegmentCoverage } from '../../main/engine/propagation/coverage';
import { tempDir } from '../helpers/media';
import { launchChromium, startServe, testOutputDir } from '../helpers/serve';
import { TRACE_CATEGORIES, summariseTrace } from '../helpers/chromium-trace';

const FRAMES = 10_000;
/** RR_BENCH_TRACE=1: each measured step also records a Chromium trace (test-output/timeline-<step>.json) and prints where the main thread's time went. */
const TRACE = process.env.RR_BENCH_TRACE === '1';

/**
 * A project with 10,000 frames and keyframes every 10 (1,000), each with an imported image of its own:
 * thumbnails for all frames, full frames for the first few, and coverage figures for every segment.
 */
async function bigProject(): Promise<string> {
  const dir = tempDir('rerender-bench-timeline-');
  const file = path.join(dir, 'long.rerender');
  const paths = projectPaths(file);
  fs.mkdirSync(paths.thumbsDir, { recursive: true });
  fs.mkdirSync(paths.framesDir, { recursive: true });
  fs.mkdirSync(paths.assetsDir, { recursive: true });
  const src = (n: number, filter = '') => ['-f', 'lavfi', '-i', `testsrc2=size=128x64:rate=25${filter}`, '-frames:v', String(n), '-start_number', '0'];
  execFileSync('ffmpeg', ['-v', 'error', ...src(FRAMES), '-q:v', '6', path.join(paths.thumbsDir, '%05d.jpg')]);
  execFileSync('ffmpeg', ['-v', 'error', ...src(200), path.join(paths.framesDir, '%05d.png')]);
  const keys = FRAMES / 10;
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=128x64:rate=25,hue=h=120', '-frames:v', String(keys), '-start_number', '0', path.join(paths.assetsDir, 'key-%05d.png')]);
  const base = sampleProject(FRAMES, Array.from({ length: keys }, (_, i) => i * 10));
  const rel = (i: number) => path.relative(paths.dir, path.join(paths.assetsDir, `key-${String(i).padStart(5, '0')}.png`)).split(path.sep).join('/');
  const p = {
    ...base,
    working: { ...base.working, width: 128, height: 64 },
    keyframes: base.keyframes.map((k, i) => ({ ...k, source: 'imported' as const, image: rel(i), status: 'done' as const, revision: 1 })),
  };
  await writeProjectFile(file, p);
  // Coverage figures under each segment's current output key, as a finished propagation leaves them.
  for (const s of segmentsOf(p)) {
    const dirOf = segmentOutputDir(file, segmentOutputKey(p, s));
    fs.mkdirSync(dirOf, { recursive: true });
    const figures = new Map(Array.from({ length: s.end - s.start + 1 }, (_, i) => {
      const f = s.start + i, t = (i + 1) / (s.end - s.start + 2);
      return [f, { error: 1000 * (1 + Math.sin(f / 37)) * (1 - Math.abs(t - 0.5)), worst: 4000, uncovered: (f % 97) / 400 }] as const;
    }));
    await writeSegmentCoverage(dirOf, s.start, s.end, figures);
  }
  return file;
}

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `${s.length} frames, mean ${mean.toFixed(1)} ms (${(1000 / mean).toFixed(0)} fps), p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${q(1)} ms`;
}

/** Records requestAnimationFrame intervals while `work` runs (and a trace of it with RR_BENCH_TRACE=1). */
async function frameTimes(page: Page, step: string, work: () => Promise<void>): Promise<number[]> {
  if (TRACE) await page.context().browser()!.startTracing(page, { categories: TRACE_CATEGORIES });
  // A string, not a function: tsx would wrap named functions in helpers the page does not have.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__stop = false;
    let last = performance.now();
    const tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  await work();
  const frames = await page.evaluate('(window.__stop = true, window.__frames.slice(1))') as number[];
  if (TRACE) {
    const json = (await page.context().browser()!.stopTracing()).toString('utf8');
    fs.mkdirSync(testOutputDir, { recursive: true });
    fs.writeFileSync(path.join(testOutputDir, `timeline-${step}.json`), json);
    console.log(`${step}, traced:\n${summariseTrace(json)}`);
  }
  return frames;
}

async function main() {
  // Serve mode runs the built CLI and renderer: build them from the current sources first (about a second).
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build.mjs')], { stdio: 'inherit' });
  console.log(`timeline bench: generating a ${FRAMES}-frame project…`);
  const file = await bigProject();
  const serve = await startServe(['--project', file, '--settings', path.join(path.dirname(file), 'settings.json')]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    page.setDefaultTimeout(120_000); // a loaded machine: closing and opening wait for the engine
    await page.goto(serve.url);
    await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]', { timeout: 60_000 });
    const [loaded, firstPreview] = await page.evaluate(`[performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd, performance.getEntriesByName('rerender:first-preview-frame')[0]?.startTime ?? NaN]`) as number[];
    console.log(`open to first preview frame: ${firstPreview.toFixed(0)} ms after navigation (page and script loaded at ${loaded.toFixed(0)} ms; bridge, project state and first frame after that)`);

    const reopen: number[] = [];
    for (let i = 0; i < 3; i++) {
      // Opening the project that is open already does nothing: close it first (back to the start screen).
      await page.keyboard.press('Control+w');
      await page.getByTestId('start-screen').waitFor();
      await page.keyboard.press('Control+o');
      await page.getByTestId('path-dialog').locator('input').fill(file);
      await page.keyboard.press('Enter');
      await page.waitForFunction((n) => performance.getEntriesByName('rerender:open-to-first-preview').length >= n, i + 2, { timeout: 60_000 });
      reopen.push(await page.evaluate(`performance.getEntriesByName('rerender:open-to-first-preview').at(-1).duration`) as number);
    }
    console.log(`open a 10,000-frame project (Open…) to its first preview frame: ${reopen.map((t) => `${t.toFixed(0)} ms`).join(', ')}`);

    const box = (await page.getByTestId('timeline').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + 60);
    await page.keyboard.press('0'); // fit: all 10,000 frames in view
    const zoomIn = await frameTimes(page, 'zoom-in', async () => {
      await page.keyboard.down('Control');
      for (let i = 0; i < 60; i++) { await page.mouse.wheel(0, -120); await page.waitForTimeout(16); }
      await page.keyboard.up('Control');
    });
    console.log(`zooming in at the pointer (ctrl+wheel ×60): ${stats(zoomIn)}`);
    const scroll = await frameTimes(page, 'scroll', async () => {
      for (let i = 0; i < 120; i++) { await page.mouse.wheel(0, 240); await page.waitForTimeout(16); }
    });
    console.log(`scrolling (wheel ×120, thumbnails loading): ${stats(scroll)}`);
    const scrollBack = await frameTimes(page, 'scroll-back', async () => {
      for (let i = 0; i < 120; i++) { await page.mouse.wheel(0, -240); await page.waitForTimeout(16); }
    });
    console.log(`scrolling back (thumbnails cached): ${stats(scrollBack)}`);
    const zoomOut = await frameTimes(page, 'zoom-out', async () => {
      await page.keyboard.down('Control');
      for (let i = 0; i < 60; i++) { await page.mouse.wheel(0, 120); await page.waitForTimeout(16); }
      await page.keyboard.up('Control');
    });
    console.log(`zooming out to the whole video: ${stats(zoomOut)}`);
    const scrub = await frameTimes(page, 'scrub', async () => {
      await page.mouse.move(box.x + 20, box.y + 40);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 20, box.y + 40, { steps: 120 });
      await page.mouse.up();
    });
    console.log(`scrubbing the playhead across the video: ${stats(scrub)}`);
    // Dragging the scrollbar's thumb end to end, zoomed in (each step shows keyframe images not seen yet).
    await page.keyboard.press('0');
    for (let i = 0; i < 8; i++) await page.keyboard.press('=');
    const bar = { y: box.y + box.height - 5 };
    const thumbX = await page.getByTestId('timeline').evaluate((e) => {
      const zoom = Number(e.dataset.zoom), scroll = Number(e.dataset.scroll), frames = Number(e.dataset.frames), w = e.clientWidth;
      const visible = w / zoom, tw = Math.max(24, (visible / frames) * w);
      return (scroll / Math.max(1, frames - visible)) * (w - tw) + tw / 2;
    });
    const drag = await frameTimes(page, 'scrollbar-drag', async () => {
      await page.mouse.move(box.x + thumbX, bar.y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 10, bar.y, { steps: 120 });
      await page.mouse.move(box.x + 10, bar.y, { steps: 120 });
      await page.mouse.up();
    });
    console.log(`dragging the scrollbar end to end and back, zoomed in (keyframe images loading): ${stats(drag)}`);
    const dragAgain = await frameTimes(page, 'scrollbar-drag-again', async () => {
      await page.mouse.move(box.x + 10, bar.y);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width - 10, bar.y, { steps: 120 });
      await page.mouse.up();
    });
    console.log(`dragging the scrollbar again (images cached where they fit): ${stats(dragAgain)}`);
    const worst = await page.getByTestId('timeline').getAttribute('data-worst');
    console.log(`coverage strip: worst frames flagged ${worst}`);
  } finally {
    await browser.close();
    await serve.stop();
    fs.rmSync(path.dirname(file), { recursive: true, force: true }); // about 50 MB of generated frames and thumbnails a run
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
