// ONNX ModelProto serialisation (field numbers from onnx.proto3) and writing a model to disk, with
// weights moved to an external data file when the model would pass protobuf's 2 GB limit.
import fs from 'node:fs';
import path from 'node:path';
import { ProtoMessage } from './protobuf';

export type DataType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

/** ONNX TensorProto.DataType numbers. */
const DATA_TYPE_CODE: Record<DataType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10 };

/** A constant tensor (initialiser or attribute value) with its little-endian bytes. */
export interface TensorData {
  name: string;
  dataType: DataType;
  dims: number[];
  /** The bytes; empty when they were already written out (`external`). */
  bytes: Uint8Array;
  /** Where a tensor streamed out while the graph was built lies (its bytes are not kept in memory). */
  external?: ExternalPlace;
}

/** A tensor's place in an external data file: a plain file name beside the model, byte offset and length. */
export interface ExternalPlace { location: string; offset: number; length: number }

/**
 * Takes a weight's bytes as the graph is built and says where they now lie, so a builder never holds a
 * model's weights in memory (runtime/weight-store.ts writes them to the shared store). Synchronous:
 * builders read weights synchronously.
 */
export interface TensorSink {
  place(t: TensorData): ExternalPlace;
}

export type AttributeValue =
  | { i: number } | { f: number } | { s: string }
  | { ints: number[] } | { floats: number[] } | { t: TensorData };

export interface NodeDef {
  opType: string;
  domain?: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

/** A graph input or output: element type and shape, where a string names a dynamic dimension. */
export interface ValueInfo {
  name: string;
  dataType: DataType;
  dims: Array<number | string>;
}

export interface ModelDef {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeDef[];
  initializers: TensorData[];
  /** Operator set versions by domain ('' = ai.onnx). */
  opsets: Record<string, number>;
  /** Free-form key/values stored in the model (what it was built from). */
  metadata?: Record<string, string>;
}

/** Stay well under protobuf's 2 GiB message limit; above this, weights go to an external file. */
const EXTERNAL_DATA_THRESHOLD = 1.8 * 1024 ** 3;
/** Only tensors at least this large move out; small ones stay inline. */
const EXTERNAL_MIN_TENSOR_BYTES = 1024;

function encodeTensor(t: TensorData, placed?: { location: string; offset: number }): ProtoMessage {
  const m = new ProtoMessage();
  m.packedVarints(1, t.dims);
  m.varint(2, DATA_TYPE_CODE[t.dataType]);
  m.string(8, t.name);
  const external = t.external ?? (placed && { ...placed, length: t.bytes.length });
  if (external) {
    for (const [key, value] of [['location', external.location], ['offset', String(external.offset)], ['length', String(external.length)]]) {
      m.message(13, new ProtoMessage().string(1, key).string(2, value));
    }
    m.varint(14, 1); // data_location = EXTERNAL
  } else {
    m.bytes(9, t.bytes); // raw_data
  }
  return m;
}

const ATTRIBUTE_TYPE = { f: 1, i: 2, s: 3, t: 4, floats: 6, ints: 7 } as const;

function encodeAttribute(name: string, a: AttributeValue): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  if ('f' in a) m.float(2, a.f).varint(20, ATTRIBUTE_TYPE.f);
  else if ('i' in a) m.varint(3, a.i).varint(20, ATTRIBUTE_TYPE.i);
  else if ('s' in a) m.string(4, a.s).varint(20, ATTRIBUTE_TYPE.s);
  else if ('t' in a) m.message(5, encodeTensor(a.t)).varint(20, ATTRIBUTE_TYPE.t);
  else if ('floats' in a) m.packedFloats(7, a.floats).varint(20, ATTRIBUTE_TYPE.floats);
  else m.packedVarints(8, a.ints).varint(20, ATTRIBUTE_TYPE.ints);
  return m;
}

function encodeNode(n: NodeDef): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  if (n.name) m.string(3, n.name);
  m.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) m.message(5, encodeAttribute(k, v));
  if (n.domain) m.string(7, n.domain);
  return m;
}

function encodeValueInfo(v: ValueInfo): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new ProtoMessage().varint(1, d) : new ProtoMessage().string(2, d));
  const tensorType = new ProtoMessage().varint(1, DATA_TYPE_CODE[v.dataType]).message(2, shape);
  const type = new ProtoMessage().message(1, tensorType);
  return new ProtoMessage().string(1, v.name).message(2, type);
}

/** Where each large initialiser goes when the model is written with external data: a file beside the model and an offset. */
export interface ExternalLayout {
  places: Map<TensorData, { location: string; offset: number }>;
}

/** Encodes the ModelProto; with `external`, the listed tensors are referenced instead of embedded. */
export function encodeModel(model: ModelDef, external?: ExternalLayout): ProtoMessage {
  const graph = new ProtoMessage();
  for (const n of model.nodes) graph.message(1, encodeNode(n));
  graph.string(2, model.name);
  for (const t of model.initializers) {
    graph.message(5, encodeTensor(t, external?.places.get(t)));
  }
  for (const v of model.inputs) graph.message(11, encodeValueInfo(v));
  for (const v of model.outputs) graph.message(12, encodeValueInfo(v));

  const m = new ProtoMessage();
  m.varint(1, 8); // ir_version 8 (ONNX 1.13+), enough for opset 17
  m.string(2, 'rerender');
  m.string(3, '1');
  m.message(7, graph);
  for (const [domain, version] of Object.entries(model.opsets)) {
    m.message(8, new ProtoMessage().string(1, domain).varint(2, version));
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    m.message(14, new ProtoMessage().string(1, key).string(2, value));
  }
  return m.flush();
}

