// ETAs that do not mislead (issue 16 item 13), in Debian Chromium through `rerender serve`: a
// propagation job says "estimating…" until the engine has measured a rate, then a time left that stays
// shown; resumed after a cancel, it estimates again from its own work instead of from the frames kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { makeSegmentProject } from '../helpers/cli';
import { openEditorPage, testOutputDir, type EditorPage } from '../helpers/editor-page';

const shots = path.join(testOutputDir, 'e2e');
const FRAMES = 160;
let dir: string;
let editor: EditorPage | undefined;

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  dir = tempDir('rerender-e2e-eta-');
  // One long segment between two keyframes: the job runs long enough to measure a rate.
  const project = await makeSegmentProject(dir, FRAMES);
  editor = await openEditorPage({ project, settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') } });
});

after(async () => {
  await editor?.close();
});

/** Starts propagation and returns what the running job's status said, in order, until it showed a time left. */
async function statusesUntilTimeShown(name: string): Promise<string[]> {
  const page = editor!.page;
  // Every change of the job's status line is recorded in the page, so no short-lived text is missed.
  await page.evaluate(() => {
    const w = window as unknown as { etaSeen: string[]; etaObserver?: MutationObserver };
    w.etaSeen = [];
    w.etaObserver?.disconnect();
    // (No named functions in here: the test's compiler would wrap them in a helper the page lacks.)
    w.etaObserver = new MutationObserver(() => {
      const text = document.querySelector('[data-testid=job-propagate][data-status=running] .job-status')?.textContent ?? '';
      if (text && w.etaSeen[w.etaSeen.length - 1] !== text) w.etaSeen.push(text);
    });
    w.etaObserver.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await page.keyboard.press('p');
  await page.waitForFunction(() => {
    const ended = document.querySelector('[data-testid=job-propagate][data-status=failed], [data-testid=job-propagate][data-status=done]');
    if (ended) throw new Error(`the job ended (${ended.getAttribute('data-status')}) before it showed a time left: ${ended.textContent}`);
    return (window as unknown as { etaSeen: string[] }).etaSeen.some((s) => / left$/.test(s));
  }, undefined, { timeout: 600_000, polling: 100 });
  await page.screenshot({ path: path.join(shots, `job-eta-${name}.png`) });
  const seen = await page.evaluate(() => (window as unknown as { etaSeen: string[] }).etaSeen);
  await page.locator('[data-testid=job-propagate][data-status=running]').getByRole('button', { name: 'Cancel' }).click();
  await page.waitForFunction(() => !document.querySelector('[data-testid=job-propagate][data-status=running]'), undefined, { timeout: 120_000 });
  return seen;
}

function assertEstimatingThenTime(seen: string[], what: string): void {
  const first = seen.findIndex((s) => / left$/.test(s));
  assert.ok(first > 0, `${what}: a time left is shown, after something else: ${seen.join(' | ')}`);
  assert.ok(seen.slice(0, first).some((s) => /^\d+% · estimating…$/.test(s)), `${what}: "estimating…" before the first time left: ${seen.join(' | ')}`);
  assert.match(seen[first], /^\d+% · (\d+ s|\d+ min( \d+ s)?|\d+ h \d+ min) left$/, `${what}: a time in words`);
}

test('given a propagation started, then its job says estimating… before a time left; cancelled and started again, it estimates anew', async () => {
  assertEstimatingThenTime(await statusesUntilTimeShown('first'), 'the first run');
  // The second run reads back what the first one made: it is not taken for fast work.
  assertEstimatingThenTime(await statusesUntilTimeShown('resumed'), 'the resumed run');
});
