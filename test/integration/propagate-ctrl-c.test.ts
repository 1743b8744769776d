// Ctrl-C during `rerender propagate`, as a user presses it: the run stops with exit status 130 and says
// that the finished frames are kept and that running the same command again resumes (not a bare
// "cancelled"); the rerun then finishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/media';
import { binPath, rerender } from '../helpers/cli';
import { copySampleProject } from '../helpers/fixtures';


test('given a propagation running in a terminal, when Ctrl-C is pressed, then it says the finished frames are kept and a rerun resumes', async () => {
  const dir = tempDir('rerender-ctrl-c-');
  const project = copySampleProject(dir);
  const image = path.join(dir, 'style.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 60, b: 30 } } }).png().toFile(image);
  const env = { HOME: dir };
  for (const args of [['keyframes', project, '--set', '0'], ['import-keyframe', project, '--frame', '0', '--image', image]]) {
    const r = rerender(args, { env });
    assert.equal(r.code, 0, r.stderr);
  }

  const child = spawn(process.execPath, [binPath, 'propagate', project, '--workers', '1'], { env: { ...process.env, ...env } });
  let stderr = '';
  let interrupted = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => {
    stderr += t;
    // Once frames are being made (a percentage above 0), as a user watching the progress would.
    if (!interrupted && /propagating: [1-9]\d*%/.test(stderr)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(interrupted, `the run ended before it could be interrupted: ${stderr}`);
  assert.equal(code, 130, stderr);
  assert.match(stderr, /rerender propagate: cancelled by Ctrl-C: the finished frames are kept, and running the same command again resumes from them/);

  const again = rerender(['propagate', project, '--workers', '1'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /propagated 1 segments: \d+ frames written, \d+ kept from an earlier run/);
});
