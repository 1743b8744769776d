// Model runtime figures on CPU: graph build, session creation and per-call latency of the sd-tiny models,
// and the full-size SD1.5 UNet (random weights) at a 64×64 latent: load time, time per step, peak RSS.
// The full-size part runs in child processes (build, then run from the written file, as a cache hit
// does) so each peak RSS is that phase's own; then the disk a cache of four variants of that UNet takes.
// Then a render's loads from a full-size fp16 checkpoint file (random weights): the anchor's record UNet, then a
// later keyframe's inject UNet (which replaces it, as in a run), and the VAE, with a cold and then a warm
// cache: peak RSS against the fp32 weights in use, the cache's size, the VAE's encode/decode at 512×512.
// Then the UNet step and the VAE passes beside diffusers' modules in PyTorch (RERENDER_DIFFUSERS_SRC, see below).
// RERENDER_BENCH_FULL=0 skips the full-size part; RERENDER_BENCH_SECTION=cache (or render-load) runs only that part.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { buildGraph, type GraphSpec } from '../../native-models/src/graphs';
import { syntheticWeights, unetParameterShapes, vaeParameterShapes } from '../../native-models/src/graphs/synthetic-weights';
import { crossFrameLayers, looseLayers } from '../../native-models/src/graphs';
import { unetConfig } from '../../native-models/src/graphs/config';
import { float32ToHalf } from '../../native-models/src/weights/half';
import { writeSafetensors, type TensorToWrite } from '../../native-models/src/weights/safetensors';
import { encodeModel, writeModel } from '../../native-models/src/onnx/model';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { createSessionOn } from '../../native-models/src/runtime/providers';
import { compiledGraph } from '../../native-models/src/runtime/graph-cache';
import { describeGraph } from '../../native-models/src/graphs';
import { loadComponentWeights, type Component } from '../../native-models/src/weights/model-weights';
import { SD15_CONFIGS } from '../../native-models/src/weights/sd15-config';
import { SD_TINY } from '../helpers/fixtures';

const FIXTURES = SD_TINY;

