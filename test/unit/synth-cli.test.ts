// Specification of `rerender synth` end to end: PNG files in, EbSynth-style arguments, PNG and error map out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { edgeGuide } from '../../main/engine/propagation/guides';
import { texture, stylise, warp, rigidMotion, meanAbsDiff } from './synth-scene';

const root = path.resolve(__dirname, '..', '..');

function rerender(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'main/cli/rerender.ts'), ...args], { cwd: root, encoding: 'utf8' });
}

test('given style, source and target PNGs, `rerender synth` writes the synthesised PNG and a PFM error map', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-synth-'));
  try {
    const size = 64;
    const frame = texture(size, size, 5), style = stylise(frame);
    const motion = rigidMotion(size, size, 3, -2);
    const target = warp(frame, motion), ideal = warp(style, motion);
    const file = (name: string) => path.join(dir, name);
    await writePng(file('style.png'), style);
    await writePng(file('src.png'), frame);
    await writePng(file('tgt.png'), target.image);
    await writePng(file('src-edges.png'), edgeGuide(frame));
    await writePng(file('tgt-edges.png'), edgeGuide(target.image));
    const run = rerender([
      'synth', '--style', file('style.png'), '--weight', '1',
      '--guide', file('src.png'), file('tgt.png'), '--weight', '6',
      '--guide', file('src-edges.png'), file('tgt-edges.png'), '--weight', '0.5',
      '--out', file('out.png'), '--error', file('err.pfm'), '--uniformity', '3500', '--patchsize', '5',
      '--pyramidlevels', '-1', '--searchvoteiters', '6', '--patchmatchiters', '4', '--seed', '7', '--json',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.equal(summary.ok, true);
    const out = await readRgb(file('out.png'));
    assert.equal(out.width, size);
    assert.ok(meanAbsDiff(out, ideal.image, target.valid, 3) < 3, 'the output matches the known answer');
    const pfm = fs.readFileSync(file('err.pfm'));
    const header = `Pf\n${size} ${size}\n-1.0\n`;
    assert.equal(pfm.subarray(0, header.length).toString('ascii'), header);
    assert.equal(pfm.length, header.length + size * size * 4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a --weight with nothing before it, a missing image or a missing --out is reported clearly', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-synth-'));
  try {
    await writePng(path.join(dir, 's.png'), texture(16, 16, 1));
    const early = rerender(['synth', '--weight', '2', '--style', path.join(dir, 's.png'), '--out', path.join(dir, 'o.png')]);
    assert.equal(early.status, 1);
    assert.match(early.stderr, /--weight must follow/);
    const missing = rerender(['synth', '--style', path.join(dir, 'nope.png'), '--out', path.join(dir, 'o.png')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.png/);
    const noOut = rerender(['synth', '--style', path.join(dir, 's.png')]);
    assert.equal(noOut.status, 1);
    assert.match(noOut.stderr, /--out/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
