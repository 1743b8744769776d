// Model runtime figures on CPU: graph build, session creation and per-call latency of the sd-tiny models,
// and the full-size SD1.5 UNet (random weights) at a 64×64 latent: load time, time per step, peak RSS.
// The full-size part runs in child processes (build, then run from the written file, as a cache hit
// does) so each peak RSS is that phase's own; then the disk a cache of four variants of that UNet takes.
// RERENDER_BENCH_FULL=0 skips the full-size part; RERENDER_BENCH_SECTION=cache runs only the cache part.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { buildGraph, type GraphSpec } from '../../native-models/src/graphs';
import { syntheticWeights, unetParameterShapes } from '../../native-models/src/graphs/synthetic-weights';
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
    await compiledGraph(dir, { weights: 'bench-synthetic-sd15', graph: describeGraph(spec), precision: 'fp32', fusedOps: true }, () => buildGraph(spec, weights, { precision: 'fp32', fusedOps: true }));
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
  if (process.env.RERENDER_BENCH_SECTION === 'cache') return sharedCache();
  await tinyModels();
  await cachedLoads();
  if (process.env.RERENDER_BENCH_FULL !== '0') { await fullSize(); await sharedCache(); }
}

main().catch((err) => { console.error(err); process.exit(1); });
