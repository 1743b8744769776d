// The CLI's output going to a reader that stops early (`rerender info p.rerender | head -1`): the command
// ends quietly with its own exit code, with no EPIPE stack trace, and a closed pipe never stops the work.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { binPath, rerender } from '../helpers/cli';
import { ffprobeStreams, makeVideo, tempDir } from '../helpers/media';

interface Ended { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs the CLI with its stdout or stderr pipe closed by the reader before the CLI writes anything. */
function runWithClosed(which: 'stdout' | 'stderr', args: string[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child[which].destroy(); // the reader is gone, like `head` after its first line
    const other = which === 'stdout' ? 'stderr' : 'stdout';
    child[other].setEncoding('utf8').on('data', (d: string) => { out[other] += d; });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, ...out }));
  });
}

describe('CLI output into a reader that stops early', () => {
  let dir: string;
  let project: string;
  before(() => {
    dir = tempDir('rerender-cli-output-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 12, fps: 12 });
    project = path.join(dir, 'clip.rerender');
    const r = rerender(['new', project, '--video', video, '--short-side', '64']);
    assert.equal(r.code, 0, r.stderr);
  });

  for (const args of [['--help'], ['info', '<project>'], ['info', '<project>', '--json'], ['export', '--help']]) {
    test(`given \`rerender ${args.join(' ')}\` whose output reader has gone, then it exits 0 without an error or stack trace`, async () => {
      const r = await runWithClosed('stdout', args.map((a) => (a === '<project>' ? project : a)));
      assert.equal(r.signal, null);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
    });
  }

  test('given a failing command whose output reader has gone, then it still exits with its failure code', async () => {
    const r = await runWithClosed('stdout', ['info', path.join(dir, 'absent.rerender'), '--json']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^rerender info: .*absent\.rerender/);
    assert.doesNotMatch(r.stderr, /EPIPE/);
  });

  test('given `rerender info p.rerender | head -1` in a shell, then head prints the first line and the pipeline succeeds', () => {
    const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" "$1" info "$2" | head -1', process.execPath, binPath, project], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^clip: 12 frames, 12 fps/);
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });

  test('given an export whose progress reader (stderr) has gone, then the export still finishes and says so on stdout', async () => {
    const out = path.join(dir, 'quiet.webm');
    const r = await runWithClosed('stderr', ['export', project, '--out', out, '--allow-incomplete']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /wrote .*quiet\.webm \(12 frames at \d+×\d+, 12 taken from the source\)/);
    assert.ok(fs.statSync(out).size > 0);
  });

  test('given a side-by-side export, then the size it reports is the size written (both pictures), as ffprobe reads it', () => {
    const out = path.join(dir, 'both.webm');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--side-by-side']);
    assert.equal(r.code, 0, r.stderr);
    const v = ffprobeStreams(out).find((s) => s.codec_type === 'video')!;
    assert.match(r.stdout, new RegExp(`wrote .*both\\.webm \\(12 frames at ${v.width}×${v.height},`));
  });
});
