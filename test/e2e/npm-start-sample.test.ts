// `npm start` (serve mode, as on a machine without the Electron binary) opens the user's copy of the
// sample in Documents/Rerender/Sample project: an edit saved there leaves the bundled files in
// resources/sample as they were (bytes and times, nothing added beside them), and a second start opens
// the same copy with the edit kept.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { tempDir } from '../helpers/media';
import { launchChromium } from '../helpers/serve';
import { expectKeyframes, frameXY } from '../helpers/editor-page';
import { readProjectFile } from '../../main/engine/project/project-file';

const root = path.join(__dirname, '..', '..');
const bundled = path.join(root, 'resources', 'sample');
const home = tempDir('rerender-home-');
const userCopy = path.join(home, 'Documents', 'Rerender', 'Sample project', 'sample.rerender');
const running: Array<{ child: ChildProcess; browser: Browser }> = [];

/** Every file under resources/sample with its size, modification time and content hash. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, name);
    const st = fs.statSync(file);
    out[name] = st.isFile() ? `${st.size} ${st.mtimeMs} ${crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')}` : 'folder';
  }
  return out;
}

/** Runs `npm start`'s script in serve mode with a home of its own; resolves with the editor page once frame 0 is shown. */
async function start(): Promise<{ page: Page; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs')], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home, RERENDER_SERVE: '1' },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Rerender editor: (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}${stderr}`)));
  });
  const browser = await launchChromium();
  running.push({ child, browser });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(300_000);
  await page.goto(url);
  await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]');
  return {
    page,
    stop: async () => {
      await browser.close();
      if (child.exitCode === null) await new Promise<void>((done) => { child.once('exit', () => done()); child.kill('SIGINT'); });
    },
  };
}

after(async () => {
  for (const r of running) { await r.browser.close().catch(() => undefined); if (r.child.exitCode === null) r.child.kill('SIGINT'); }
});

test('given npm start on a fresh home, when a keyframe is deleted and Ctrl+S pressed, then the user copy holds the edit, the bundled sample is unchanged, and a second start reopens the copy', async () => {
  const before = snapshot(bundled);
  const bundledKeys = (await readProjectFile(path.join(bundled, 'sample.rerender'))).keyframes.length;

  const first = await start();
  assert.ok(fs.existsSync(userCopy), 'the sample is copied to Documents/Rerender/Sample project');
  await expectKeyframes(first.page, bundledKeys);
  const at = await frameXY(first.page, (await readProjectFile(userCopy)).keyframes[1]!.frame);
  await first.page.mouse.click(at.x, at.y);
  await first.page.keyboard.press('Delete');
  await expectKeyframes(first.page, bundledKeys - 1);
  await first.page.keyboard.press('Control+S');
  for (;;) {
    const p = await readProjectFile(userCopy).catch(() => undefined);
    if (p?.keyframes.length === bundledKeys - 1) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await first.stop();
  assert.deepEqual(snapshot(bundled), before, 'resources/sample: same files, bytes and times');

  const second = await start();
  await expectKeyframes(second.page, bundledKeys - 1);
  await second.stop();
  assert.equal((await readProjectFile(userCopy)).keyframes.length, bundledKeys - 1);
  assert.deepEqual(snapshot(bundled), before, 'resources/sample: same files, bytes and times');
});
