// Specification of kohya LoRA merging: the fixture LoRA at the manifest's multiplier reproduces the
// expected merged weights from both layouts; several LoRAs add up; foreign LoRAs get clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadComponentWeights, type Component } from '../../native-models/src/weights/model-weights';
import { SafetensorsFile, writeSafetensors } from '../../native-models/src/weights/safetensors';
import { UserError } from '../../native-models/src/errors';
import { SD_TINY } from '../helpers/fixtures';

const fixtures = SD_TINY;
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
const mergeCase = manifest.cases.find((c: { kind: string }) => c.kind === 'lora_merge');
const loraFile = path.join(fixtures, mergeCase.params.lora.file);
const multiplier: number = mergeCase.params.lora.multiplier;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lora-test-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sourceOf(layout: string, component: Component): string {
  return layout === 'diffusers' ? fixtures : path.join(fixtures, manifest.layouts.single_file[component].weights);
}

for (const layout of mergeCase.layouts as string[]) {
  test(`given the ${layout} layout and the kohya LoRA at ${multiplier}, when merged at load, then every listed weight matches within tolerance`, async () => {
    const expected = await SafetensorsFile.open(path.join(fixtures, mergeCase.file));
    const loaded = new Map<string, Awaited<ReturnType<typeof loadComponentWeights>>>();
    try {
      for (const component of ['unet', 'text_encoder'] as Component[]) {
        loaded.set(component, await loadComponentWeights(sourceOf(layout, component), component, { config: manifest.models[component].config, loras: [{ file: loraFile, multiplier }] }));
      }
      let checked = 0;
      for (const [key, out] of Object.entries(mergeCase.outputs as Record<string, { tensor: string; tolerance: number }>)) {
        const dot = key.indexOf('.');
        const weights = loaded.get(key.slice(0, dot))!;
        const merged = weights.get(key.slice(dot + 1));
        const diff = maxAbsDiff(merged.data, await expected.readFloat32(out.tensor));
        assert.ok(diff <= out.tolerance, `${key}: max abs diff ${diff} > ${out.tolerance}`);
        checked++;
      }
      assert.equal(checked, Object.keys(mergeCase.outputs).length);
      for (const w of loaded.values()) assert.deepEqual(w.warnings, []);
      // A weight the LoRA does not touch is unchanged.
      const plain = await loadComponentWeights(sourceOf(layout, 'unet'), 'unet', { config: manifest.models.unet.config });
      assert.deepEqual(loaded.get('unet')!.get('conv_in.weight').data, plain.get('conv_in.weight').data);
      await plain.close();
    } finally {
      await expected.close();
      await Promise.all([...loaded.values()].map((w) => w.close()));
    }
  });
}

test('given the same LoRA twice at half the multiplier, then the result equals it once at the full multiplier', async () => {
  const name = 'up_blocks.1.resnets.0.conv1.weight'; // a 3x3 conv with rank-2 update
  const once = await loadComponentWeights(fixtures, 'unet', { loras: [{ file: loraFile, multiplier }] });
  const twice = await loadComponentWeights(fixtures, 'unet', { loras: [{ file: loraFile, multiplier: multiplier / 2 }, { file: loraFile, multiplier: multiplier / 2 }] });
  try {
    assert.ok(maxAbsDiff(once.get(name).data, twice.get(name).data) < 1e-6);
  } finally { await Promise.all([once.close(), twice.close()]); }
});

test('given a LoRA with a module that matches nothing, then it is skipped with a warning naming it', async () => {
  const file = path.join(dir, 'extra.safetensors');
  const src = await SafetensorsFile.open(loraFile);
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  for (const [n, t] of src.tensors) tensors[n] = { dtype: 'F32', shape: t.shape, data: await src.readFloat32(n) };
  await src.close();
  tensors['lora_unet_not_a_module.lora_down.weight'] = { dtype: 'F32', shape: [4, 16], data: new Float32Array(64) };
  tensors['lora_unet_not_a_module.lora_up.weight'] = { dtype: 'F32', shape: [16, 4], data: new Float32Array(64) };
  await writeSafetensors(file, tensors);
  const unet = await loadComponentWeights(fixtures, 'unet', { loras: [{ file, multiplier: 1 }] });
  try {
    assert.equal(unet.warnings.length, 1);
    assert.match(unet.warnings[0], /lora_unet_not_a_module/);
  } finally { await unet.close(); }
});

