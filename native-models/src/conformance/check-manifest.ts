// Runs every case of a conformance manifest through our graphs (ONNX Runtime on CPU), tokenizer,
// scheduler and LoRA merge, from each layout the case lists, and reports max abs difference per
// output against its tolerance. Used by `rerender fixtures-check` and the conformance tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from '../runtime/onnxruntime';
import { buildGraph, describeGraph, type GraphSpec } from '../graphs';
import type { Precision } from '../onnx/graph';
import { encodeModel, needsExternalData, writeModel } from '../onnx/model';
import { createSessionOn } from '../runtime/providers';
import { loadComponentWeights, type Component, type WeightSource } from '../weights/model-weights';
import { CaseTensors, componentConfig, layoutEntry, maxAbsDiff, readManifest, type Manifest, type ManifestCase, type ManifestTensor } from './manifest';
import { runCaseKind } from './case-kinds';
import type { CaseContext } from './case-context';

export type { CaseContext } from './case-context';

export interface CheckOptions {
  precision?: Precision;
  /** Build graphs with ORT's fused operators (com.microsoft) instead of plain ONNX ones. */
  fusedOps?: boolean;
  /** Only these case names (default: all). */
  cases?: readonly string[];
  /** Only these layouts (default: every layout each case lists). */
  layouts?: readonly string[];
  /** Called as each case finishes, for live output. */
  onCase?: (result: CaseResult) => void;
}

export interface OutputCheck {
  output: string;
  maxAbsDiff: number;
  tolerance: number;
  pass: boolean;
  error?: string;
}

export interface CaseResult {
  case: string;
  kind: string;
  layout: string;
  pass: boolean;
  outputs: OutputCheck[];
  error?: string;
  seconds: number;
}

interface Lora { file: string; multiplier: number }

function caseLora(manifest: Manifest, spec: ManifestCase): Lora | undefined {
  const lora = spec.params?.lora as { file?: string; multiplier?: number } | undefined;
  if (!lora?.file) return undefined;
  return { file: path.join(manifest.dir, lora.file), multiplier: lora.multiplier ?? 1 };
}

function toleranceOf(t: ManifestTensor, precision: Precision, usesGraphs: boolean): number {
  if (precision === 'fp16' && usesGraphs && t.fp16_tolerance !== undefined) return t.fp16_tolerance;
  return t.tolerance ?? 0;
}

/** Sessions kept between cases; older ones are released, as full-size models would not all fit. */
const MAX_OPEN_SESSIONS = 4;

/** Shared state of one manifest run: open weights and sessions, reused by every case. */
class CheckRun {
  private readonly weightSources = new Map<string, Promise<WeightSource>>();
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private tmpDir: string | undefined;

  constructor(private readonly manifest: Manifest, private readonly options: CheckOptions) {}

  weights(layout: string, component: Component, lora?: Lora): Promise<WeightSource> {
    const key = `${layout}|${component}|${lora ? `${lora.file}@${lora.multiplier}` : ''}`;
    let p = this.weightSources.get(key);
    if (!p) {
      const entry = layoutEntry(this.manifest, layout, component);
      if (!entry?.weights) throw new Error(`layout "${layout}" names no weights for ${component}`);
      p = loadComponentWeights(path.join(this.manifest.dir, entry.weights), component, {
        config: componentConfig(this.manifest, layout, component),
        loras: lora ? [lora] : [],
      });
      this.weightSources.set(key, p);
    }
    return p;
  }

  session(layout: string, component: Component, graph: GraphSpec, lora?: Lora): Promise<ort.InferenceSession> {
    const key = `${layout}|${describeGraph(graph)}|${lora ? `${lora.file}@${lora.multiplier}` : ''}`;
    let p = this.sessions.get(key);
    if (p) {
      this.sessions.delete(key); // re-inserted below as the most recently used
    } else {
      p = this.weights(layout, component, lora).then(async (w) => {
        const model = buildGraph(graph, w, { precision: this.options.precision ?? 'fp32', fusedOps: this.options.fusedOps });
        if (!needsExternalData(model)) return createSessionOn(encodeModel(model).toBytes(), 'cpu');
        // Full-size models pass protobuf's 2 GB limit: go through a file with external data.
        this.tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-fixtures-'));
        const file = path.join(this.tmpDir, `${key.replace(/[^a-z0-9]+/gi, '_')}.onnx`);
        await writeModel(model, file);
        return createSessionOn(file, 'cpu');
      });
    }
    this.sessions.set(key, p);
    for (const [oldKey, old] of this.sessions) {
      if (this.sessions.size <= MAX_OPEN_SESSIONS) break;
      this.sessions.delete(oldKey);
      void old.then((session) => session.release(), () => undefined);
    }
    return p;
  }

