// Reads and writes `.safetensors` files: the header is parsed and validated up front, tensors are read
// lazily by name with positioned reads, so multi-GB checkpoints never sit whole in the JS heap.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import { bfloat16ToFloat32, halfToFloat32 } from './half';

export type DType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** absolute byte offset in the file */
  offset: number;
  byteLength: number;
}

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/** Headers above this are not real checkpoints (SD1.5's is ~100 kB); refuse before allocating. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const NOT_SAFETENSORS = 'is not a valid .safetensors file';

/** What a PyTorch pickle checkpoint (.ckpt, .pt, .bin) is told, at import and at render alike. */
export const PICKLE_PROBLEM = 'this is a PyTorch pickle checkpoint (.ckpt/.pt/.bin), not .safetensors: pickles can run code when loaded and are not supported; use the .safetensors version of this model';

/** PyTorch's zip container (torch.save since 1.6) or a bare pickle stream (protocol 2–5). */
function looksLikePickle(start: Buffer): boolean {
  return (start[0] === 0x50 && start[1] === 0x4b && start[2] === 0x03 && start[3] === 0x04) || (start[0] === 0x80 && start[1] >= 2 && start[1] <= 5);
}

function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

/** Number of elements of a shape, or undefined when it is not a list of non-negative safe integers. */
export function elementCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return undefined;
    n *= d;
    if (!Number.isSafeInteger(n)) return undefined;
  }
  return n;
}

/**
 * Validates a parsed header against the size of the data section; returns the tensors and metadata or
 * throws a UserError naming the file. Pure, so the property test can feed it anything.
 */
export function parseHeader(file: string, headerText: string, dataStart: number, fileSize: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const fail = (what: string): never => { throw new UserError(`${NOT_SAFETENSORS}: ${what}`, file); };
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (err) {
    fail(`its header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('its header is not a JSON object');
  const dataSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof entry !== 'object' || entry === null) fail(`tensor "${name}" has no description`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDType(dtype)) fail(`tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`);
    const count = elementCount(shape);
    if (count === undefined) fail(`tensor "${name}" has an invalid or too large shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail(`tensor "${name}" ends before it begins (data_offsets ${begin}..${end})`);
    if (end > dataSize) fail(`tensor "${name}" lies outside the file (bytes ${begin}..${end} of a ${dataSize}-byte data section; the file may be truncated)`);
    const expected = count! * DTYPE_SIZE[dtype as DType];
    if (end - begin !== expected) fail(`tensor "${name}" has ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${expected}`);
    tensors.set(name, { name, dtype: dtype as DType, shape: (shape as number[]).slice(), offset: dataStart + begin, byteLength: end - begin });
  }
  const sorted = [...tensors.values()].filter((t) => t.byteLength > 0).sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    if (sorted[i].offset < prev.offset + prev.byteLength) fail(`tensors "${prev.name}" and "${sorted[i].name}" overlap`);
  }
  return { tensors, metadata };
}

export class SafetensorsFile {
  private constructor(
    readonly file: string,
    private handle: fs.promises.FileHandle | undefined,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  /** Opens the file and reads + validates only the header. */
  static async open(file: string): Promise<SafetensorsFile> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(file, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? 'file not found' : `cannot open (${(err as Error).message})`, file);
    }
    try {
      const { size } = await handle.stat();
      if (size < 8) throw new UserError(`${NOT_SAFETENSORS}: it is only ${size} bytes long`, file);
      const lengthBytes = Buffer.alloc(8);
      await readFully(handle, lengthBytes, 0, file);
      const headerLength = lengthBytes.readBigUInt64LE(0);
      if (looksLikePickle(lengthBytes) && headerLength > BigInt(size - 8)) throw new UserError(PICKLE_PROBLEM, file);
      if (headerLength > BigInt(size - 8)) {
        // Most often another kind of file (text, an image) whose first 8 bytes read as a huge length: the
        // figures go to the details (the log), not into the line the user reads.
        throw new UserError('is not a .safetensors file (its header is not valid)', file, `its header claims ${headerLength} bytes but the file has only ${size - 8} after the length (truncated or not a safetensors file)`);
      }
      if (headerLength > BigInt(MAX_HEADER_BYTES)) throw new UserError(`${NOT_SAFETENSORS}: its header is ${headerLength} bytes, more than any real checkpoint`, file);
      const n = Number(headerLength);
      const headerBytes = Buffer.alloc(n);
      await readFully(handle, headerBytes, 8, file);
      const { tensors, metadata } = parseHeader(file, headerBytes.toString('utf8'), 8 + n, size);
      return new SafetensorsFile(file, handle, tensors, metadata);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  /** Description of one tensor; a UserError naming the file when it is missing. */
  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new UserError(`has no tensor "${name}"`, this.file);
    return t;
  }

