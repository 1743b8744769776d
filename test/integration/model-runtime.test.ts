// The inference worker's model runtime: providers tried in order with the chosen one reported, the
// compiled-graph disk cache reused on a second load (also across LoRA sets kept apart), sessions released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { compiledGraph, compiledGraphName, removeCompiledGraphs } from '../../native-models/src/runtime/graph-cache';
import { buildGraph } from '../../native-models/src/graphs';
import type { ModelDef } from '../../native-models/src/onnx/model';
import { loadComponentWeights } from '../../native-models/src/weights/model-weights';
import { SD_TINY } from '../helpers/fixtures';

const FIXTURES = SD_TINY;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-runtime-'));
}

test('given providers cuda, dml, cpu on a machine without a GPU, when loading, then the first working provider is chosen and the others are reported with a reason', async () => {
  const cacheDir = tempDir();
  const weights = await loadComponentWeights(FIXTURES, 'vae');
  const runtime = new ModelRuntime({ cacheDir, providers: ['cuda', 'dml', 'cpu'] });
  try {
    const model = await runtime.load({ part: 'vae_decoder' }, weights);
    if (model.provider === 'cpu') {
      assert.deepEqual(model.skipped.map((s) => s.provider), ['cuda', 'dml']);
      for (const s of model.skipped) assert.ok(s.error.length > 0);
    }
    const latent = new ort.Tensor('float32', new Float32Array(4 * 6 * 5).fill(0.5), [1, 4, 6, 5]);
    const { image } = await model.run({ latent });
    assert.deepEqual(image.dims, [1, 3, 48, 40]);
  } finally {
    await runtime.releaseAll();
    await weights.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('given a model loaded once, when a new runtime loads it again, then the compiled graph comes from the disk cache; a LoRA set gets its own entry, removable on its own', async () => {
  const cacheDir = tempDir();
  const plain = await loadComponentWeights(FIXTURES, 'unet');
  const withLora = await loadComponentWeights(FIXTURES, 'unet', { loras: [{ file: path.join(FIXTURES, 'tiny-lora.safetensors'), multiplier: 0.8 }] });
  try {
    const stages: string[] = [];
    const first = new ModelRuntime({ cacheDir, providers: ['cpu'] });
    const a = await first.load({ part: 'unet', variant: { record: true } }, plain, (f, message) => stages.push(`${f}:${message}`));
    assert.equal(a.fromCache, false);
    assert.ok(stages.some((s) => s.includes('building the unet-record graph')), stages.join('\n'));
    assert.ok(stages.some((s) => s.includes('saving the unet-record graph (100%)')), stages.join('\n'));
    assert.ok(stages[stages.length - 1].startsWith('1:'), 'progress ends at 1');
    await first.releaseAll();

    const second = new ModelRuntime({ cacheDir, providers: ['cpu'] });
    const b = await second.load({ part: 'unet', variant: { record: true } }, plain);
    assert.equal(b.fromCache, true);
    const c = await second.load({ part: 'unet', variant: { record: true } }, withLora);
    assert.equal(c.fromCache, false, 'merged LoRA weights are a different model');
    assert.equal(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.onnx')).length, 2);
    await second.releaseAll();
    await assert.rejects(b.run({}), /released/);

    // Removing the plain model's graphs leaves the LoRA-merged one.
    assert.equal(removeCompiledGraphs(cacheDir, await plain.fingerprint()), 1);
    assert.equal(fs.readdirSync(cacheDir).filter((f) => f.endsWith('.onnx')).length, 1);
  } finally {
    await plain.close();
    await withLora.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('given two cache keys that differ only in precision or fused operators, their file names differ', () => {
  const key = { weights: 'abc', graph: 'unet-plain', precision: 'fp32' as const, fusedOps: false };
  const names = new Set([key, { ...key, precision: 'fp16' as const }, { ...key, fusedOps: true }, { ...key, weights: 'abd' }].map(compiledGraphName));
  assert.equal(names.size, 4);
});

test('given two requests for the same model at once, they share one build and one session', async () => {
  const cacheDir = tempDir();
  const weights = await loadComponentWeights(FIXTURES, 'vae');
  const runtime = new ModelRuntime({ cacheDir, providers: ['cpu'] });
  try {
    const [a, b] = await Promise.all([runtime.load({ part: 'vae_encoder' }, weights), runtime.load({ part: 'vae_encoder' }, weights)]);
    assert.equal(a, b);
    assert.equal(runtime.loaded().length, 1);
    assert.equal(await runtime.load({ part: 'vae_encoder' }, weights), a, 'a later request gets the loaded model');
  } finally {
    await runtime.releaseAll();
    await weights.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('given several graph variants of one UNet, when compiled, then the converted weights are stored once and shared by every variant, and the variants predict the same noise from them', async () => {
  const cacheDir = tempDir();
  const weights = await loadComponentWeights(FIXTURES, 'unet');
  const runtime = new ModelRuntime({ cacheDir, providers: ['cpu'] });
  const dataBytes = () => fs.readdirSync(cacheDir).filter((f) => f.endsWith('.data')).reduce((s, f) => s + fs.statSync(path.join(cacheDir, f)).size, 0);
  try {
    const sample = new ort.Tensor('float32', Float32Array.from({ length: 2 * 4 * 16 * 16 }, (_, i) => Math.sin(i)), [2, 4, 16, 16]);
    const feeds = {
      sample, timestep: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 77 * 20 }, (_, i) => Math.cos(i)), [2, 77, 20]),
    };
    const plain = await runtime.load({ part: 'unet' }, weights);
    const a = (await plain.run(feeds, ['noise_pred'])).noise_pred.data as Float32Array;
    const once = dataBytes();
    const weightBytes = weights.names().reduce((s, n) => s + weights.shape(n).reduce((a, b) => a * b, 1) * 4, 0);
    assert.ok(once <= weightBytes * 1.05 && once >= weightBytes * 0.5, `store ${once} B for ${weightBytes} B of weights`);
    const record = await runtime.load({ part: 'unet', variant: { record: true } }, weights);
    const encoder = await runtime.load({ part: 'unet_encoder' }, weights);
    assert.ok(dataBytes() <= once * 1.01, `variants added ${dataBytes() - once} B of weights`);
    const b = (await record.run(feeds, ['noise_pred'])).noise_pred.data as Float32Array;
    assert.deepEqual(b, a, 'the record variant reads the same shared weights');
    assert.ok(encoder.outputNames.length > 0);
    await runtime.releaseAll();
    assert.ok(removeCompiledGraphs(cacheDir, await weights.fingerprint()) >= 3);
    assert.deepEqual(fs.readdirSync(cacheDir), [], 'removing the model removes its shared weights too');
  } finally {
    await runtime.releaseAll();
    await weights.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('given a graph compiled into the cache, then its builder streamed every large weight into the shared store as it was made (the model kept none in memory), and a build that fails leaves no data behind', async () => {
  const cacheDir = tempDir();
  const weights = await loadComponentWeights(FIXTURES, 'unet');
  try {
    const key = { weights: await weights.fingerprint(), graph: 'unet', precision: 'fp32' as const, fusedOps: true };
    let model: ModelDef | undefined;
    const placed: number[] = [];
    await compiledGraph(cacheDir, key, (sink) => (model = buildGraph({ part: 'unet' }, weights, { precision: 'fp32', fusedOps: true, sink })), (bytes) => placed.push(bytes));
    const large = model!.initializers.filter((t) => t.external || t.bytes.length >= 1024);
    assert.ok(large.length > 50, `${large.length} large initialisers`);
    assert.ok(large.every((t) => t.external && t.bytes.length === 0), 'every large weight was handed to the store, none kept');
    assert.ok(placed.length >= large.length && placed[placed.length - 1] >= large.reduce((s, t) => s + t.external!.length, 0), 'progress counts the bytes placed');
    const data = fs.readdirSync(cacheDir).filter((f) => f.endsWith('.data'));
    assert.equal(data.length, 1);
    assert.ok(large.every((t) => t.external!.location === data[0]));

    const before = fs.readdirSync(cacheDir).sort();
    await assert.rejects(compiledGraph(cacheDir, { ...key, graph: 'unet-record' }, (sink) => {
      sink.place({ name: 'new', dataType: 'float32', dims: [1024], bytes: new Uint8Array(4096).fill(7) });
      throw new Error('builder failed');
    }), /builder failed/);
    assert.deepEqual(fs.readdirSync(cacheDir).sort(), before, 'the failed build left no file');
  } finally {
    await weights.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});

test('given a full-UNet variant loaded, when another variant of the same weights is loaded, then the first is released after its run in flight (one UNet in memory), loads again from the cache, and other models stay', async () => {
  const cacheDir = tempDir();
  const unet = await loadComponentWeights(FIXTURES, 'unet');
  const vae = await loadComponentWeights(FIXTURES, 'vae');
  const runtime = new ModelRuntime({ cacheDir, providers: ['cpu'] });
  try {
    const feeds = {
      sample: new ort.Tensor('float32', Float32Array.from({ length: 2 * 4 * 16 * 16 }, (_, i) => Math.sin(i)), [2, 4, 16, 16]),
      timestep: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
      encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 77 * 20 }, (_, i) => Math.cos(i)), [2, 77, 20]),
    };
    const decoder = await runtime.load({ part: 'vae_decoder' }, vae);
    const encoderHalf = await runtime.load({ part: 'unet_encoder' }, unet);
    const record = await runtime.load({ part: 'unet', variant: { record: true } }, unet);
    const before = (await record.run(feeds, ['noise_pred'])).noise_pred.data as Float32Array;
    const inFlight = record.run(feeds, ['noise_pred']);
    const plain = await runtime.load({ part: 'unet' }, unet);
    assert.equal(runtime.holds(record), false, 'the record variant is replaced');
    assert.deepEqual((await inFlight).noise_pred.data, before, 'the run in flight finished on its session');
    await assert.rejects(record.run(feeds, ['noise_pred']), /was released/);
    assert.deepEqual(runtime.loaded().map((m) => m.name).sort(), ['unet-plain', 'unet_encoder', 'vae_decoder'].sort(), 'FRESCO parts and other models stay');
    assert.ok(runtime.holds(plain) && runtime.holds(decoder) && runtime.holds(encoderHalf));
    const again = await runtime.load({ part: 'unet', variant: { record: true } }, unet);
    assert.equal(again.fromCache, true);
    assert.equal(runtime.holds(plain), false);
    assert.deepEqual((await again.run(feeds, ['noise_pred'])).noise_pred.data, before);
  } finally {
    await runtime.releaseAll();
    await unet.close();
    await vae.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});
