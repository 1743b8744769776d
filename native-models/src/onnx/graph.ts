// A small graph-building DSL over ONNX: named values, nodes, initialisers and constants, with the
// graph's float precision (fp32 for CPU, fp16 for GPU providers) applied to weights and activations.
import { float32ToHalf } from '../weights/half';
import { isExternalSize, type DataType, type ModelDef, type NodeDef, type TensorData, type TensorSink, type ValueInfo, type AttributeValue } from './model';

export type Precision = 'fp32' | 'fp16';

export interface GraphOptions {
  precision: Precision;
  /** Use ORT's com.microsoft fused operators (MultiHeadAttention) where the provider has them. */
  fusedOps?: boolean;
  /**
   * Where weights go as they are made: each large weight is handed over and only its place kept, so a
   * build holds one weight at a time instead of the whole model (a full-size UNet is 3.2 GB in fp32).
   * Without a sink the weights stay in the model (tests, the fixtures check).
   */
  sink?: TensorSink;
}

/** A float tensor as weight sources give it (row-major, float32). */
export interface FloatTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Whether every value of `data` is exactly a half-precision number (±0, normal or subnormal half, no
 * infinity or NaN): then storing it as fp16 loses nothing. Read from the bits, one pass.
 */
export function exactInHalf(data: Float32Array): boolean {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = 0; i < bits.length; i++) {
    const exp = (bits[i] >>> 23) & 0xff, mantissa = bits[i] & 0x7fffff;
    if (exp === 0) { if (mantissa !== 0) return false; continue; } // ±0 (float32 subnormals are below half's range)
    const e = exp - 127;
    if (e > 15) return false; // beyond half's range, infinity or NaN
    if (e < -24) return false;
    // Normal half: 10 mantissa bits; subnormal half (e < −14): k·2^−24, fewer bits the smaller it is.
    const dropped = e >= -14 ? 13 : 13 + (-14 - e);
    if (mantissa & ((1 << dropped) - 1)) return false;
  }
  return true;
}