test('given the same LoRA with UNet modules in original (LDM) naming, then it merges to the same weights', async () => {
  // Rename each diffusers module to its LDM name, found through the single-file checkpoint's own keys.
  const { unetKeyFromLdm } = await import('../../native-models/src/weights/checkpoint-keys');
  const checkpoint = await SafetensorsFile.open(path.join(fixtures, 'tiny-sd15.safetensors'));
  const ldmOf = new Map<string, string>();
  for (const key of checkpoint.tensors.keys()) {
    const m = /^model\.diffusion_model\.(.+)\.weight$/.exec(key);
    const mapped = m && unetKeyFromLdm(`${m[1]}.weight`, manifest.models.unet.config);
    if (mapped) ldmOf.set(mapped.name.replace(/\.weight$/, '').replace(/\./g, '_'), m![1].replace(/\./g, '_'));
  }
  await checkpoint.close();
  const src = await SafetensorsFile.open(loraFile);
  const renamed: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  let changed = 0;
  for (const [name, t] of src.tensors) {
    const m = /^lora_unet_(.+?)\.(lora_down\.weight|lora_up\.weight|alpha)$/.exec(name);
    const ldm = m && ldmOf.get(m[1]);
    if (ldm && ldm !== m![1]) changed++;
    renamed[ldm ? `lora_unet_${ldm}.${m![2]}` : name] = { dtype: 'F32', shape: t.shape, data: await src.readFloat32(name) };
  }
  await src.close();
  assert.ok(changed > 0);
  const ldmLora = path.join(dir, 'ldm-named.safetensors');
  await writeSafetensors(ldmLora, renamed);
  const config = manifest.models.unet.config;
  const a = await loadComponentWeights(fixtures, 'unet', { config, loras: [{ file: loraFile, multiplier }] });
  const b = await loadComponentWeights(fixtures, 'unet', { config, loras: [{ file: ldmLora, multiplier }] });
  try {
    assert.deepEqual(b.warnings, []);
    for (const name of a.names()) assert.deepEqual(b.get(name).data, a.get(name).data, name);
  } finally { await Promise.all([a.close(), b.close()]); }
});

test('given LoRAs for other model families or formats, then loading fails naming the LoRA file', async () => {
  const cases: Array<[string, Record<string, number[]>, RegExp]> = [
    ['sdxl-lora', { 'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight': [4, 20], 'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_up.weight': [80, 4] }, /SDXL/],
    ['peft-lora', { 'unet.conv_in.lora_A.weight': [4, 4] }, /PEFT/],
    ['loha', { 'lora_unet_conv_in.hada_w1_a': [4, 4] }, /LoHa/],
    ['wide-lora', { 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight': [4, 320], 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight': [320, 4] }, /does not fit/],
    ['nothing-matches', { 'lora_unet_input_blocks_99_1_proj_in.lora_down.weight': [4, 16], 'lora_unet_input_blocks_99_1_proj_in.lora_up.weight': [16, 4] }, /none of its 1 unet modules/],
  ];
  for (const [name, shapes, message] of cases) {
    const file = path.join(dir, `${name}.safetensors`);
    await writeSafetensors(file, Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { dtype: 'F32' as const, shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)) }])));
    await assert.rejects(loadComponentWeights(fixtures, 'unet', { loras: [{ file, multiplier: 1 }] }), (err: unknown) => {
      assert.ok(err instanceof UserError && err.message.includes(file), String(err));
      assert.match(err.message, message);
      return true;
    }, name);
  }
});