function random(n: number, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; });
}
const f32 = (dims: number[], seed = 1) => new ort.Tensor('float32', random(dims.reduce((a, b) => a * b, 1), seed), dims);
const timestep = () => new ort.Tensor('int64', BigInt64Array.of(501n), [1]);
const ms = (t: number) => `${t.toFixed(1)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeCalls(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, runs: number): Promise<number> {
  await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  return median(times);
}

async function tinyModels(): Promise<void> {
  console.log('sd-tiny models (fixture sizes: latent 16×16, batch 2 for text encoder / UNet / ControlNet, 1 for the VAE), CPU provider:');
  console.log('graph                          flavour      build     session   per call (median of 10)');
  const cases: Array<{ component: Component; spec: GraphSpec; feeds: () => Record<string, ort.Tensor> }> = [
    { component: 'text_encoder', spec: { part: 'text_encoder' }, feeds: () => ({ input_ids: new ort.Tensor('int64', BigInt64Array.from({ length: 154 }, (_, i) => BigInt((i * 37) % 49408)), [2, 77]) }) },
    { component: 'unet', spec: { part: 'unet' }, feeds: () => ({ sample: f32([2, 4, 16, 16]), timestep: timestep(), encoder_hidden_states: f32([2, 77, 20], 2) }) },
    { component: 'controlnet', spec: { part: 'controlnet' }, feeds: () => ({ sample: f32([2, 4, 16, 16]), timestep: timestep(), encoder_hidden_states: f32([2, 77, 20], 2), controlnet_cond: f32([2, 3, 128, 128], 3), conditioning_scale: new ort.Tensor('float32', Float32Array.of(1), [1]) }) },
    { component: 'vae', spec: { part: 'vae_encoder' }, feeds: () => ({ image: f32([1, 3, 128, 128]) }) },
    { component: 'vae', spec: { part: 'vae_decoder' }, feeds: () => ({ latent: f32([1, 4, 16, 16]) }) },
  ];
  for (const c of cases) {
    const weights = await loadComponentWeights(FIXTURES, c.component);
    for (const flavour of [{ precision: 'fp32' as const, fusedOps: false }, { precision: 'fp32' as const, fusedOps: true }]) {
      if (c.component === 'text_encoder' && flavour.fusedOps) continue; // the causal mask keeps it plain
      let t = performance.now();
      const bytes = encodeModel(buildGraph(c.spec, weights, flavour)).toBytes();
      const build = performance.now() - t;
      t = performance.now();
      const session = await createSessionOn(bytes, 'cpu');
      const create = performance.now() - t;
      const call = await timeCalls(session, c.feeds(), 10);
      console.log(`${c.spec.part.padEnd(30)} ${(flavour.fusedOps ? 'fp32 fused' : 'fp32 plain').padEnd(11)} ${ms(build).padStart(9)} ${ms(create).padStart(10)} ${ms(call).padStart(10)}`);
      await session.release();
    }
    await weights.close();
  }
}

/** A model's first load (graph build, write, session) against a later one that finds the graph on disk. */
async function cachedLoads(): Promise<void> {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-bench-cache-'));
  const weights = await loadComponentWeights(FIXTURES, 'unet');
  try {
    console.log('\nModelRuntime.load of the sd-tiny UNet (record variant), CPU:');
    for (const label of ['first load (fingerprint, build, write, session)', 'second load in a new runtime (disk cache)']) {
      const runtime = new ModelRuntime({ cacheDir, providers: ['cpu'] });
      const t = performance.now();
      const model = await runtime.load({ part: 'unet', variant: { record: true } }, weights);
      console.log(`  ${label.padEnd(50)} ${ms(performance.now() - t).padStart(10)}${model.fromCache ? '  (from cache)' : ''}`);
      await runtime.releaseAll();
    }
  } finally {
    await weights.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Child process 1: random full-size weights → graph → file with external data. */
async function fullBuild(file: string, fused: boolean): Promise<void> {
  const config = SD15_CONFIGS.unet;
  const t = performance.now();
  const model = buildGraph({ part: 'unet' }, syntheticWeights(config, unetParameterShapes(config)), { precision: 'fp32', fusedOps: fused });
  const built = performance.now() - t;
  await writeModel(model, file);
  const total = performance.now() - t;
  console.log(JSON.stringify({ phase: 'build', buildMs: built, buildAndWriteMs: total, bytes: fs.statSync(file).size + fs.statSync(`${file}.data`).size, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

/** Child process 2: session from the file (a cache hit), then UNet calls at a 64×64 latent. */
async function fullRun(file: string, batch: number, steps: number): Promise<void> {
  let t = performance.now();
  const session = await createSessionOn(file, 'cpu');
  const sessionMs = performance.now() - t;
  const feeds = { sample: f32([batch, 4, 64, 64]), timestep: timestep(), encoder_hidden_states: f32([batch, 77, 768], 2) };
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  console.log(JSON.stringify({ phase: 'run', batch, sessionMs, stepMs: times, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

/**
 * Child process 3: the graph variants one checkpoint is used with (plain, Rerender's record, FRESCO's
 * encoder half, the ControlNet UNet) compiled into one cache: what each adds on disk.
 */
async function fullCache(dir: string): Promise<void> {
  const config = SD15_CONFIGS.unet;
  const weights = syntheticWeights(config, unetParameterShapes(config));
  const specs: GraphSpec[] = [{ part: 'unet' }, { part: 'unet', variant: { record: true } }, { part: 'unet', variant: { controlNet: true, record: true, inject: [3, 4, 5, 6, 7, 8] } }, { part: 'unet_encoder' }];
  const sizes = () => fs.readdirSync(dir).reduce((acc, f) => {
    const bytes = fs.statSync(path.join(dir, f)).size;
    if (f.endsWith('.data')) acc.data += bytes; else acc.other += bytes;
    return acc;
  }, { data: 0, other: 0 });
  const rows: Array<{ graph: string; seconds: number; data: number; other: number }> = [];
  for (const spec of specs) {
    const t = performance.now();
    await compiledGraph(dir, { weights: 'bench-synthetic-sd15', graph: describeGraph(spec), precision: 'fp32', fusedOps: true }, (sink) => buildGraph(spec, weights, { precision: 'fp32', fusedOps: true, sink }));
    rows.push({ graph: describeGraph(spec), seconds: (performance.now() - t) / 1000, ...sizes() });
  }
  console.log(JSON.stringify({ phase: 'cache', rows, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function sharedCache(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-bench-cache-full-'));
  try {
    console.log('\nCompiled-graph cache of one full-size SD1.5 UNet used in four graph variants (fp32, CPU flavour):');
    const r = child(['--full-cache', dir]);
    if (!r) return;
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    for (const row of r.rows as Array<{ graph: string; seconds: number; data: number; other: number }>) {
      console.log(`  + ${row.graph.padEnd(44)} ${row.seconds.toFixed(1).padStart(6)} s   shared weights ${gib(row.data)}, graphs ${(row.other / 2 ** 20).toFixed(1)} MiB`);
    }
    console.log(`  (the UNet's fp32 weights are 3.20 GiB; peak RSS of the process ${Number(r.peakRssMiB).toFixed(0)} MiB)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * This process's memory now (MiB): resident, its anonymous and file-backed parts, the peak so far, and the
 * proportional set size. Sessions of one model map the same cache file: RSS counts a page once per
 * mapping, PSS (and the machine) once.
 */
function memory(): { rss: number; anon: number; fileBacked: number; peak: number; pss: number } {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  let pss = NaN;
  try { pss = Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))?.[1] ?? NaN) / 1024; } catch { /* not Linux */ }
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), fileBacked: kb('RssFile'), peak: process.resourceUsage().maxRSS / 1024, pss };
}

