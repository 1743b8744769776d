// A minimal ONNX (protobuf) writer for tests: enough of ModelProto to build tiny graphs of a few
// ops whose outputs are known functions of their inputs.

/** Protobuf wire encoding of one message: fields appended in order. */
class Message {
  private parts: number[] = [];
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) { this.parts.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    this.parts.push(Number(x));
  }
  int(field: number, v: number): this { this.varint((field << 3) | 0); this.varint(v); return this; }
  bytes(field: number, data: Uint8Array): this { this.varint((field << 3) | 2); this.varint(data.length); this.parts.push(...data); return this; }
  string(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  message(field: number, m: Message): this { return this.bytes(field, m.encode()); }
  encode(): Uint8Array { return Uint8Array.from(this.parts); }
}

export type Dim = number | string;
const FLOAT = 1, INT64 = 7;

function valueInfo(name: string, shape: Dim[]): Message {
  const dims = new Message();
  for (const d of shape) dims.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, FLOAT).message(2, dims);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export interface OnnxNode { op: string; inputs: string[]; outputs: string[] }
export interface OnnxInitializer { name: string; dims: number[]; float?: number[]; int64?: number[] }

export function onnxModel(graph: { inputs: Array<[string, Dim[]]>; outputs: Array<[string, Dim[]]>; nodes: OnnxNode[]; initializers?: OnnxInitializer[] }): Uint8Array {
  const g = new Message();
  graph.nodes.forEach((n, i) => {
    const node = new Message();
    for (const x of n.inputs) node.string(1, x);
    for (const x of n.outputs) node.string(2, x);
    g.message(1, node.string(3, `n${i}`).string(4, n.op));
  });
  g.string(2, 'test-graph');
  for (const init of graph.initializers ?? []) {
    const t = new Message();
    for (const d of init.dims) t.int(1, d);
    if (init.float) {
      t.int(2, FLOAT).string(8, init.name);
      const raw = new Uint8Array(new Float32Array(init.float).buffer);
      t.bytes(9, raw);
    } else {
      t.int(2, INT64).string(8, init.name);
      const raw = new Uint8Array(new BigInt64Array((init.int64 ?? []).map(BigInt)).buffer);
      t.bytes(9, raw);
    }
    g.message(5, t);
  }
  for (const [name, shape] of graph.inputs) g.message(11, valueInfo(name, shape));
  for (const [name, shape] of graph.outputs) g.message(12, valueInfo(name, shape));
  return new Message()
    .int(1, 8)
    .string(2, 'rerender-tests')
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, 17))
    .encode();
}

/** The smallest real ONNX model (y = x): for tests where a model file must be one, but is never run. */
export function identityOnnxModel(): Uint8Array {
  return onnxModel({ inputs: [['x', [1]]], outputs: [['y', [1]]], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }] });
}
