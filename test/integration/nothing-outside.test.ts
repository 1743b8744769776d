// A render writes nothing outside the project, the models folder and the app's own settings: run as a
// user would (the built CLI) under a fresh HOME and TMPDIR, then every file left in either is accounted
// for. This is what keeps ONNX Runtime's telemetry (a device id and an event queue under
// ~/.cache/Microsoft/DeveloperTools) off, and any other library writing caches behind the user's back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writePng } from '../../main/engine/media/image-files';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../preload/project-schema';
import { rerender } from '../helpers/cli';
import { FIXTURES, graphCache, scene, SIZE, testParams } from './keyframe-render-scene';

let work: string;

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? [path.relative(dir, p) + '/', ...filesUnder(p).map((f) => path.join(e.name, f))] : [e.name];
  });
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-outside-'));
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

test('given a fresh HOME and TMPDIR, when a keyframe is rendered with ONNX Runtime, then nothing is written outside the project, the models folder and the settings', async () => {
  const home = path.join(work, 'home'), tmp = path.join(work, 'tmp'), projectDir = path.join(work, 'project');
  for (const d of [home, tmp, projectDir]) fs.mkdirSync(d);
  const projectFile = path.join(projectDir, 'pan.rerender');
  const paths = projectPaths(projectFile);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  for (let i = 0; i < 3; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(2 * i));
  let p: Project = {
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: 'pan',
    source: { path: 'pan.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: 0.3, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: 3, fps: { num: 10, den: 1 } },
    mode: 'rerender',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1 },
    render: testParams({ steps: 2 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  };
  p = setKeyframeFrames(p, [0, 2]);
  await writeProjectFile(projectFile, p);

  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, USERPROFILE: home, TMPDIR: tmp, TMP: tmp, TEMP: tmp, RERENDER_MODELS: graphCache('nothing-outside') };
  for (const k of ['XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'ORT_DISABLE_TELEMETRY']) delete env[k];
  const r = rerender(['render', projectFile, '--frame', '0', '--json'], { cwd: projectDir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok((await readProjectFile(projectFile)).keyframes[0]!.image, 'the keyframe was rendered');

  const allowedInHome = (f: string) => f === '.rerender/' || f.startsWith('.rerender/settings.json');
  assert.deepEqual(filesUnder(home).filter((f) => !allowedInHome(f)), [], `written to HOME (${home})`);
  assert.deepEqual(filesUnder(tmp), [], `left in TMPDIR (${tmp})`);
});
