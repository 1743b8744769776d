// Model variants users hold, through `rerender render` as a user runs it: each renders or is refused in one
// line naming the file, what it is and why (never a stack trace or an ONNX error), when it is chosen and
// before the project saves it; the same check at import; a ControlNet without its `control_model.` prefix
// renders; `--controlnet none` removes the project's ControlNet.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readProjectFile } from '../../main/engine/project/project-file';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../native-models/src/weights/safetensors';
import { detectModelFile, loadComponentWeights } from '../../native-models/src/weights/model-weights';
import { FIXTURES, graphCache, writeSceneProject } from './keyframe-render-scene';

const ROOT = path.resolve(__dirname, '../..');
const TOKENIZER = path.join(FIXTURES, 'tokenizer');
let work: string;

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'main/cli/rerender.ts'), ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 600_000, env: { ...process.env, RERENDER_MODELS: graphCache('model-variants') },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of a fixture file with some tensors renamed, replaced or added. */
async function variant(source: string, name: string, change: (tensors: Record<string, TensorToWrite>) => void): Promise<string> {
  const st = await SafetensorsFile.open(path.join(FIXTURES, source));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [key, t] of st.tensors) tensors[key] = { dtype: t.dtype, shape: t.shape, data: await st.readRaw(key) };
  await st.close();
  change(tensors);
  const file = path.join(work, name);
  await writeSafetensors(file, tensors);
  return file;
}

/** The failure is one line on stderr naming the file and matching `why`, with no internal error. */
function assertRefused(r: ReturnType<typeof cli>, file: string, why: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => !/^(warning|rendering)/.test(l));
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].includes(file), `names ${file}: ${lines[0]}`);
  assert.match(lines[0], why);
  assert.doesNotMatch(r.stderr, /internal error|onnxruntime|Conv node|at .*\.ts:\d+/);
}

let projectFile: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-variants-'));
  projectFile = path.join(work, 'p', 'pan.rerender');
  await writeSceneProject(projectFile, {}, 'independent', 2, [0]);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

test('given an inpainting checkpoint (9 UNet input channels), when chosen with --model, then render refuses it at once in one line and the project keeps its model; the loader and import say the same', async () => {
  const inpaint = await variant('tiny-sd15.safetensors', 'inpaint.safetensors', (t) => {
    const w = t['model.diffusion_model.input_blocks.0.0.weight'];
    t['model.diffusion_model.input_blocks.0.0.weight'] = { dtype: 'F32', shape: [w.shape[0], 9, 3, 3], data: new Float32Array(w.shape[0] * 81) };
  });
  const r = cli('render', projectFile, '--model', inpaint, '--tokenizer', TOKENIZER);
  assertRefused(r, inpaint, /its UNet takes 9 input channels \(an inpainting model.*only plain 4-channel/);
  assert.equal((await readProjectFile(projectFile)).models.checkpoint, FIXTURES, 'the refused model is not saved in the project');
  await assert.rejects(loadComponentWeights(inpaint, 'unet'), /inpaint\.safetensors: its UNet takes 9 input channels/);
  assert.match((await detectModelFile(inpaint)).problem ?? '', /9 input channels \(an inpainting model/);
  assertRefused(cli('models', 'import', inpaint, '--models-dir', path.join(work, 'models')), inpaint, /9 input channels/);
});

test('given SD2.x and SDXL checkpoints, when chosen for render, then each is refused in one line saying which family it is', async () => {
  const sd2 = await variant('tiny-sd15.safetensors', 'sd2.safetensors', (t) => { t['cond_stage_model.model.ln_final.weight'] = { dtype: 'F32', shape: [4], data: new Float32Array(4) }; });
  const sdxl = await variant('tiny-sd15.safetensors', 'sdxl.safetensors', (t) => { t['conditioner.embedders.0.transformer.text_model.final_layer_norm.weight'] = { dtype: 'F32', shape: [4], data: new Float32Array(4) }; });
  assertRefused(cli('render', projectFile, '--model', sd2, '--tokenizer', TOKENIZER), sd2, /Stable Diffusion 2\.x/);
  assertRefused(cli('render', projectFile, '--model', sdxl, '--tokenizer', TOKENIZER), sdxl, /SDXL/);
  await assert.rejects(loadComponentWeights(sdxl, 'unet'), /sdxl\.safetensors: this is an SDXL model/);
});

test('given a PyTorch pickle, when chosen for render as .ckpt or found in a project under a .safetensors name, then it is named a pickle', async () => {
  const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(600)]);
  const ckpt = path.join(work, 'model.ckpt');
  fs.writeFileSync(ckpt, zip);
  assertRefused(cli('render', projectFile, '--model', ckpt, '--tokenizer', TOKENIZER), ckpt, /PyTorch pickle checkpoint/);
  const renamed = path.join(work, 'renamed.safetensors');
  fs.writeFileSync(renamed, Buffer.concat([Buffer.from([0x80, 0x02]), Buffer.alloc(600)]));
  await assert.rejects(loadComponentWeights(renamed, 'unet'), /renamed\.safetensors: this is a PyTorch pickle checkpoint/);
});