  async runCase(spec: ManifestCase, layout: string): Promise<CaseResult> {
    const started = Date.now();
    const precision = this.options.precision ?? 'fp32';
    const outputs: OutputCheck[] = [];
    const lora = caseLora(this.manifest, spec);
    const usesGraphs = !['tokenizer', 'scheduler_ddim', 'lora_merge'].includes(spec.kind);
    let tensors: CaseTensors | undefined;
    let error: string | undefined;
    try {
      if (spec.file.endsWith('.safetensors')) tensors = await CaseTensors.open(path.join(this.manifest.dir, spec.file));
      const ctx: CaseContext = {
        manifest: this.manifest, spec, layout, precision, tensors,
        weights: (component) => this.weights(layout, component, lora),
        session: (component, graph) => this.session(layout, component, graph, lora),
        compare: async (name, actual) => {
          const out = spec.outputs[name];
          const tensorName = out?.tensor ?? name;
          if (!out || !tensors?.has(tensorName)) throw new Error(`case ${spec.name} has no expected output "${name}"`);
          const expected = out.dtype === 'int64' ? await tensors.int64(tensorName) : tensors.float32(tensorName);
          ctx.report(name, maxAbsDiff(expected, actual));
        },
        report: (output, diff) => {
          const out = spec.outputs[output.replace(/\[.*\]$/, '')];
          const tolerance = out ? toleranceOf(out, precision, usesGraphs) : 0;
          outputs.push({ output, maxAbsDiff: diff, tolerance, pass: diff <= tolerance });
        },
        input: async (name) => {
          const t = spec.inputs[name];
          const tensorName = t?.tensor ?? name;
          if (!tensors?.has(tensorName)) throw new Error(`case file ${spec.file} has no input tensor "${tensorName}"`);
          const shape = tensors.shape(tensorName);
          return t?.dtype === 'int64' ? new ort.Tensor('int64', await tensors.int64(tensorName), shape) : new ort.Tensor('float32', tensors.float32(tensorName), shape);
        },
      };
      await runCaseKind(ctx);
      for (const [name, out] of Object.entries(spec.outputs)) {
        if (!out.debug && !outputs.some((o) => o.output === name || o.output.startsWith(`${name}[`))) {
          outputs.push({ output: name, maxAbsDiff: Infinity, tolerance: toleranceOf(out, precision, usesGraphs), pass: false, error: 'not produced' });
        }
      }
    } catch (err) {
      error = (err as Error).message;
    } finally {
      await tensors?.close();
    }
    const pass = !error && outputs.length > 0 && outputs.every((o) => o.pass);
    return { case: spec.name, kind: spec.kind, layout, pass, outputs, error, seconds: (Date.now() - started) / 1000 };
  }

  async close(): Promise<void> {
    for (const p of this.sessions.values()) await (await p.catch(() => undefined))?.release();
    for (const p of this.weightSources.values()) await (await p.catch(() => undefined))?.close();
    if (this.tmpDir) fs.rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

/** Runs the manifest's cases (each from every layout it lists) and returns one result per case and layout. */
export async function checkManifest(manifestFile: string, options: CheckOptions = {}): Promise<CaseResult[]> {
  const manifest = await readManifest(manifestFile);
  const run = new CheckRun(manifest, options);
  const results: CaseResult[] = [];
  try {
    for (const spec of manifest.cases) {
      if (options.cases && !options.cases.includes(spec.name)) continue;
      for (const layout of spec.layouts) {
        if (options.layouts && layout !== 'none' && !options.layouts.includes(layout)) continue;
        const result = await run.runCase(spec, layout);
        results.push(result);
        options.onCase?.(result);
      }
    }
  } finally {
    await run.close();
  }
  return results;
}