/**
 * Child process 4: what a Rerender run loads, through the model runtime as a render does: the UNet from
 * the checkpoint file (record variant for the anchor, then the inject variant of a later keyframe, which
 * replaces it), one CFG step each at a 64×64 latent, then the VAE (random full-size weights) encoding and
 * decoding 512×512. Memory after each phase.
 */
async function renderLoad(file: string, cacheDir: string): Promise<void> {
  const rows: Array<Record<string, unknown>> = [];
  const phase = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now(), cpu = process.cpuUsage();
    const r = await fn();
    const used = process.cpuUsage(cpu);
    rows.push({ label, seconds: (performance.now() - t) / 1000, cpuSeconds: (used.user + used.system) / 1e6, ...memory() });
    return r;
  };
  const weights = await loadComponentWeights(file, 'unet');
  const runtime = new ModelRuntime({ cacheDir, providers: ['cpu'] });
  const layers = crossFrameLayers(unetConfig(weights.config), weights);
  const loose = looseLayers(layers);
  const feeds = (): Record<string, ort.Tensor> => ({ sample: f32([2, 4, 64, 64]), timestep: timestep(), encoder_hidden_states: f32([2, 77, 768], 2) });
  const outputs = ['noise_pred', ...layers.map((l) => `recorded_tokens.${l.index}`)];
  const record = await phase('UNet record variant (anchor) loaded', () => runtime.load({ part: 'unet', variant: { record: true } }, weights));
  const recorded = await phase('  one step', () => record.run(feeds(), outputs));
  // The runtime holds one full-UNet variant per model: loading the inject variant releases the record one.
  const inject = await phase('UNet inject variant (later keyframe) replaces it', () => runtime.load({ part: 'unet', variant: { record: true, inject: loose } }, weights));
  await phase('  one step', () => {
    const f = feeds();
    for (const i of loose) {
      const own = recorded[`recorded_tokens.${i}`];
      const [batch, tokens, width] = own.dims as number[];
      const both = new Float32Array(2 * own.data.length);
      both.set(own.data as Float32Array, 0);
      both.set(own.data as Float32Array, own.data.length);
      f[`reference_tokens.${i}`] = new ort.Tensor('float32', both, [batch, 2 * tokens, width]);
    }
    return inject.run(f, outputs);
  });
  await weights.close();
  const vaeConfig = SD15_CONFIGS.vae;
  const vae = { ...syntheticWeights(vaeConfig, vaeParameterShapes(vaeConfig)), fingerprint: async () => 'bench-synthetic-sd15-vae' };
  const encoder = await phase('+ VAE encoder loaded', () => runtime.load({ part: 'vae_encoder' }, vae));
  const decoder = await phase('+ VAE decoder loaded', () => runtime.load({ part: 'vae_decoder' }, vae));
  for (let i = 1; i <= 2; i++) {
    await phase(`  encode 512×512 (call ${i})`, () => encoder.run({ image: f32([1, 3, 512, 512]) }, ['mean']));
    await phase(`  decode 64×64 → 512×512 (call ${i})`, () => decoder.run({ latent: f32([1, 4, 64, 64]) }, ['image']));
  }
  await runtime.releaseAll();
  const fromCache = record.fromCache && inject.fromCache && encoder.fromCache && decoder.fromCache;
  console.log(JSON.stringify({ phase: 'render-load', fromCache, rows, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

/** A full-size SD1.5 UNet checkpoint (diffusers names, random weights) in fp16, as users mostly hold. */
async function writeCheckpoint(file: string): Promise<number> {
  const config = SD15_CONFIGS.unet;
  const shapes = unetParameterShapes(config);
  const weights = syntheticWeights(config, shapes);
  const tensors: Record<string, TensorToWrite> = {};
  let values = 0;
  for (const [name, shape] of shapes) {
    tensors[name] = { dtype: 'F16', shape, data: float32ToHalf(weights.get(name).data) };
    values += shape.reduce((a, b) => a * b, 1);
  }
  await writeSafetensors(file, tensors);
  return values;
}

/** Bytes of the shared weight store's data files in a cache folder. */
function storeBytes(dir: string): number {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.data')).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

function folderBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}

async function renderLoads(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-bench-load-'));
  try {
    const file = path.join(dir, 'unet-fp16.safetensors');
    const unetValues = await writeCheckpoint(file);
    const vaeValues = [...vaeParameterShapes(SD15_CONFIGS.vae).values()].reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
    const inUse = 4 * (unetValues + vaeValues);
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    console.log(`\nA render's loads from a full-size fp16 UNet checkpoint (${gib(fs.statSync(file).size)} file; random weights) and the SD1.5 VAE, CPU (fp32):`);
    console.log(`  weights in use: UNet ${gib(4 * unetValues)} + VAE ${gib(4 * vaeValues)} = ${gib(inUse)} in fp32`);
    const cacheDir = path.join(dir, 'cache');
    let warm: Record<string, unknown> | undefined;
    for (const run of ['cold cache (graphs built and written)', 'warm cache (a later render)']) {
      const r = child(['--render-load', file, cacheDir]);
      if (!r) continue;
      warm = r;
      console.log(`  ${run}${r.fromCache ? ' (every graph from the cache)' : ''}:`);
      for (const row of r.rows as Array<Record<string, number | string>>) {
        console.log(`    ${String(row.label).padEnd(46)} ${Number(row.seconds).toFixed(1).padStart(6)} s wall ${Number(row.cpuSeconds).toFixed(1).padStart(6)} s CPU   RSS ${Number(row.rss).toFixed(0).padStart(6)} MiB (anon ${Number(row.anon).toFixed(0)}, file ${Number(row.fileBacked).toFixed(0)}), PSS ${Number(row.pss).toFixed(0).padStart(6)}, peak RSS ${Number(row.peak).toFixed(0)} MiB`);
      }
      const peak = Number(r.peakRssMiB) * 2 ** 20;
      const pss = Math.max(...(r.rows as Array<Record<string, number>>).map((row) => Number(row.pss))) * 2 ** 20;
      console.log(`    peak RSS ${gib(peak)} = ${(peak / inUse).toFixed(2)}× the weights in use (goal < 1.5×); largest PSS after a phase ${gib(pss)} = ${(pss / inUse).toFixed(2)}×; cache ${gib(folderBytes(cacheDir))} for 4 graphs (${gib(storeBytes(cacheDir))} of it weights, stored once)`);
      console.log(`    load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    }
    fs.rmSync(cacheDir, { recursive: true, force: true }); // the PyTorch run below needs the memory and page cache
    if (warm) pytorchSideBySide(warm.rows as Array<Record<string, number | string>>);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A Python 3 with torch: Debian's python3-torch lives under /usr/bin/python3 even where another python3 is first on PATH. */
function pythonWithTorch(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  return undefined;
}

/**
 * The UNet step and the VAE passes beside diffusers' own modules in PyTorch on this machine, same latent size,
 * batch and thread count (test/bench/pytorch/diffusers_timing.py). diffusers is read from RERENDER_DIFFUSERS_SRC
 * (the folder holding its `diffusers` package source; never part of this repository).
 */
function pytorchSideBySide(rows: Array<Record<string, number | string>>): void {
  console.log('\nSide by side with diffusers in PyTorch (random weights, SD1.5 configs; CPU seconds are the figure under load):');
  const py = pythonWithTorch();
  const source = process.env.RERENDER_DIFFUSERS_SRC;
  if (!py) { console.log('  skipped: no python3 with torch here (Debian: apt-get install python3-torch)'); return; }
  if (!source || !fs.existsSync(path.join(source, 'diffusers', '__init__.py'))) {
    console.log('  skipped: set RERENDER_DIFFUSERS_SRC to a folder holding diffusers\' source (its src/ folder; 0.21 suits torch 1.13)');
    return;
  }
  const threads = Number(process.env.RERENDER_BENCH_THREADS ?? os.availableParallelism());
  const r = spawnSync(py, [path.join(__dirname, 'pytorch', 'diffusers_timing.py'), source, String(threads), '512', '2', '2'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) { console.log(`  PyTorch run failed: ${r.stderr.split('\n').slice(-4).join(' ')}`); return; }
  const t = JSON.parse(line) as Record<string, unknown>;
  type Timed = { wall: number[]; cpu: number[] };
  const best = (x: Timed) => ({ wall: Math.min(...x.wall), cpu: Math.min(...x.cpu) });
  const ours = (label: string) => rows.find((row) => String(row.label).includes(label));
  const table: Array<[string, { wall: number; cpu: number }, Record<string, number | string> | undefined]> = [
    ['UNet step, latent 64×64, batch 2', best(t.unetStep as Timed), rows.find((row) => String(row.label).trim() === 'one step')],
    ['VAE encode 512×512', best(t.vaeEncode as Timed), ours('encode 512×512 (call 2)')],
    ['VAE decode 64×64 → 512×512', best(t.vaeDecode as Timed), ours('decode 64×64 → 512×512 (call 2)')],
  ];
  console.log(`  torch ${t.torch}, diffusers ${t.diffusers}, ${t.threads} threads both sides (${(t.stubbed as string[]).length ? `absent packages stood in for: ${(t.stubbed as string[]).join(', ')}` : 'no stand-ins'}); UNet ${(Number(t.unetParameters) / 1e6).toFixed(1)} M parameters, VAE ${(Number(t.vaeParameters) / 1e6).toFixed(1)} M`);
  console.log('  pass                                   PyTorch wall / CPU s     ours wall / CPU s    ours/PyTorch CPU');
  for (const [label, theirs, row] of table) {
    const mine = row ? `${Number(row.seconds).toFixed(1).padStart(6)} / ${Number(row.cpuSeconds).toFixed(1).padStart(5)}` : '     – /     –';
    const ratio = row ? `${(Number(row.cpuSeconds) / theirs.cpu).toFixed(2)}×` : '–';
    console.log(`  ${label.padEnd(38)} ${theirs.wall.toFixed(1).padStart(8)} / ${theirs.cpu.toFixed(1).padStart(5)}      ${mine}      ${ratio.padStart(6)}`);
  }
  console.log(`  PyTorch peak RSS ${(Number(t.peakRssMiB) / 1024).toFixed(2)} GiB; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

function child(args: string[]): Record<string, unknown> | undefined {
  const r = spawnSync(process.execPath, ['--import', 'tsx', __filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) { console.log(`  (${args[0]} failed: ${r.stderr.split('\n').slice(-4).join(' ')})`); return undefined; }
  return JSON.parse(line);
}

async function fullSize(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-bench-unet-'));
  try {
    for (const fused of [true, false]) {
      const file = path.join(dir, `unet-${fused ? 'fused' : 'plain'}.onnx`);
      console.log(`\nSD1.5 UNet (859.5 M parameters, random weights), fp32 ${fused ? 'fused attention (CPU default)' : 'plain attention'}, latent 64×64:`);
      const build = child(['--full-build', file, String(fused)]);
      if (!build) continue;
      console.log(`  graph build ${(Number(build.buildMs) / 1000).toFixed(1)} s, + write ${((Number(build.buildAndWriteMs) - Number(build.buildMs)) / 1000).toFixed(1)} s, ${(Number(build.bytes) / 2 ** 30).toFixed(2)} GiB on disk, build peak RSS ${Number(build.peakRssMiB).toFixed(0)} MiB`);
      for (const batch of [1, 2]) {
        const run = child(['--full-run', file, String(batch), '2']);
        if (!run) continue;
        const steps = (run.stepMs as number[]).map((x) => (x / 1000).toFixed(1)).join(', ');
        console.log(`  batch ${batch}${batch === 2 ? ' (one CFG step)' : ''}: session create ${(Number(run.sessionMs) / 1000).toFixed(1)} s, call times ${steps} s, peak RSS ${Number(run.peakRssMiB).toFixed(0)} MiB`);
      }
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.data`, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [mode, ...rest] = process.argv.slice(2);
  if (mode === '--full-build') return fullBuild(rest[0], rest[1] === 'true');
  if (mode === '--full-run') return fullRun(rest[0], Number(rest[1]), Number(rest[2]));
  if (mode === '--full-cache') return fullCache(rest[0]);
  if (mode === '--render-load') return renderLoad(rest[0], rest[1]);
  if (process.env.RERENDER_BENCH_SECTION === 'cache') return sharedCache();
  if (process.env.RERENDER_BENCH_SECTION === 'render-load') return renderLoads();
  await tinyModels();
  await cachedLoads();
  if (process.env.RERENDER_BENCH_FULL !== '0') { await fullSize(); await sharedCache(); await renderLoads(); }
}

main().catch((err) => { console.error(err); process.exit(1); });
