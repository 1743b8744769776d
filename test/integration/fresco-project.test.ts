// FRESCO mode on a project through the CLI: every keyframe is rendered once in batches (the prefix keyframes
// of later batches keep their first image), the project file records the images, the switches reach the
// renderer, and background smoothing without a saliency model is reported unavailable with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writePng } from '../../main/engine/media/image-files';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../main/engine/project/schema';
import { FIXTURES, graphCache, scene, SIZE, testParams } from './keyframe-render-scene';

const ROOT = path.resolve(__dirname, '../..');
let work: string;
let projectFile: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-fresco-project-'));
  projectFile = path.join(work, 'pan.rrproj');
  const paths = projectPaths(projectFile);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  for (let i = 0; i < 8; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(2 * i));
  let p: Project = {
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: 'pan',
    source: { path: 'pan.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: 0.8, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: 8, fps: { num: 10, den: 1 } },
    mode: 'fresco',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1 },
    render: testParams({ steps: 4 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  };
  p = setKeyframeFrames(p, [0, 2, 4, 6, 7]);
  await writeProjectFile(projectFile, p);
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

function cli(...args: string[]) {
  return cliCommand('fresco', ...args);
}

function cliCommand(command: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), command, projectFile, ...args, '--json'], {
    encoding: 'utf8', cwd: ROOT, timeout: 300_000, env: { ...process.env, RERENDER_MODELS: graphCache('fresco-project') },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('given five keyframes and batches of 3, when rendered with `rerender fresco`, then each keyframe gets one image and later batches carry the first and the previous last keyframe', async () => {
  const summary = cli('--batch-size', '3', '--background-smoothing');
  assert.deepEqual(summary.rendered.map((r: { frame: number }) => r.frame), [0, 2, 4, 6, 7]);
  assert.equal(summary.batches.length, 3, '[0, 2, 4], [0, 4, 6], [0, 6, 7]');
  assert.match(summary.unavailable.join('\n'), /background smoothing: .*salient-object model/);
  const p = await readProjectFile(projectFile);
  for (const k of p.keyframes) {
    assert.equal(k.revision, 1, `keyframe at ${k.frame} rendered once (prefix renders are discarded)`);
    assert.equal(k.status, 'done');
    assert.ok(fs.existsSync(path.join(path.dirname(projectFile), k.image!)));
  }
  // Efficient cross-frame attention ran in every batch, with fewer keys than full attention.
  for (const b of summary.batches) assert.ok(b.crossFrameKeys.every((k: { keys: number; full: number }) => k.keys < k.full));
});

test('given the switches off on the command line, then no FRESCO component runs', () => {
  const summary = cli('--no-spatial', '--no-temporal', '--no-cross-frame', '--no-optimise');
  assert.equal(summary.batches.length, 1);
  assert.deepEqual(summary.batches[0], { crossFrameKeys: [], optimisation: [] });
});

test('given a project in FRESCO mode, when `rerender render` runs (with or without --mode fresco), then it renders FRESCO batches with the same switches', () => {
  for (const mode of [[], ['--mode', 'fresco']]) {
    const summary = cliCommand('render', ...mode, '--no-spatial', '--no-temporal', '--no-cross-frame', '--no-optimise');
    assert.equal(summary.batches.length, 1);
    assert.deepEqual(summary.batches[0], { crossFrameKeys: [], optimisation: [] });
  }
});
