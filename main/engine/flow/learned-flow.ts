// Optional learned optical flow: an ONNX model the user chose (e.g. an exported RAFT/GMFlow),
// run with ONNX Runtime in the inference worker, usable wherever the native estimator is.
//
// Model contract: two float32 inputs [1, 3, H, W] (frame a, frame b; RGB, values 0..255 times
// `inputScale`), one float32 output [1, 2, H, W]: the flow a→b in pixels (dx, then dy).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from '../../../native-models/src/runtime/onnxruntime';
import type { FlowPair } from '../../../native-models/src/flow';
import type { FlowField, Image } from '../../../native-models/src/image';
import { createSessionInOrder, type ProviderName } from '../../../native-models/src/runtime/providers';
import { UserError } from '../../../native-models/src/errors';
import type { TypedHandler } from '../jobs/worker-runtime';
import type { JOBS } from '../jobs/job-registry';
import { FlowCache, type FlowEstimator } from './flow-cache';

export interface LearnedFlowOptions {
  /** Multiplies the 0..255 pixel values fed to the model (e.g. 1/255 for models trained on 0..1). */
  inputScale?: number;
  /** Execution providers to try in order (default CPU only). */
  providers?: readonly ProviderName[];
  threads?: number;
}

type Dim = number | string;

function describeShape(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

/** True when a declared dimension accepts `size` (symbolic dimensions accept anything). */
function accepts(dim: Dim | undefined, size: number): boolean {
  return typeof dim !== 'number' || dim === size || dim < 0;
}

export class LearnedFlowModel implements FlowEstimator {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly file: string,
    readonly id: string,
    private readonly inputs: readonly [string, string],
    private readonly output: string,
    private readonly inputShape: readonly Dim[],
    private readonly inputScale: number,
  ) {}

  /** Loads and checks a flow model; every problem is reported with the file and what was expected. */
  static async load(file: string, options: LearnedFlowOptions = {}): Promise<LearnedFlowModel> {
    if (!fs.existsSync(file)) throw new UserError('the flow model file does not exist', file);
    const bytes = await fs.promises.readFile(file);
    let session: ort.InferenceSession;
    try {
      ({ session } = await createSessionInOrder(options.providers ?? ['cpu'], async () => new Uint8Array(bytes), { threads: options.threads }));
    } catch (err) {
      throw new UserError(`cannot load the ONNX flow model (${(err as Error).message.split('\n')[0]})`, file);
    }
    const contract = 'a flow model takes two float32 inputs [1, 3, H, W] and gives one float32 output [1, 2, H, W]';
    const ins = session.inputMetadata, outs = session.outputMetadata;
    if (ins.length !== 2 || outs.length !== 1) {
      throw new UserError(`the model has ${ins.length} inputs and ${outs.length} outputs; ${contract}`, file);
    }
    for (const [role, meta, channels] of [['input', ins[0], 3], ['input', ins[1], 3], ['output', outs[0], 2]] as const) {
      if (!meta.isTensor) throw new UserError(`${role} "${meta.name}" is not a tensor; ${contract}`, file);
      if (meta.type !== 'float32') throw new UserError(`${role} "${meta.name}" is ${meta.type}; ${contract}`, file);
      const shape = meta.shape;
      // An empty shape means "not declared": the output is then checked after each run.
      if (shape.length && (shape.length !== 4 || !accepts(shape[0], 1) || !accepts(shape[1], channels))) {
        throw new UserError(`${role} "${meta.name}" has shape ${describeShape(shape)}; ${contract}`, file);
      }
    }
    const scale = options.inputScale ?? 1;
    if (!(scale > 0)) throw new UserError(`inputScale must be positive, got ${scale}`);
    const hash = crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const meta0 = ins[0] as ort.InferenceSession.TensorValueMetadata;
    return new LearnedFlowModel(session, file, `onnx/${hash}/x${scale}`, [ins[0].name, ins[1].name], outs[0].name, meta0.shape, scale);
  }

  /** The flow a→b on a's grid. */
  async computeForward(a: Image, b: Image): Promise<FlowField> {
    const { width, height } = a;
    if (b.width !== width || b.height !== height) throw new RangeError(`frames differ in size (${width}×${height} vs ${b.width}×${b.height})`);
    if (this.inputShape.length === 4 && (!accepts(this.inputShape[2], height) || !accepts(this.inputShape[3], width))) {
      throw new UserError(`the model takes frames of ${this.inputShape[3]}×${this.inputShape[2]} only, these are ${width}×${height}; choose a model with free H and W or resize the project`, this.file);
    }
    const feeds = { [this.inputs[0]]: this.toTensor(a), [this.inputs[1]]: this.toTensor(b) };
    const result = await this.session.run(feeds);
    const out = result[this.output];
    const dims = out.dims;
    if (out.type !== 'float32' || dims.length !== 4 || dims[0] !== 1 || dims[1] !== 2 || dims[2] !== height || dims[3] !== width) {
      throw new UserError(`the model returned ${out.type} ${describeShape(dims as number[])}, expected float32 [1, 2, ${height}, ${width}]`, this.file);
    }
    // Planar (dx plane, dy plane) to the interleaved layout of .flo files and the native engine.
    const planar = out.data as Float32Array;
    const n = width * height;
    const data = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) { data[2 * i] = planar[i]; data[2 * i + 1] = planar[n + i]; }
    return { width, height, channels: 2, data };
  }

  /** Forward a→b and backward b→a (two runs). */
  async computePair(a: Image, b: Image): Promise<FlowPair> {
    const forward = await this.computeForward(a, b);
    const backward = await this.computeForward(b, a);
    return { forward, backward };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private toTensor(image: Image): ort.Tensor {
    if (image.channels !== 3) throw new RangeError(`a flow model takes RGB frames, got ${image.channels} channels`);
    const n = image.width * image.height;
    const planar = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planar[c * n + i] = image.data[i * 3 + c] * this.inputScale;
    return new ort.Tensor('float32', planar, [1, 3, image.height, image.width]);
  }
}

/** Loaded models by file and input scale: sessions live as long as the worker. */
const loadedModels = new Map<string, Promise<LearnedFlowModel>>();

/**
 * Job for the inference worker (`computeLearnedFlows`: parameters in jobs/job-registry.ts): fills a
 * project's flow cache with the user's flow model, one consecutive pair at a time, with progress
 * and cancellation between pairs. Answers { pairs, estimator }.
 */
export const learnedFlowJob: TypedHandler<typeof JOBS.computeLearnedFlows> = async (p, { progress, cancel }) => {
  const key = `${path.resolve(p.modelFile)}|${p.inputScale ?? 1}`;
  let model = loadedModels.get(key);
  if (!model) {
    model = LearnedFlowModel.load(p.modelFile, { inputScale: p.inputScale });
    loadedModels.set(key, model);
    model.catch(() => loadedModels.delete(key));
  }
  const estimator = await model;
  const cache = await FlowCache.open({ dir: p.flowDir, framesDir: p.framesDir, sourceKey: p.sourceKey, estimator });
  await cache.ensureRange(p.first, p.last, progress, cancel);
  return { pairs: Math.max(0, p.last - p.first), estimator: estimator.id };
};
