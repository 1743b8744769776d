// Rendering a project's keyframes: all in order, then regenerating one keyframe leaves every other
// keyframe's files untouched and marks exactly the keyframes and segments that depended on it as stale
// (docs/METHOD.md §3.6); the CLI renders one keyframe in independent mode.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { writePng } from '../../main/engine/media/image-files';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { keyframeAt, setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../preload/project-schema';
import { renderKeyframes } from '../../main/engine/render/render-project';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { FIXTURES, graphCache, scene, SIZE, testParams } from './keyframe-render-scene';
import { ModelRuntime as Runtime } from '../../native-models/src/runtime/model-runtime';

const ROOT = path.resolve(__dirname, '../..');
let work: string;
let projectFile: string;
let runtime: Runtime;

/** A 10-frame project whose frames pan 1 px per frame, keyframes at 0, 3, 6, 9, built without a video. */
async function makeProject(): Promise<void> {
  const paths = projectPaths(projectFile);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  for (let i = 0; i < 10; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(i));
  let p: Project = {
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: 'pan',
    source: { path: 'pan.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: 1, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: 10, fps: { num: 10, den: 1 } },
    mode: 'rerender',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1 },
    render: testParams({ steps: 4 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  };
  p = setKeyframeFrames(p, [0, 3, 6, 9]);
  await writeProjectFile(projectFile, p);
}

/** Content hash and modification time of every file under `dir`, except those under `skip`. */
function snapshot(dir: string, skip: (rel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (skip(rel)) continue;
      if (e.isDirectory()) visit(p);
      else out.set(rel, `${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')} ${fs.statSync(p).mtimeMs}`);
    }
  };
  visit(dir);
  return out;
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-render-project-'));
  projectFile = path.join(work, 'pan.rerender');
  runtime = new Runtime({ cacheDir: graphCache('keyframe-render-project'), providers: ['cpu'] });
  await makeProject();
});

after(async () => {
  await runtime.releaseAll();
  fs.rmSync(work, { recursive: true, force: true });
});

test('given a rendered project, when keyframe k is regenerated with a new seed, then the others\' files are untouched, the keyframe after k and the segments beside k are stale, and regenerating the anchor makes every later keyframe stale', async () => {
  const base = { projectFile, runtime, modelsDir: work };
  const all = await renderKeyframes({ ...base, target: 'all' });
  assert.deepEqual(all.rendered.map((r) => r.frame), [0, 3, 6, 9]);
  assert.deepEqual(all.rendered.map((r) => r.unetCalls), [3, 3, 3, 3], 'anchor one pass of the 3 steps after s*; a later keyframe the same steps, pixel-aware fusion joining the one pass at the last');
  let p = await readProjectFile(projectFile);
  assert.ok(p.keyframes.every((k) => k.status === 'done' && k.revision === 1 && k.image));

  const k = keyframeAt(p, 3)!;
  const keyframesDir = projectPaths(projectFile).keyframesDir;
  const before = snapshot(keyframesDir, (rel) => rel.startsWith(k.id));
  const again = await renderKeyframes({ ...base, target: { frame: 3 }, overrides: { seed: 99 } });
  assert.deepEqual(again.rendered.map((r) => r.frame), [3]);
  assert.deepEqual(snapshot(keyframesDir, (rel) => rel.startsWith(k.id)), before, 'no other keyframe\'s file changed');

  p = await readProjectFile(projectFile);
  const at = (f: number) => keyframeAt(p, f)!;
  assert.equal(at(3).revision, 2);
  assert.equal(at(3).overrides.seed, 99);
  assert.deepEqual(at(3).history.map((h) => h.seed), [11], 'the earlier render stays in the history with its seed');
  assert.deepEqual([at(0).status, at(3).status, at(6).status, at(9).status], ['done', 'done', 'stale', 'done']);
  assert.match(at(6).note ?? '', /frame 3/);
  assert.deepEqual(again.stale.map((s) => s.frame), [6]);
  assert.deepEqual(again.staleSegments, [], 'nothing was propagated, so no segment has frames to redo');

  // The command line says nothing about segments to redo when none was propagated.
  const cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), 'render', projectFile, '--frame', '3', '--seed', '99'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, RERENDER_MODELS: work },
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /keyframe at frame 3: /);
  assert.doesNotMatch(cli.stdout, /segments to redo/, cli.stdout);

  // Once 0-3 is propagated (3-6 cannot be: keyframe 6 is stale), a new image of keyframe 3 leaves that
  // segment to redo, and not 3-6, which holds no frames.
  await propagateProject(projectFile, await readProjectFile(projectFile), { segmentId: '0-3', workers: 1 });
  const propagated = await renderKeyframes({ ...base, target: { frame: 3 }, overrides: { seed: 98 } });
  assert.deepEqual(propagated.staleSegments, ['0-3']);

  const anchor = await renderKeyframes({ ...base, target: { frame: 0 }, overrides: { seed: 5 } });
  assert.deepEqual(anchor.stale.map((s) => s.frame), [3, 6, 9]);
  p = await readProjectFile(projectFile);
  assert.deepEqual(p.keyframes.map((x) => x.status), ['done', 'stale', 'stale', 'stale']);
  assert.match(keyframeAt(p, 9)!.note ?? '', /anchor/);
});

test('given the project, when `rerender render --frame 9 --mode independent --json` runs, then that keyframe is rendered alone and the summary is printed as JSON', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), 'render', projectFile, '--frame', '9', '--mode', 'independent', '--seed', '3', '--json'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, RERENDER_MODELS: work },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.ok, true);
  assert.deepEqual(out.rendered.map((x: { frame: number }) => x.frame), [9]);
  assert.equal(out.rendered[0].unetCalls, 3, 'one pass, no constraints');
});
