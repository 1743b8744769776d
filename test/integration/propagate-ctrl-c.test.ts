// Ctrl-C during `rerender propagate`, as a user presses it: the run stops with exit status 130 and says
// that the finished frames are kept and that running the same command again resumes (not a bare
// "cancelled"); the rerun then finishes. The sample's video at a small working size (128 pixels on the
// short side instead of the sample's 512): the same frames to interrupt, and a rerun to the end that stays
// within the CLI helper's time limit on a loaded machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/media';
import { binPath, rerender } from '../helpers/cli';
import { SAMPLE_DIR } from '../helpers/fixtures';

test('given a propagation running in a terminal, when Ctrl-C is pressed, then it says the finished frames are kept and a rerun resumes', async () => {
  const dir = tempDir('rerender-ctrl-c-');
  const project = path.join(dir, 'sample.rerender');
  const image = path.join(dir, 'style.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 60, b: 30 } } }).png().toFile(image);
  const env = { HOME: dir };
  for (const args of [['new', project, '--video', path.join(SAMPLE_DIR, 'sample.mp4'), '--short-side', '128'], ['keyframes', project, '--set', '0'], ['import-keyframe', project, '--frame', '0', '--image', image]]) {
    const r = rerender(args, { env });
    assert.equal(r.code, 0, r.stderr);
  }

  const child = spawn(process.execPath, [binPath, 'propagate', project, '--workers', '1'], { env: { ...process.env, ...env } });
  let stderr = '';
  let interrupted = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t: string) => {
    stderr += t;
    // Once a frame is finished (the progress says so), as a user watching it would.
    if (!interrupted && /propagating: \d+% [1-9]\d* of \d+ frames done/.test(stderr)) {
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
  const kept = /propagated 1 segment: \d+ frames? written, (\d+) kept from an earlier run/.exec(again.stdout);
  assert.ok(kept && Number(kept[1]) >= 1, `the frames finished before Ctrl-C were kept: ${again.stdout}`);
});
