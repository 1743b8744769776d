// The bundled sample's painted keyframes, which let a new user without Stable Diffusion weights see
// propagation at once: each is a PNG at the working size inside the sample's folder, the keyframes
// after them are left to diffusion, and a copy as the user gets it propagates its first ready segment
// and exports that range. The propagation runs with fewer search iterations than the sample's own (the
// frames are the same; only the time on a loaded machine is less).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { SAMPLE_DIR } from '../helpers/fixtures';
import { ensureSampleProject, SAMPLE_PROJECT_FILE, userSampleDir } from '../../main/engine/project/sample-project';
import { readProjectFile } from '../../main/engine/project/project-file';
import { projectPaths } from '../../main/engine/project/paths';

test('given the bundled sample, then its first keyframes are painted PNGs at the working size inside its folder and the rest are left to diffusion', async () => {
  const bundledFile = path.join(SAMPLE_DIR, SAMPLE_PROJECT_FILE);
  const p = await readProjectFile(bundledFile);
  const painted = p.keyframes.filter((k) => k.image);
  assert.ok(painted.length >= 2, 'at least one segment has an image at both ends');
  assert.deepEqual(painted, p.keyframes.slice(0, painted.length), 'the painted keyframes are the first ones');
  const assetsDir = projectPaths(bundledFile).assetsDir;
  for (const k of painted) {
    assert.equal(k.source, 'painted');
    assert.equal(k.status, 'done');
    const file = path.resolve(SAMPLE_DIR, k.image!);
    assert.equal(path.dirname(file), assetsDir, `${k.image} lies in the sample's assets folder`);
    assert.ok(fs.statSync(file).isFile(), `${k.image} exists`);
    assert.ok(fs.statSync(file).size < 150_000, `${k.image} is small (${fs.statSync(file).size} bytes)`);
    const meta = await sharp(file).metadata();
    assert.equal(meta.format, 'png');
    assert.deepEqual([meta.width, meta.height], [p.working.width, p.working.height], `${k.image} is at the working size`);
  }
  const rest = p.keyframes.slice(painted.length);
  assert.ok(rest.length > 0, 'some keyframes are left to render');
  for (const k of rest) assert.deepEqual([k.source, k.status, k.image], ['diffusion', 'empty', null], `keyframe ${k.frame}`);
});

test('given the user\'s copy of the sample, when its first ready segment is propagated and that range exported, then its frames are written and exported', async () => {
  const home = tempDir('rerender-sample-painted-');
  const file = await ensureSampleProject(SAMPLE_DIR, userSampleDir(path.join(home, 'Documents')));
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  p.propagation = { ...p.propagation, searchVoteIters: 4, patchMatchIters: 2, workers: 1 };
  fs.writeFileSync(file, JSON.stringify(p, null, 2));
  const env = { HOME: home };

  const info = rerender(['info', file, '--json'], { env });
  assert.equal(info.code, 0, info.stderr);
  const ready = info.json().segments.find((s: { status: string; reason?: string }) => s.status === 'not-rendered' && !s.reason);
  assert.ok(ready, `a segment is ready to propagate: ${info.stdout}`);

  const run = rerender(['propagate', file, '--segment', ready.id], { env });
  assert.equal(run.code, 0, run.stderr);
  const frames = ready.end - ready.start + 1;
  assert.match(run.stdout, new RegExp(`propagated 1 segment: ${frames} frames written`));
  const after = rerender(['info', file, '--json'], { env }).json().segments.find((s: { id: string }) => s.id === ready.id);
  assert.deepEqual([after.status, after.framesDone], ['done', frames]);

  // The range from the segment's first keyframe to its last: the keyframes' images and the frames between.
  const [a, b] = ready.id.split('-').map(Number);
  const out = path.join(home, 'export');
  const exported = rerender(['export', file, '--out', out, '--format', 'png', '--range', `${a}-${b}`, '--size', 'working', '--no-audio'], { env });
  assert.equal(exported.code, 0, exported.stderr);
  const pngs = fs.readdirSync(out).filter((f) => f.endsWith('.png'));
  assert.equal(pngs.length, b - a + 1, `frames ${a} to ${b}: ${pngs.join(' ')}`);
  const meta = await sharp(path.join(out, pngs[0]!)).metadata();
  assert.deepEqual([meta.width, meta.height], [p.working.width, p.working.height]);
});
