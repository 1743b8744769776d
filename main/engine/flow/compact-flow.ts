// The flow cache's own file format: flows quantised to a fixed step (1/32 px where the motion fits in
// ±1023 px, coarser by powers of two beyond), predicted from the left neighbour, and deflated. About
// 25× smaller than a .flo of the same field. Quantising is exact and deterministic (a power-of-two
// scale, round half away from zero), and the cache hands out the quantised field both when it has just
// computed a flow and when it reads one back, so a resumed run sees exactly the flows an uninterrupted one did.
//
// Layout, little-endian: magic "RRQ1" (uint32), width, height (uint32), shift (uint32: the step is
// 2^shift / 32 px), byte length of the deflated payload (uint32), then the raw-deflate payload. The
// payload is two byte planes (low bytes, then high bytes) of zigzag-coded residuals, channel by channel
// (all dx, then all dy), each residual the difference from the pixel to the left (the pixel above for
// the first of a row).
import zlib from 'node:zlib';
import type { FlowField } from '../../../native-models/src/image';

const MAGIC = 0x31515252; // "RRQ1"
const HEADER_BYTES = 20;
/** Steps per pixel at shift 0. */
const BASE_SCALE = 32;
/** Guards against absurd headers before allocating: 2^28 pixels is far beyond 8K video. */
const MAX_PIXELS = 1 << 28;

/** Thrown for bytes that are not a compact flow file; the message names the file and what is wrong. */
export class CompactFlowError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: not a valid cached flow (${problem})`);
    this.name = 'CompactFlowError';
  }
}

/** The smallest shift whose step keeps every component within int16; non-finite values count as 0. */
function shiftFor(data: Float32Array): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (a > max && Number.isFinite(a)) max = a;
  }
  let shift = 0;
  while (Math.round((max * BASE_SCALE) / 2 ** shift) > 32767) shift++;
  return shift;
}

/** The field as the cache stores it: every component rounded to the step. Idempotent. */
export function quantiseFlow(flow: FlowField): FlowField {
  return decodeCompactFlow(encodeCompactFlow(flow));
}

export function encodeCompactFlow(flow: FlowField): Buffer {
  const { width, height } = flow;
  if (flow.channels !== 2 || flow.data.length !== width * height * 2) {
    throw new RangeError(`a flow holds two channels; got ${flow.channels} channels, ${flow.data.length} values for ${width}×${height}`);
  }
  const shift = shiftFor(flow.data);
  const scale = BASE_SCALE / 2 ** shift;
  const n = width * height;
  const planes = Buffer.alloc(n * 4); // per channel n residuals: low plane [0, 2n), high plane [2n, 4n)
  const q = new Int32Array(n);
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const v = flow.data[i * 2 + c];
      q[i] = Number.isFinite(v) ? Math.sign(v) * Math.round(Math.abs(v) * scale) : 0;
    }
    for (let i = 0; i < n; i++) {
      const x = i % width;
      const predicted = x > 0 ? q[i - 1] : i >= width ? q[i - width] : 0;
      const r = q[i] - predicted;
      const z = ((r << 1) ^ (r >> 31)) & 0xffff; // residuals of int16 values fit 17 bits; wraps below
      planes[c * n + i] = z & 0xff;
      planes[2 * n + c * n + i] = z >>> 8;
    }
  }
  const payload = zlib.deflateRawSync(planes, { level: 1 });
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(width, 4);
  out.writeUInt32LE(height, 8);
  out.writeUInt32LE(shift, 12);
  out.writeUInt32LE(payload.length, 16);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** Parses compact flow bytes; `file` only names the source in error messages. */
export function decodeCompactFlow(bytes: Uint8Array, file = '<buffer>'): FlowField {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEADER_BYTES) throw new CompactFlowError(file, `only ${buf.length} bytes, the header alone is ${HEADER_BYTES}`);
  if (buf.readUInt32LE(0) !== MAGIC) throw new CompactFlowError(file, 'wrong magic number');
  const width = buf.readUInt32LE(4), height = buf.readUInt32LE(8), shift = buf.readUInt32LE(12), length = buf.readUInt32LE(16);
  if (width < 1 || height < 1 || width * height > MAX_PIXELS) throw new CompactFlowError(file, `bad size ${width}×${height}`);
  if (shift > 20) throw new CompactFlowError(file, `bad step shift ${shift}`);
  if (buf.length !== HEADER_BYTES + length) throw new CompactFlowError(file, `payload should be ${length} bytes, the file has ${buf.length - HEADER_BYTES}${buf.length - HEADER_BYTES < length ? ' (truncated?)' : ''}`);
  const n = width * height;
  let planes: Buffer;
  try {
    planes = zlib.inflateRawSync(buf.subarray(HEADER_BYTES), { maxOutputLength: n * 4 });
  } catch (err) {
    throw new CompactFlowError(file, `damaged payload (${(err as Error).message})`);
  }
  if (planes.length !== n * 4) throw new CompactFlowError(file, `payload holds ${planes.length} bytes, ${width}×${height} needs ${n * 4}`);
  const step = 2 ** shift / BASE_SCALE;
  const data = new Float32Array(n * 2);
  const q = new Int32Array(n);
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < n; i++) {
      const z = planes[c * n + i] | (planes[2 * n + c * n + i] << 8);
      const r = (z >>> 1) ^ -(z & 1);
      const x = i % width;
      const predicted = x > 0 ? q[i - 1] : i >= width ? q[i - width] : 0;
      q[i] = ((predicted + r) << 16) >> 16; // back into int16, undoing the encoder's wrap
      data[i * 2 + c] = q[i] * step;
    }
  }
  return { width, height, channels: 2, data };
}

/** The names the flow cache uses. */
export const encodeFlow = encodeCompactFlow;
export const decodeFlow = decodeCompactFlow;
export const roundFlow = quantiseFlow;
