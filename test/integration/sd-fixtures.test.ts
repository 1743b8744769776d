// Conformance: every case of the shared SD1.5 fixtures reproduced by our graphs (ONNX Runtime, CPU)
// from both the diffusers and the single-file layout, in fp32, fp16 and with fused operators, through
// the same code as `rerender fixtures-check`; and the check itself works on another manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkManifest, type CaseResult } from '../../native-models/src/conformance/check-manifest';
import { SafetensorsFile, writeSafetensors } from '../../native-models/src/weights/safetensors';
import { SD_TINY } from '../helpers/fixtures';

const FIXTURES = SD_TINY;
const MANIFEST = path.join(FIXTURES, 'manifest.json');
const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { cases: Array<{ name: string; layouts: string[]; file: string; outputs: Record<string, { tolerance: number }> }> };

function describeFailures(results: CaseResult[]): string {
  return results.filter((r) => !r.pass).map((r) => `${r.case} [${r.layout}]: ${r.error ?? r.outputs.filter((o) => !o.pass).map((o) => `${o.output} ${o.maxAbsDiff} > ${o.tolerance}${o.error ? ` (${o.error})` : ''}`).join(', ')}`).join('\n');
}

test('given the sd-tiny manifest, when every case runs in fp32 from every layout it lists, then every output is within its tolerance', async () => {
  const results = await checkManifest(MANIFEST);
  const expectedRuns = manifest.cases.reduce((n, c) => n + c.layouts.length, 0);
  assert.equal(results.length, expectedRuns, 'one result per case and layout');
  for (const layout of ['diffusers', 'single_file']) assert.ok(results.some((r) => r.layout === layout), `${layout} layout ran`);
  assert.equal(describeFailures(results), '');
  // Every non-debug output was compared, none silently skipped.
  for (const r of results) assert.ok(r.outputs.length > 0, `${r.case} compared something`);
});

// The two layouts hold bit-identical weights (proven by the fp32 run), so fp16 runs one of them.
test('given fp16 graphs, when the model cases run, then every output is within its fp16_tolerance (5x the reference float16 error)', async () => {
  const results = await checkManifest(MANIFEST, { precision: 'fp16', layouts: ['diffusers'], cases: manifest.cases.map((c) => c.name).filter((n) => !['tokenizer', 'scheduler_ddim', 'lora_merge'].includes(n)) });
  assert.ok(results.length >= 8);
  assert.equal(describeFailures(results), '');
});

test('given graphs with fused attention (com.microsoft MultiHeadAttention), when the UNet, ControlNet and VAE cases run, then they meet the fp32 tolerances', async () => {
  const results = await checkManifest(MANIFEST, { fusedOps: true, layouts: ['diffusers'], cases: ['unet_t951', 'controlnet', 'unet_crossframe', 'vae_decode'] });
  assert.equal(results.length, 4);
  assert.equal(describeFailures(results), '');
});

test('given another manifest in the same format (renamed layout, subset of cases, one expected output off by 100x its tolerance), when checked, then the layout is used and the wrong output fails', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-manifest-'));
  try {
    const original = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'));
    const rel = path.relative(dir, FIXTURES);
    const relocate = (entry: Record<string, unknown>) => Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, (k === 'weights' || k === 'config') && typeof v === 'string' ? path.join(rel, v) : v]));
    const layouts = {
      checkpoint: Object.fromEntries(['unet', 'vae'].map((c) => [c, relocate(original.layouts.single_file[c])])),
    };
    const unet = original.cases.find((c: { name: string }) => c.name === 'unet_t1');
    const vae = original.cases.find((c: { name: string }) => c.name === 'vae_decode');
    // The UNet case file is rewritten with noise_pred shifted by 100x the tolerance at one element.
    const source = await SafetensorsFile.open(path.join(FIXTURES, unet.file));
    const tensors: Record<string, { dtype: 'F32' | 'I64'; shape: number[]; data: ArrayBufferView }> = {};
    for (const [name, info] of source.tensors) {
      tensors[name] = info.dtype === 'I64' ? { dtype: 'I64', shape: info.shape, data: await source.readBigInt64(name) } : { dtype: 'F32', shape: info.shape, data: source.readFloat32Sync(name) };
    }
    await source.close();
    const shift = 100 * unet.outputs.noise_pred.tolerance;
    (tensors.noise_pred.data as Float32Array)[7] += shift;
    await writeSafetensors(path.join(dir, 'unet_wrong.safetensors'), tensors);
    const cases = [
      { ...unet, name: 'unet_wrong', file: 'unet_wrong.safetensors', layouts: ['checkpoint'] },
      { ...vae, file: path.join(rel, vae.file), layouts: ['checkpoint'] },
    ];
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ ...original, name: 'relocated', layouts, cases, files: {} }));

    const results = await checkManifest(path.join(dir, 'manifest.json'));

    assert.deepEqual(results.map((r) => [r.case, r.layout, r.pass]), [['unet_wrong', 'checkpoint', false], ['vae_decode', 'checkpoint', true]]);
    const wrong = results[0].outputs.find((o) => o.output === 'noise_pred');
    assert.ok(wrong && Math.abs(wrong.maxAbsDiff - shift) < unet.outputs.noise_pred.tolerance, 'the reported difference is the injected shift');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