test('given a ControlNet saved without the control_model. prefix, then it is detected, loads like the prefixed file and renders', async () => {
  const bare = await variant('tiny-controlnet.safetensors', 'bare-controlnet.safetensors', (t) => {
    for (const key of Object.keys(t)) { t[key.replace(/^control_model\./, '')] = t[key]; if (key.startsWith('control_model.')) delete t[key]; }
  });
  assert.equal((await detectModelFile(bare)).kind, 'controlnet');
  const a = await loadComponentWeights(bare, 'controlnet');
  const b = await loadComponentWeights(path.join(FIXTURES, 'tiny-controlnet.safetensors'), 'controlnet');
  try {
    assert.deepEqual(a.names().sort(), b.names().sort());
    for (const n of b.names()) assert.deepEqual(a.get(n).data, b.get(n).data, n);
  } finally { await Promise.all([a.close(), b.close()]); }
  const r = cli('render', projectFile, '--controlnet', bare, '--steps', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await readProjectFile(projectFile)).models.controlnet, bare);
});

test('given a project with a ControlNet, when rendered with --controlnet none, then the project no longer has one and the render runs without it; a ControlNet chosen as checkpoint is refused', async () => {
  const r = cli('render', projectFile, '--controlnet', 'none', '--steps', '2', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await readProjectFile(projectFile)).models.controlnet, null);
  const wrong = path.join(FIXTURES, 'tiny-controlnet.safetensors');
  assertRefused(cli('render', projectFile, '--model', wrong), wrong, /is not a Stable Diffusion checkpoint \(it holds: ControlNet\)/);
});

test('given a render, then its output and --json say which execution provider ran and why each one before it was not used, and stderr carries no ONNX Runtime or GPU driver noise', async () => {
  const { PROVIDER_ORDER } = await import('../../native-models/src/runtime/providers');
  const { providerNote } = await import('../../main/engine/editor/editor-jobs');
  const json = cli('render', projectFile, '--steps', '2', '--json');
  assert.equal(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout.trim().split('\n').pop()!);
  assert.ok(PROVIDER_ORDER.includes(summary.provider), summary.provider);
  assert.deepEqual(summary.skippedProviders.map((s: { provider: string }) => s.provider), PROVIDER_ORDER.slice(0, PROVIDER_ORDER.indexOf(summary.provider)));
  for (const s of summary.skippedProviders) assert.ok(s.reason.length > 0 && !s.reason.includes('\n'), s.provider);
  assert.match(providerNote(summary), new RegExp(`^Ran on ${summary.provider}`));
  const plain = cli('render', projectFile, '--steps', '2');
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, new RegExp(`models ran on ${summary.provider}`));
  assert.doesNotMatch(json.stderr + plain.stderr, /onnxruntime|ONNXRuntimeError|XDG_RUNTIME_DIR|Vulkan|Found no drivers/i);
});
