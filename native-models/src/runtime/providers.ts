// Execution providers: which ones this ONNX Runtime build has, the order they are tried in, the graph
// flavour each one gets (precision, fused operators), and creating a session on exactly one of them.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from './onnxruntime';
import { GraphBuilder } from '../onnx/graph';
import { encodeModel } from '../onnx/model';

import { PROVIDER_ORDER, type ProviderName } from './provider-names';

export { PROVIDER_ORDER, type ProviderName } from './provider-names';

export interface GraphFlavour {
  precision: 'fp32' | 'fp16';
  /** com.microsoft MultiHeadAttention: CPU, CUDA, DirectML and WebGPU have kernels; CoreML does not. */
  fusedOps: boolean;
}

/** fp32 on CPU (no fast fp16 kernels there), fp16 on GPU providers. */
export function flavourFor(provider: ProviderName): GraphFlavour {
  switch (provider) {
    case 'cpu': return { precision: 'fp32', fusedOps: true };
    case 'coreml': return { precision: 'fp16', fusedOps: false };
    default: return { precision: 'fp16', fusedOps: true };
  }
}

/** Providers this build of onnxruntime-node knows (a listed provider may still fail to start). */
export function providersInThisBuild(): Set<ProviderName> {
  const names = new Set<ProviderName>(['cpu']);
  for (const b of ort.listSupportedBackends()) {
    if ((PROVIDER_ORDER as readonly string[]).includes(b.name)) names.add(b.name as ProviderName);
  }
  return names;
}

/** Why a provider was passed over, for the log and the UI. */
export interface ProviderAttempt {
  provider: ProviderName;
  error: string;
}

export interface SessionOnProvider {
  session: ort.InferenceSession;
  provider: ProviderName;
  skipped: ProviderAttempt[];
}

export interface SessionSettings {
  /** CPU threads for operators; ORT's default (all cores) when absent. */
  threads?: number;
  /**
   * ONNX Runtime's 'all' optimisation level (adds the CPU's NCHWc layout for convolutions) instead of
   * 'extended', on the CPU. For the VAE, convolutions at up to 512×512 throughout: measured at full size on
   * 2 cores, decode 31.4 → 26.6 CPU s, encode 13.8 → 12.2, the same output within float rounding, its
   * weights re-laid once per session (a few hundred MB).
   */
  convolutionLayout?: boolean;
}

/** Creates a session on one provider; throws what ORT said when that provider cannot run the model. */
export async function createSessionOn(model: string | Uint8Array, provider: ProviderName, settings: SessionSettings = {}): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [provider],
    // 'all' adds the CPU's NCHWc re-layout of every conv weight: measured on SD1.5's UNet (2 cores) it
    // made session creation 3x slower and loaded all weights eagerly, with no gain per step.
    graphOptimizationLevel: settings.convolutionLayout && provider === 'cpu' ? 'all' : 'extended',
    // Memory at full size (npm run bench -- models): without the arena, a run's activations go back when it
    // ends instead of staying reserved in every session's own arena (UNet, VAE encoder and decoder each
    // kept their largest run's, 2.4 GB more after one 512×512 encode and decode); without pre-packing,
    // MatMul weights stay in the memory-mapped cache file that every session of those weights shares
    // instead of a packed copy per session (1 GB per full-size UNet variant).
    enableCpuMemArena: false,
    extra: { session: { disable_prepacking: '1' } },
    ...(settings.threads ? { intraOpNumThreads: settings.threads } : {}),
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);
}

const probes = new Map<ProviderName, Promise<string | undefined>>();

/** A one-node model, enough to find out whether a provider starts at all on this machine. */
function probeModel(): Uint8Array {
  const g = new GraphBuilder('probe', { precision: 'fp32' });
  const x = g.input('x', 'float32', [1]);
  g.output(g.op('Add', [x, x]), 'y', [1]);
  return encodeModel(g.toModel()).toBytes();
}

