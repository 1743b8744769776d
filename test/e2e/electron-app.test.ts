// The real desktop app through Playwright's Electron driver, where an Electron binary exists; elsewhere
// skipped with the reason printed. Never requires 'electron' here (that would try to download it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { _electron } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { testOutputDir } from '../helpers/serve';

const root = path.join(__dirname, '..', '..');

/** The binary the electron package installed, read from its path.txt without loading the package. */
function electronBinary(): string | undefined {
  const pkg = path.join(root, 'node_modules', 'electron');
  try {
    const rel = fs.readFileSync(path.join(pkg, 'path.txt'), 'utf8').trim();
    const bin = path.join(pkg, 'dist', rel);
    return fs.existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
const skip = binary ? false : 'no Electron binary on this machine (node_modules/electron/dist is missing; it is fetched on first run); the same UI is tested in Chromium through serve mode';
if (skip) console.log(`electron app test skipped: ${skip}`);

test('given a project, when the desktop app opens it, then the window shows the timeline and the preview from app://', { skip }, async () => {
  const dir = tempDir('rerender-electron-');
  const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 24 });
  const project = path.join(dir, 'clip.rerender');
  assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
  const app = await _electron.launch({
    executablePath: binary!,
    args: [path.join(root, 'dist', 'main', 'electron-main.js'), project, '--no-sandbox', `--user-data-dir=${path.join(dir, 'user-data')}`],
  });
  try {
    const page = await app.firstWindow();
    await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]', { timeout: 30_000 });
    assert.match(page.url(), /^app:\/\/rerender\//);
    assert.equal(await page.evaluate(() => typeof (window as unknown as { require?: unknown }).require), 'undefined', 'no Node in the renderer');
    assert.equal(await page.evaluate(() => (window as unknown as { rerender: { mode: string } }).rerender.mode), 'electron');
    fs.mkdirSync(testOutputDir, { recursive: true });
    await page.screenshot({ path: path.join(testOutputDir, 'electron-app.png') });
  } finally {
    await app.close();
  }
});
