// The tiny fixture's single-file checkpoint and ControlNet render through `rerender render` in every mode,
// with the config read from the weights (no config passed in), and give the same keyframes as the
// diffusers folder holding the same tensors; a copy alone renders with a warning naming what was guessed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readRgb } from '../../main/engine/media/image-files';
import type { Project } from '../../preload/project-schema';
import { FIXTURES, graphCache, maxDifference, writeSceneProject } from './keyframe-render-scene';

const ROOT = path.resolve(__dirname, '../..');
const MODES = ['rerender', 'independent', 'fresco'] as const;
let work: string;

async function makeProject(name: string, checkpoint: string, controlnet: string, mode: Project['mode']): Promise<string> {
  const projectFile = path.join(work, name, 'pan.rerender');
  await writeSceneProject(projectFile, { checkpoint, controlnet }, mode);
  return projectFile;
}

function render(projectFile: string, ...args: string[]): { rendered: Array<{ frame: number; image: string }>; warnings: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), 'render', projectFile, ...args, '--json'], {
    cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, RERENDER_MODELS: graphCache('single-file-render') },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function images(projectFile: string, summary: { rendered: Array<{ image: string }> }) {
  return Promise.all(summary.rendered.map((r) => readRgb(path.resolve(path.dirname(projectFile), r.image))));
}

before(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-single-file-')); });
after(() => fs.rmSync(work, { recursive: true, force: true }));

for (const mode of MODES) {
  test(`given the single-file checkpoint and ControlNet, when \`rerender render --mode ${mode}\` runs without a config, then every keyframe renders like the diffusers folder`, async () => {
    const tokenizer = path.join(FIXTURES, 'tokenizer');
    const single = await makeProject(`single-${mode}`, path.join(FIXTURES, 'tiny-sd15.safetensors'), path.join(FIXTURES, 'tiny-controlnet.safetensors'), mode);
    const folder = await makeProject(`folder-${mode}`, FIXTURES, FIXTURES, mode);
    const a = render(single, '--mode', mode, '--tokenizer', tokenizer);
    const b = render(folder, '--mode', mode);
    assert.deepEqual(a.rendered.map((r) => r.frame), [0, 3]);
    assert.deepEqual(a.warnings.filter((w) => /known family/.test(w)), [], 'the configs beside the file were used');
    const [ia, ib] = [await images(single, a), await images(folder, b)];
    for (let i = 0; i < ia.length; i++) assert.ok(maxDifference(ia[i], ib[i]) <= 2, `keyframe ${i}: single file and folder differ by ${maxDifference(ia[i], ib[i])}`);
  });
}

test('given a copy of the single file alone (no configs beside it), when rendered, then it renders and warns which unrecorded settings were assumed', async () => {
  const alone = path.join(work, 'alone');
  fs.mkdirSync(alone, { recursive: true });
  for (const f of ['tiny-sd15.safetensors', 'tiny-controlnet.safetensors']) fs.copyFileSync(path.join(FIXTURES, f), path.join(alone, f));
  const project = await makeProject('alone-project', path.join(alone, 'tiny-sd15.safetensors'), path.join(alone, 'tiny-controlnet.safetensors'), 'independent');
  const summary = render(project, '--tokenizer', path.join(FIXTURES, 'tokenizer'));
  assert.deepEqual(summary.rendered.map((r) => r.frame), [0, 3]);
  const text = summary.warnings.join('\n');
  for (const part of ['UNet', 'VAE', 'text encoder', 'ControlNet']) assert.match(text, new RegExp(`its ${part} has sizes of no known family`), part);
});