/** The folder holding onnxruntime-node's native libraries. */
function ortBinaryFolder(): string | undefined {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** CUDA runs only when ORT's CUDA provider library was installed with it (it is a separate download). */
function cudaLibraryMissing(): string | undefined {
  const dir = ortBinaryFolder();
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (dir && !fs.existsSync(path.join(dir, lib))) return `CUDA libraries are not installed (no ${lib} beside ONNX Runtime)`;
  return undefined;
}

/** The reason a GPU provider's own message means, in the user's words. */
function plainReason(provider: ProviderName, message: string): string {
  if (provider === 'webgpu' && /adapter|Vulkan|dawn/i.test(message)) return 'no usable GPU adapter (no Vulkan, Metal or Direct3D 12 driver found)';
  return message.split('\n')[0].replace(/^.*\[ONNXRuntimeError\] : \d+ : \w+ : /, '');
}

/**
 * WebGPU's adapter search prints driver warnings straight to the process's stderr ("Found no drivers!",
 * "XDG_RUNTIME_DIR is invalid") that read like failures; it is tried in a child process first, whose
 * output is kept, and only tried here when it works there. Resolves to undefined or the reason it does not.
 */
function probeInChild(provider: ProviderName): Promise<string | undefined> {
  const script = `const ort=require(${JSON.stringify(require.resolve('onnxruntime-node'))});ort.env.logLevel='fatal';`
    + `ort.InferenceSession.create(Buffer.from(process.argv[1],'base64'),{executionProviders:[${JSON.stringify(provider)}]})`
    + `.then(()=>process.exit(0),(e)=>{process.stdout.write(String(e&&e.message||e));process.exit(3);});`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, Buffer.from(probeModel()).toString('base64')], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', ORT_DISABLE_TELEMETRY: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => resolve(`could not be tried (${e.message})`));
    child.on('close', (code) => resolve(code === 0 ? undefined : plainReason(provider, out || err || `the probe exited with code ${code}`)));
  });
}

/** Why `provider` cannot start here that is known without trying it: not in the build, or CUDA's library missing. */
function knownUnavailable(provider: ProviderName): string | undefined {
  if (!providersInThisBuild().has(provider)) return 'not included in this build of ONNX Runtime';
  return provider === 'cuda' ? cudaLibraryMissing() : undefined;
}

const apartProbes = new Map<ProviderName, Promise<string | undefined>>();

/**
 * As probeProvider, but tried in a child process only: nothing of the provider (a CUDA context, a GPU
 * adapter) stays loaded in this one. For the editor's main process, which lists the choices and never
 * runs a model. Found once per process.
 */
export function probeProviderApart(provider: ProviderName): Promise<string | undefined> {
  return once(apartProbes, provider, async () => knownUnavailable(provider) ?? (await probeInChild(provider)));
}

/** A probe's answer, found the first time it is asked for. */
function once(answers: Map<ProviderName, Promise<string | undefined>>, provider: ProviderName, find: () => Promise<string | undefined>): Promise<string | undefined> {
  let p = answers.get(provider);
  if (!p) answers.set(provider, (p = find()));
  return p;
}

/**
 * Whether `provider` can start here (undefined) or why not, found once per process with a tiny model,
 * so a missing CUDA library or GPU adapter costs milliseconds instead of a full graph build.
 */
export function probeProvider(provider: ProviderName): Promise<string | undefined> {
  return once(probes, provider, async () => {
    const known = knownUnavailable(provider);
    if (known) return known;
    if (provider === 'webgpu') {
      const reason = await probeInChild(provider);
      if (reason) return reason;
    }
    try {
      const session = await createSessionOn(probeModel(), provider);
      await session.release();
      return undefined;
    } catch (err) {
      return plainReason(provider, (err as Error).message);
    }
  });
}

/**
 * Tries `providers` in order; for each, `modelFor(provider)` gives the model built for that provider's
 * flavour. Returns the first session that starts, with the reasons the earlier ones did not.
 */
export async function createSessionInOrder(
  providers: readonly ProviderName[],
  modelFor: (provider: ProviderName) => Promise<string | Uint8Array>,
  settings: SessionSettings = {},
): Promise<SessionOnProvider> {
  const skipped: ProviderAttempt[] = [];
  for (const provider of providers) {
    const unavailable = await probeProvider(provider);
    if (unavailable) {
      skipped.push({ provider, error: unavailable });
      continue;
    }
    // A model that cannot be built is the user's problem, not the provider's: let that error through.
    const model = await modelFor(provider);
    try {
      const session = await createSessionOn(model, provider, settings);
      return { session, provider, skipped };
    } catch (err) {
      skipped.push({ provider, error: (err as Error).message.split('\n')[0] });
    }
  }
  const detail = skipped.map((s) => `${s.provider}: ${s.error}`).join('; ');
  throw new Error(`no execution provider could run the model (${detail})`);
}
