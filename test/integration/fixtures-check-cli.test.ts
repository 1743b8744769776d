// `rerender fixtures-check` as a user runs it: JSON report and exit status, and a clear error for a
// manifest that is missing or is not one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SD_TINY } from '../helpers/fixtures';

const ROOT = path.resolve(__dirname, '../..');
const MANIFEST = path.join(SD_TINY, 'manifest.json');

function rerender(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('given the sd-tiny manifest and --json, when two cases run, then the report lists each case, layout and output diff, and the exit status is 0', () => {
  const r = rerender('fixtures-check', MANIFEST, '--case', 'unet_t1', 'scheduler_ddim', '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(report.ok, true);
  assert.deepEqual(report.cases.map((c: { case: string; layout: string }) => `${c.case}/${c.layout}`), ['unet_t1/diffusers', 'unet_t1/single_file', 'scheduler_ddim/none']);
  const unet = report.cases[0].outputs.find((o: { output: string }) => o.output === 'noise_pred');
  assert.ok(unet.maxAbsDiff <= unet.tolerance && unet.tolerance > 0);
});

test('given a missing manifest or a JSON file that is not one, the command exits 1 naming the file and the problem', () => {
  const missing = rerender('fixtures-check', '/nonexistent/manifest.json');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\/nonexistent\/manifest\.json: file not found/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-cli-'));
  try {
    const notManifest = path.join(dir, 'package.json');
    fs.writeFileSync(notManifest, JSON.stringify({ name: 'x' }));
    const r = rerender('fixtures-check', notManifest);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /package\.json: is not a conformance manifest/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
