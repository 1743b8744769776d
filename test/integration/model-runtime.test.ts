// The inference worker's model runtime: providers tried in order with the chosen one reported, the
// compiled-graph disk cache reused on a second load (also across LoRA sets kept apart), sessions released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { spawn } from 'node:child_process';
import { compiledGraph, compiledGraphName, removeCompiledGraphs } from '../../native-models/src/runtime/graph-cache';
import { buildGraph } from '../../native-models/src/graphs';
import { encodeModel, type ModelDef } from '../../native-models/src/onnx/model';
import { createSessionOn, flavourFor } from '../../native-models/src/runtime/providers';
import { float32ToHalf } from '../../native-models/src/weights/half';
import { writeSafetensors, type TensorToWrite } from '../../native-models/src/weights/safetensors';
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

const storeBytes = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.data')).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);

test('given one UNet as an fp32 and as an fp16 file, when compiled for the CPU (fp32 graphs), then the fp16 file\'s store holds its weights in half (no fp32 copy), its fp16 graph shares that store, and its fp32 graph computes exactly what the same weights inline in float32 compute', async () => {
  const work = tempDir();
  const dir32 = path.join(work, 'cache32'), dir16 = path.join(work, 'cache16'), file16 = path.join(work, 'unet-fp16.safetensors');
  const full = await loadComponentWeights(FIXTURES, 'unet');
  const tensors: Record<string, TensorToWrite> = {};
  for (const name of full.names()) tensors[name] = { dtype: 'F16', shape: full.shape(name), data: float32ToHalf(full.get(name).data) };
  await writeSafetensors(file16, tensors);
  const half = await loadComponentWeights(file16, 'unet');
  const feeds = () => ({
    sample: new ort.Tensor('float32', Float32Array.from({ length: 2 * 4 * 16 * 16 }, (_, i) => Math.sin(i)), [2, 4, 16, 16]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([500n]), [1]),
    encoder_hidden_states: new ort.Tensor('float32', Float32Array.from({ length: 2 * 77 * 20 }, (_, i) => Math.cos(i)), [2, 77, 20]),
  });
  try {
    const r32 = new ModelRuntime({ cacheDir: dir32, providers: ['cpu'] });
    await r32.load({ part: 'unet' }, full);
    await r32.releaseAll();
    const r16 = new ModelRuntime({ cacheDir: dir16, providers: ['cpu'] });
    const cached = await r16.load({ part: 'unet' }, half);
    const fromStore = (await cached.run(feeds(), ['noise_pred'])).noise_pred.data as Float32Array;
    await r16.releaseAll();
    const bytes32 = storeBytes(dir32), bytes16 = storeBytes(dir16);
    const halfBytes = half.names().reduce((s, n) => s + 2 * half.shape(n).reduce((a, b) => a * b, 1), 0);
    assert.ok(bytes16 <= 0.55 * bytes32, `store of the fp16 file ${bytes16} B against ${bytes32} B for the fp32 file`);
    assert.ok(bytes16 <= 1.05 * halfBytes, `store ${bytes16} B for ${halfBytes} B of fp16 weights`);

    // An fp16 graph of the same file (GPU providers) finds its tensors in that store.
    const fp = await half.fingerprint();
    await compiledGraph(dir16, { weights: fp, graph: 'unet', precision: 'fp16', fusedOps: false }, (sink) => buildGraph({ part: 'unet' }, half, { precision: 'fp16', sink }));
    assert.ok(storeBytes(dir16) <= 1.1 * bytes16, `the fp16 graph added ${storeBytes(dir16) - bytes16} B to ${bytes16} B`);

    // The same weights inline in float32 (no store, no cast) compute the same noise, bit for bit.
    const inline = await createSessionOn(encodeModel(buildGraph({ part: 'unet' }, half, flavourFor('cpu'))).toBytes(), 'cpu');
    const direct = (await inline.run(feeds(), ['noise_pred'])).noise_pred.data as Float32Array;
    await inline.release();
    assert.deepEqual(fromStore, direct);
  } finally {
    await full.close();
    await half.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('given a graph build killed midway in another process, then its partial data file is left, and the next build removes it', { timeout: 600_000 }, async () => {
  const cacheDir = tempDir();
  try {
    // The child streams one weight into the store, says so, and waits to be killed.
    const script = `
      const { compiledGraph } = require(${JSON.stringify(path.resolve(__dirname, '../../native-models/src/runtime/graph-cache'))});
      compiledGraph(${JSON.stringify(cacheDir)}, { weights: 'killed', graph: 'unet', precision: 'fp32', fusedOps: false }, (sink) => {
        sink.place({ name: 'w', dataType: 'float32', dims: [1024], bytes: new Uint8Array(4096).fill(3) });
        process.stdout.write('placed\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
      });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('placed')) resolve(); });
      child.on('exit', (code) => reject(new Error(`the build exited (${code}) before placing its weight`)));
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const left = fs.readdirSync(cacheDir).filter((f) => f.endsWith('.partial'));
    assert.equal(left.length, 1, `left: ${fs.readdirSync(cacheDir).join(', ')}`);
    assert.ok(left[0].includes(`.${child.pid}.partial`), left[0]);

    const weights = await loadComponentWeights(FIXTURES, 'vae');
    try {
      const runtime = new ModelRuntime({ cacheDir, providers: ['cpu'] });
      await runtime.load({ part: 'vae_decoder' }, weights);
      await runtime.releaseAll();
    } finally {
      await weights.close();
    }
    assert.deepEqual(fs.readdirSync(cacheDir).filter((f) => f.includes('partial')), [], 'the killed build\'s partial file is gone');
    assert.ok(fs.readdirSync(cacheDir).some((f) => f.endsWith('.onnx')), 'the new build was written');
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
});
