// The editor open in Debian Chromium for the browser tests, set up one way: `rerender serve` (the built
// CLI, as a user runs it) with a settings file of its own, a 1280×800 page with generous waits (a loaded
// 2-core machine runs real renders and ffmpeg behind them), page errors printed; and where a frame lies
// on the timeline.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, startServe, type ServeProcess } from './serve';

export interface EditorPage {
  serve: ServeProcess;
  browser: Browser;
  page: Page;
  /** Closes the browser and stops the server. */
  close(): Promise<void>;
}

export interface EditorPageOptions {
  /** The project to open (`--project`); none shows the start screen. */
  project?: string;
  /** The settings file (`--settings`); written with `settings` when given, else `<dir of project>/settings.json` must exist. */
  settingsFile: string;
  settings?: Record<string, unknown>;
  /** Extra environment of the server (e.g. HOME for the file browser's places). */
  env?: NodeJS.ProcessEnv;
  viewport?: { width: number; height: number };
  /** Go to the editor's URL and wait until frame 0 is drawn in the preview (default: when a project is given). */
  waitForFirstFrame?: boolean;
  /** Do not load the page yet (a test that checks the first load itself). */
  noGoto?: boolean;
}

export async function openEditorPage(o: EditorPageOptions): Promise<EditorPage> {
  if (o.settings) fs.writeFileSync(o.settingsFile, JSON.stringify(o.settings));
  const serve = await startServe([...(o.project ? ['--project', o.project] : []), '--settings', o.settingsFile], o.env ?? {});
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: o.viewport ?? { width: 1280, height: 800 } });
    page.setDefaultTimeout(120_000);
    page.on('pageerror', (e) => console.log('page error:', e.message));
    if (!o.noGoto) {
      await page.goto(serve.url);
      if (o.waitForFirstFrame ?? !!o.project) await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]');
    }
    const b = browser;
    return { serve, browser: b, page, close: async () => { await b.close(); await serve.stop(); } };
  } catch (err) {
    await browser?.close();
    await serve.stop();
    throw err;
  }
}

export type TimelineLane = 'marker' | 'ruler' | 'keys' | 'coverage';

/** Page coordinates of frame `f`'s middle in a timeline lane (from the zoom, scroll and lane positions the timeline publishes). */
export async function frameXY(page: Page, f: number, lane: TimelineLane = 'marker'): Promise<{ x: number; y: number }> {
  const el = page.getByTestId('timeline');
  const box = (await el.boundingBox())!;
  const [zoom, scroll, y] = await el.evaluate((e, l) => {
    const ys: Record<string, string | undefined> = { marker: e.dataset.markerY, ruler: e.dataset.rulerY, keys: e.dataset.keysY, coverage: e.dataset.coverageY };
    return [Number(e.dataset.zoom), Number(e.dataset.scroll), Number(ys[l])];
  }, lane);
  return { x: box.x + (f + 0.5 - scroll) * zoom, y: box.y + y };
}

/** Import image… in the toolbar with `image` typed into the chooser's path field: the keyframe at the playhead gets it. */
export async function importAtPlayhead(page: Page, image: string): Promise<void> {
  await page.locator('nav.toolbar button[data-action="keyframe.importImage"]').click();
  await page.getByTestId('path-dialog').locator('input').fill(image);
  await page.getByTestId('path-dialog').getByRole('button', { name: 'OK' }).click();
}

/** Waits until the inspector's text matches. */
export function waitInspector(page: Page, re: RegExp): Promise<unknown> {
  return page.waitForFunction((src) => new RegExp(src).test(document.querySelector('[data-testid=inspector]')?.textContent ?? ''), re.source);
}

/** Waits until the status bar says the project has `n` keyframes. */
export function expectKeyframes(page: Page, n: number): Promise<unknown> {
  return page.waitForFunction((want) => new RegExp(`· ${want} keyframes`).test(document.querySelector('[data-testid=status-frame]')?.textContent ?? ''), n);
}

/** The RGB of a screenshot's pixel at (x, y) in the screenshot's own coordinates. */
export async function pixelAt(file: string, x: number, y: number): Promise<[number, number, number]> {
  const sharp = (await import('sharp')).default;
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const i = (Math.round(y) * info.width + Math.round(x)) * info.channels;
  return [data[i], data[i + 1], data[i + 2]];
}

export { testOutputDir } from './serve';
export const shotsDir = (name: string): string => {
  const dir = path.join(__dirname, '..', '..', 'test-output', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

/** Waits until the export dialog's Destination field holds `want` (the engine proposes it after the dialog opens) and returns it. */
export async function exportDestination(page: Page, want: string): Promise<string> {
  const field = '[data-testid=export-dialog] input[aria-label=Destination]';
  await page.waitForFunction(([sel, w]) => (document.querySelector(sel) as HTMLInputElement | null)?.value === w, [field, want] as const, { timeout: 60_000 }).catch(() => undefined);
  return page.locator(field).inputValue();
}