/** The opset this project targets: 17 has LayerNormalization and Split with a `split` input. */
export const OPSET = 17;

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorData[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  /** Element type of activations and weights inside the graph. */
  readonly floatType: DataType;
  private readonly names = new Set<string>();
  private readonly weightCache = new Map<string, string>();
  private readonly constantCache = new Map<string, string>();
  private counter = 0;
  private usesMicrosoftDomain = false;

  constructor(readonly name: string, readonly options: GraphOptions) {
    this.floatType = options.precision === 'fp16' ? 'float16' : 'float32';
  }

  get fp16(): boolean { return this.options.precision === 'fp16'; }

  /** A graph input. Float inputs are always float32 at the boundary; fp16 graphs cast inside. */
  input(name: string, dataType: DataType, dims: Array<number | string>): string {
    this.claim(name);
    this.inputs.push({ name, dataType, dims });
    return dataType === 'float32' ? this.toActivation(name) : name;
  }

  /** Exposes `value` as a graph output named `name` (float outputs are float32 at the boundary). */
  output(value: string, name: string, dims: Array<number | string>, dataType: DataType = 'float32'): void {
    this.claim(name);
    const src = dataType === 'float32' ? this.toFloat32(value) : value;
    this.nodes.push({ opType: 'Identity', inputs: [src], outputs: [name] });
    this.outputs.push({ name, dataType, dims });
  }

  /** Adds one node with a single output and returns that output's name. */
  op(opType: string, inputs: string[], attributes?: Record<string, AttributeValue>, domain?: string): string {
    return this.opN(opType, inputs, 1, attributes, domain)[0];
  }

  /** Adds one node with `count` outputs. */
  opN(opType: string, inputs: string[], count: number, attributes?: Record<string, AttributeValue>, domain?: string): string[] {
    const outputs = Array.from({ length: count }, () => this.fresh(opType));
    if (domain === 'com.microsoft') this.usesMicrosoftDomain = true;
    this.nodes.push({ opType, inputs, outputs, attributes, domain });
    return outputs;
  }

  /** A model weight as an initialiser in the graph's precision; `name` is its checkpoint name. */
  weight(name: string, t: FloatTensor, transform?: (t: FloatTensor) => FloatTensor): string {
    const key = transform ? `${name}#${transform.name || 'transformed'}` : name;
    const cached = this.weightCache.get(key);
    if (cached) return cached;
    const v = transform ? transform(t) : t;
    const id = this.uniqueName(key);
    const sink = this.options.sink;
    if (!this.fp16 && sink && isExternalSize(4 * v.data.length) && exactInHalf(v.data)) {
      // Every value is a half-precision number (an fp16 checkpoint): stored in half and cast to float32
      // when the session loads (ONNX Runtime folds the Cast of a constant once), so the store holds the
      // checkpoint's 2 bytes per value, not an fp32 copy, and shares the tensor with fp16 graphs.
      const half = this.floatTensor(this.uniqueName(`${key}.fp16`), v.shape, v.data, 'float16');
      this.initializers.push({ ...half, bytes: new Uint8Array(0), external: sink.place(half) });
      this.nodes.push({ opType: 'Cast', inputs: [half.name], outputs: [id], attributes: { to: { i: 1 } } });
      this.weightCache.set(key, id);
      return id;
    }
    const tensor = this.floatTensor(id, v.shape, v.data, this.floatType);
    if (sink && isExternalSize(tensor.bytes.length)) {
      this.initializers.push({ ...tensor, bytes: new Uint8Array(0), external: sink.place(tensor) });
    } else {
      this.initializers.push(tensor);
    }
    this.weightCache.set(key, id);
    return id;
  }

  /** int64 constant (shapes, axes, split sizes). */
  int64(values: number[], dims: number[] = [values.length]): string {
    return this.constant('int64', dims, values, () => {
      const a = new BigInt64Array(values.map((v) => BigInt(v)));
      return new Uint8Array(a.buffer);
    });
  }

  /** Float constant in the activation type (or float32 when asked). */
  floats(values: ArrayLike<number>, dims: number[], dataType: DataType = this.floatType): string {
    const list = Array.from(values);
    return this.constant(dataType, dims, list, () => this.floatTensor('', dims, Float32Array.from(list), dataType).bytes);
  }

  scalar(value: number, dataType: DataType = this.floatType): string {
    return this.floats([value], [], dataType);
  }

  /** Casts an activation to float32 (identity in fp32 graphs): statistics and softmax stay safe. */
  toFloat32(value: string): string {
    return this.fp16 ? this.op('Cast', [value], { to: { i: 1 } }) : value;
  }

  /** Casts a float32 value to the activation type (identity in fp32 graphs). */
  toActivation(value: string): string {
    return this.fp16 ? this.op('Cast', [value], { to: { i: 10 } }) : value;
  }

  toModel(metadata?: Record<string, string>): ModelDef {
    const opsets: Record<string, number> = { '': OPSET };
    if (this.usesMicrosoftDomain) opsets['com.microsoft'] = 1;
    return { name: this.name, inputs: this.inputs, outputs: this.outputs, nodes: this.nodes, initializers: this.initializers, opsets, metadata };
  }

  private floatTensor(name: string, dims: number[], data: Float32Array, dataType: DataType): TensorData {
    const bytes = dataType === 'float16' ? new Uint8Array(float32ToHalf(data).buffer)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { name, dataType, dims, bytes };
  }

  private constant(dataType: DataType, dims: number[], values: number[], bytes: () => Uint8Array): string {
    const key = `${dataType}|${dims.join(',')}|${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached) return cached;
    const name = this.fresh('const');
    this.initializers.push({ name, dataType, dims, bytes: bytes() });
    this.constantCache.set(key, name);
    return name;
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`; while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: the name ${name} is used twice`);
    this.names.add(name);
  }
}