  /** The tensor's bytes exactly as stored (little-endian). */
  async readRaw(name: string): Promise<Buffer> {
    const t = this.info(name);
    if (!this.handle) throw new Error(`${this.file} is closed`);
    const buf = Buffer.allocUnsafeSlow(t.byteLength); // own ArrayBuffer at offset 0: typed views stay aligned
    await readFully(this.handle, buf, t.offset, this.file);
    return buf;
  }

  /** Same as readRaw, blocking: for weight lookups that graph builders make synchronously. */
  readRawSync(name: string): Buffer {
    const t = this.info(name);
    if (!this.handle) throw new Error(`${this.file} is closed`);
    const buf = Buffer.allocUnsafeSlow(t.byteLength);
    for (let done = 0; done < buf.length;) {
      const n = fs.readSync(this.handle.fd, buf, done, buf.length - done, t.offset + done);
      if (n === 0) throw new UserError(`${NOT_SAFETENSORS}: it ends early (truncated inside tensor "${name}")`, this.file);
      done += n;
    }
    return buf;
  }

  /** A floating-point tensor as float32 (F16, BF16 and F64 are converted). */
  async readFloat32(name: string): Promise<Float32Array> {
    return this.toFloat32(name, await this.readRaw(name));
  }

  /** Same as readFloat32, blocking. */
  readFloat32Sync(name: string): Float32Array {
    return this.toFloat32(name, this.readRawSync(name));
  }

  private toFloat32(name: string, raw: Buffer): Float32Array {
    const t = this.info(name);
    const n = t.byteLength / DTYPE_SIZE[t.dtype];
    switch (t.dtype) {
      case 'F32': return new Float32Array(raw.buffer, raw.byteOffset, n);
      case 'F16': return halfToFloat32(new Uint16Array(raw.buffer, raw.byteOffset, n));
      case 'BF16': return bfloat16ToFloat32(new Uint16Array(raw.buffer, raw.byteOffset, n));
      case 'F64': return Float32Array.from(new Float64Array(raw.buffer, raw.byteOffset, n));
      default: throw new UserError(`tensor "${name}" is ${t.dtype}, expected a floating-point tensor`, this.file);
    }
  }

  /** An integer tensor (I64, or I32 widened) as int64. */
  async readBigInt64(name: string): Promise<BigInt64Array> {
    const t = this.info(name);
    if (t.dtype !== 'I64' && t.dtype !== 'I32') throw new UserError(`tensor "${name}" is ${t.dtype}, expected I64`, this.file);
    const raw = await this.readRaw(name);
    if (t.dtype === 'I64') return new BigInt64Array(raw.buffer, raw.byteOffset, t.byteLength / 8);
    const i32 = new Int32Array(raw.buffer, raw.byteOffset, t.byteLength / 4);
    const out = new BigInt64Array(i32.length);
    for (let i = 0; i < i32.length; i++) out[i] = BigInt(i32[i]);
    return out;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }
}

async function readFully(handle: fs.promises.FileHandle, buf: Buffer, position: number, file: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new UserError(`${NOT_SAFETENSORS}: it ends early (truncated while reading bytes ${position}..${position + buf.length})`, file);
    done += bytesRead;
  }
}

async function writeFully(handle: fs.promises.FileHandle, buf: Buffer): Promise<void> {
  for (let done = 0; done < buf.length;) done += (await handle.write(buf, done, buf.length - done)).bytesWritten;
}

export interface TensorToWrite { dtype: DType; shape: number[]; data: ArrayBufferView }

/** Writes a .safetensors file atomically (temp file + rename); tensors in the given order, header padded to 8 bytes. */
export async function writeSafetensors(file: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Buffer[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const count = elementCount(t.shape);
    if (count === undefined) throw new UserError(`cannot write tensor "${name}": invalid shape ${JSON.stringify(t.shape)}`, file);
    const bytes = count * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== bytes) throw new UserError(`cannot write tensor "${name}": ${t.dtype} ${JSON.stringify(t.shape)} needs ${bytes} bytes, got ${t.data.byteLength}`, file);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    chunks.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const lengthBytes = Buffer.alloc(8);
  lengthBytes.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.promises.open(temp, 'w');
  try {
    for (const c of [lengthBytes, Buffer.from(json), ...chunks]) await writeFully(handle, c);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.promises.rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  await fs.promises.rename(temp, file);
}