/** Bytes of the initialisers still held in memory (those streamed out while building are written already). */
function initializerBytes(model: ModelDef): number {
  return model.initializers.reduce((s, t) => s + t.bytes.length, 0);
}

/** The initialisers worth moving to external data (small ones stay inline; streamed ones are out already). */
export function externalCandidates(model: ModelDef): TensorData[] {
  return model.initializers.filter((t) => !t.external && t.bytes.length >= EXTERNAL_MIN_TENSOR_BYTES);
}

/** Whether a tensor of this many bytes goes to external data rather than inline. */
export function isExternalSize(bytes: number): boolean {
  return bytes >= EXTERNAL_MIN_TENSOR_BYTES;
}

/**
 * Lays `tensors` out back to back, each 64-byte aligned (lets ORT map them): the offsets and the byte
 * chunks of the data file, padding included.
 */
export function packTensors(tensors: TensorData[]): { offsets: Map<TensorData, number>; chunks: Uint8Array[]; totalBytes: number } {
  const offsets = new Map<TensorData, number>();
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (const t of tensors) {
    const offset = Math.ceil(at / 64) * 64;
    if (offset > at) chunks.push(new Uint8Array(offset - at));
    offsets.set(t, offset);
    chunks.push(t.bytes);
    at = offset + t.bytes.length;
  }
  return { offsets, chunks, totalBytes: at };
}

export function needsExternalData(model: ModelDef): boolean {
  return initializerBytes(model) > EXTERNAL_DATA_THRESHOLD;
}

/** Writes chunks in order, calling `progress` with the bytes written so far; yields between writes. */
async function writeChunks(handle: fs.promises.FileHandle, chunks: Uint8Array[], progress?: (bytes: number) => void): Promise<void> {
  let total = 0;
  for (const c of chunks) {
    // Large tensors go in 64 MiB pieces, so progress moves and the event loop is not held for long.
    for (let at = 0; at < c.length; at += WRITE_PIECE) {
      const piece = c.subarray(at, Math.min(c.length, at + WRITE_PIECE));
      let done = 0;
      while (done < piece.length) done += (await handle.write(piece, done, piece.length - done)).bytesWritten;
      total += piece.length;
      progress?.(total);
    }
  }
}

const WRITE_PIECE = 64 * 1024 * 1024;

export interface WriteOptions {
  /** Use an external data file even for a small model (tests). */
  forceExternalData?: boolean;
  /**
   * Places the large initialisers in data files shared with other models (see runtime/weight-store.ts)
   * instead of a file of this model's own; returns where each went and the files it used.
   */
  sharedData?: (tensors: TensorData[], progress: (bytes: number) => void) => Promise<{ layout: ExternalLayout; files: string[] }>;
  /** Fraction of bytes written, 0..1. */
  progress?: (fraction: number) => void;
}

/**
 * Writes `file` (and `file + '.data'` when the weights pass ~1.8 GB, or when forced) through temporary
 * names, so a crash never leaves a half-written model that looks complete. Returns the files written.
 */
export async function writeModel(model: ModelDef, file: string, opts: WriteOptions = {}): Promise<string[]> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const written: string[] = [];
  let external: ExternalLayout | undefined;
  const total = initializerBytes(model) || 1;
  let doneBytes = 0;
  const report = (bytes: number) => opts.progress?.(Math.min(1, (doneBytes + bytes) / total));
  if (opts.sharedData) {
    const shared = await opts.sharedData(externalCandidates(model), report);
    external = shared.layout;
    doneBytes = externalCandidates(model).reduce((s, t) => s + t.bytes.length, 0);
    written.push(...shared.files);
  } else if (opts.forceExternalData || needsExternalData(model)) {
    const dataFile = file + '.data';
    const location = path.basename(dataFile);
    const packed = packTensors(externalCandidates(model));
    external = { places: new Map([...packed.offsets].map(([t, offset]) => [t, { location, offset }])) };
    await writeAtomically(dataFile, packed.chunks, report);
    doneBytes = packed.totalBytes;
    written.push(dataFile);
  }
  const encoded = encodeModel(model, external);
  await writeAtomically(file, encoded.chunks, report);
  written.unshift(file);
  return written;
}

/**
 * The temporary name `file` is written under by this process before it is renamed into place: the writer's
 * pid is in it, so a file left by a killed writer is told from one still being written (graph-cache.ts
 * removes the former).
 */
export function partialName(file: string): string {
  return `${file}.${process.pid}.partial`;
}

export async function writeAtomically(file: string, chunks: Uint8Array[], progress: (bytes: number) => void): Promise<void> {
  const tmp = partialName(file);
  const handle = await fs.promises.open(tmp, 'w');
  try { await writeChunks(handle, chunks, progress); } finally { await handle.close(); }
  await fs.promises.rename(tmp, file);
}
