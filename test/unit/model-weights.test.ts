// Specification of component weight loading: the single-file and diffusers layouts named by the fixture
// manifest give identical tensors under diffusers names, and model files are recognised for what they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadComponentWeights, detectModelFile, type Component } from '../../native-models/src/weights/model-weights';
import { writeSafetensors } from '../../native-models/src/weights/safetensors';
import { UserError } from '../../native-models/src/errors';
import { SD_TINY } from '../helpers/fixtures';

const fixtures = SD_TINY;
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
const layouts = manifest.layouts;
const components: Component[] = ['unet', 'vae', 'text_encoder', 'controlnet'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-test-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

for (const component of components) {
  test(`given the ${component} in both layouts, when loaded, then every tensor has the same diffusers name, shape and values`, async () => {
    const config = manifest.models[component].config;
    const diffusers = await loadComponentWeights(fixtures, component, { config });
    const single = await loadComponentWeights(path.join(fixtures, layouts.single_file[component].weights), component, { config });
    try {
      assert.deepEqual([...single.names()].sort(), [...diffusers.names()].sort());
      // Every weight of the diffusers file is reachable, and the single file maps onto exactly those.
      const reference = await import('../../native-models/src/weights/safetensors').then((m) => m.SafetensorsFile.open(path.join(fixtures, layouts.diffusers[component].weights)));
      assert.equal(diffusers.names().length, [...reference.tensors.values()].filter((t) => t.dtype === 'F32').length);
      await reference.close();
      for (const name of diffusers.names()) {
        const a = diffusers.get(name);
        const b = single.get(name);
        assert.deepEqual(b.shape, a.shape, name);
        assert.deepEqual(b.data, a.data, name);
      }
      assert.equal(diffusers.config.block_out_channels?.toString() ?? diffusers.config.hidden_size?.toString(), (config.block_out_channels ?? config.hidden_size).toString());
    } finally {
      await Promise.all([diffusers.close(), single.close()]);
    }
  });
}

test('given the VAE mid-block attention, then it is a [C,C] matrix in both layouts', async () => {
  const single = await loadComponentWeights(path.join(fixtures, 'tiny-sd15.safetensors'), 'vae', { config: manifest.models.vae.config });
  try {
    const shape = single.shape('decoder.mid_block.attentions.0.to_q.weight');
    assert.equal(shape.length, 2);
    assert.equal(single.get('decoder.mid_block.attentions.0.to_out.0.weight').shape.length, 2);
  } finally { await single.close(); }
});

test('given a single-file checkpoint, when loaded without a config, then each component\'s config is read from its weights and agrees with the manifest', async () => {
  // In the fixture folder the diffusers configs lie beside the file (as in Hugging Face repositories):
  // they give what the weights do not record; alone, those settings are SD1.5's or a guess, with a warning.
  const alone = path.join(dir, 'alone');
  fs.mkdirSync(alone, { recursive: true });
  for (const f of ['tiny-sd15.safetensors', 'tiny-controlnet.safetensors']) fs.copyFileSync(path.join(fixtures, f), path.join(alone, f));
  const structural = ['block_out_channels', 'layers_per_block', 'down_block_types', 'up_block_types', 'cross_attention_dim', 'in_channels', 'out_channels',
    'use_linear_projection', 'conditioning_embedding_out_channels', 'latent_channels', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'vocab_size', 'max_position_embeddings'];
  for (const component of components) {
    const file = layouts.single_file[component].weights;
    const expected = manifest.models[component].config;
    const beside = await loadComponentWeights(path.join(fixtures, file), component);
    const copy = await loadComponentWeights(path.join(alone, path.basename(file)), component);
    try {
      for (const key of Object.keys(expected)) {
        if (key in beside.config) assert.deepEqual(beside.config[key], expected[key], `${component}.${key} with the configs beside`);
        if (structural.includes(key)) assert.deepEqual(copy.config[key], expected[key], `${component}.${key} from the weights alone`);
      }
      assert.deepEqual(beside.warnings, []);
      assert.match(copy.warnings.join('\n'), /sizes of no known family .* assumed, since the weights do not record/);
      assert.ok(!copy.names().some((n) => n.includes('position_ids')));
    } finally { await Promise.all([beside.close(), copy.close()]); }
  }
});

test('given the fixture files, then each is detected as what it is', async () => {
  const expect: Array<[string, string]> = [
    ['tiny-sd15.safetensors', 'sd15-checkpoint'], ['tiny-controlnet.safetensors', 'controlnet'], ['tiny-lora.safetensors', 'lora'],
    ['.', 'diffusers-folder'], ['controlnet', 'controlnet'], ['vae', 'vae'], ['vae/diffusion_pytorch_model.safetensors', 'vae'],
    ['controlnet/diffusion_pytorch_model.safetensors', 'controlnet'],
  ];
  for (const [file, kind] of expect) {
    const d = await detectModelFile(path.join(fixtures, file));
    assert.equal(d.kind, kind, file);
    assert.equal(d.problem, undefined, `${file}: ${d.problem}`);
  }
  const checkpoint = await detectModelFile(path.join(fixtures, 'tiny-sd15.safetensors'));
  assert.deepEqual(checkpoint.components, ['unet', 'vae', 'text_encoder']);
});

/** A tiny file with the given tensor names (one float each unless a shape is given). */
async function fileWith(name: string, tensors: Record<string, number[]>): Promise<string> {
  const file = path.join(dir, name);
  const entries = Object.fromEntries(Object.entries(tensors).map(([k, shape]) => [k, { dtype: 'F32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) }]));
  await writeSafetensors(file, entries);
  return file;
}

test('given SDXL, SD2 and inpainting checkpoints, then detection and loading say why they cannot be used', async () => {
  const sdxl = await fileWith('sdxl.safetensors', { 'conditioner.embedders.0.transformer.text_model.final_layer_norm.weight': [4], 'model.diffusion_model.label_emb.0.0.weight': [4, 4] });
  const sd2 = await fileWith('sd2.safetensors', { 'cond_stage_model.model.ln_final.weight': [4], 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight': [4, 1024] });
  const inpaint = await fileWith('inpaint.safetensors', { 'model.diffusion_model.input_blocks.0.0.weight': [8, 9, 3, 3] });
  assert.match((await detectModelFile(sdxl)).problem ?? '', /SDXL/);
  assert.match((await detectModelFile(sd2)).problem ?? '', /Stable Diffusion 2/);
  assert.match((await detectModelFile(inpaint)).problem ?? '', /9 input channels/);
  await assert.rejects(loadComponentWeights(sdxl, 'unet'), (err: unknown) => err instanceof UserError && /SDXL/.test(err.message) && err.message.includes(sdxl));
  await assert.rejects(loadComponentWeights(sd2, 'unet'), /Stable Diffusion 2/);
});

test('given a file without the requested component, then loading names the file and what it holds', async () => {
  await assert.rejects(loadComponentWeights(path.join(fixtures, 'tiny-lora.safetensors'), 'unet'), /tiny-lora\.safetensors: holds no unet weights \(it looks like: LoRA/);
  await assert.rejects(loadComponentWeights(path.join(fixtures, 'tiny-controlnet.safetensors'), 'vae'), /holds no vae weights/);
  const ckpt = path.join(dir, 'model.ckpt');
  fs.writeFileSync(ckpt, 'x');
  assert.match((await detectModelFile(ckpt)).problem ?? '', /pickle/);
});

test('given a missing weight name, then get() throws a UserError naming the source', async () => {
  const unet = await loadComponentWeights(fixtures, 'unet');
  try {
    assert.throws(() => unet.get('up_blocks.9.resnets.0.conv1.weight'), (err: unknown) => err instanceof UserError && err.message.includes(fixtures));
  } finally { await unet.close(); }
});

test('given the same weights twice, then the fingerprint is equal; with a LoRA it differs', async () => {
  const a = await loadComponentWeights(fixtures, 'unet');
  const b = await loadComponentWeights(fixtures, 'unet');
  const c = await loadComponentWeights(fixtures, 'unet', { loras: [{ file: path.join(fixtures, 'tiny-lora.safetensors'), multiplier: 0.8 }] });
  try {
    assert.equal(await a.fingerprint(), await b.fingerprint());
    assert.notEqual(await a.fingerprint(), await c.fingerprint());
  } finally { await Promise.all([a.close(), b.close(), c.close()]); }
});

test('given a separate VAE file in original naming without prefix, and a diffusers ControlNet file, then both load like the folder', async () => {
  const config = manifest.models.vae.config;
  const checkpoint = await (await import('../../native-models/src/weights/safetensors')).SafetensorsFile.open(path.join(fixtures, 'tiny-sd15.safetensors'));
  const vaeOnly: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of checkpoint.tensors) {
    if (name.startsWith('first_stage_model.')) vaeOnly[name.slice('first_stage_model.'.length)] = { dtype: 'F32', shape: t.shape, data: await checkpoint.readFloat32(name) };
  }
  await checkpoint.close();
  const vaeFile = path.join(dir, 'vae-override.safetensors');
  await writeSafetensors(vaeFile, vaeOnly);
  assert.equal((await detectModelFile(vaeFile)).kind, 'vae');
  const pairs: Array<[string, Component]> = [[vaeFile, 'vae'], [path.join(fixtures, 'controlnet', 'diffusion_pytorch_model.safetensors'), 'controlnet']];
  for (const [file, component] of pairs) {
    const fromFile = await loadComponentWeights(file, component, { config: manifest.models[component].config });
    const fromFolder = await loadComponentWeights(fixtures, component, { config });
    try {
      assert.deepEqual(fromFile.names().sort(), fromFolder.names().sort());
      for (const name of fromFolder.names()) assert.deepEqual(fromFile.get(name).data, fromFolder.get(name).data, name);
    } finally { await Promise.all([fromFile.close(), fromFolder.close()]); }
  }
});

test('given F16 and BF16 copies of a component, then weights load as float32 close to the originals', async () => {
  const src = await (await import('../../native-models/src/weights/safetensors')).SafetensorsFile.open(path.join(fixtures, 'vae', 'diffusion_pytorch_model.safetensors'));
  const { float32ToHalf, float32ToBFloat16 } = await import('../../native-models/src/weights/half');
  for (const [dtype, convert, tolerance] of [['F16', float32ToHalf, 2 ** -11], ['BF16', float32ToBFloat16, 2 ** -8]] as const) {
    const tensors: Record<string, { dtype: 'F16' | 'BF16'; shape: number[]; data: Uint16Array }> = {};
    for (const [name, t] of src.tensors) tensors[name] = { dtype, shape: t.shape, data: convert(await src.readFloat32(name)) };
    const folder = path.join(dir, `vae-${dtype}`);
    fs.mkdirSync(folder, { recursive: true });
    fs.copyFileSync(path.join(fixtures, 'vae', 'config.json'), path.join(folder, 'config.json'));
    await writeSafetensors(path.join(folder, 'diffusion_pytorch_model.fp16.safetensors'), tensors);
    const weights = await loadComponentWeights(folder, 'vae');
    try {
      for (const name of weights.names()) {
        const a = weights.get(name).data;
        const b = await src.readFloat32(name);
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= Math.abs(b[i]) * tolerance + 1e-7, `${dtype} ${name}[${i}]`);
      }
    } finally { await weights.close(); }
  }
  await src.close();
});
