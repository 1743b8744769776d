// Middlebury .flo files: "PIEH" tag (float 202021.25), width and height (int32), then width×height
// pairs of float32 (dx, dy), all little-endian, rows top to bottom.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FlowField } from './image';

const TAG = 202021.25;
const HEADER_BYTES = 12;
/** Guards against absurd headers before allocating: 2^28 pixels is far beyond 8K video. */
const MAX_PIXELS = 1 << 28;

/** Thrown for a file that is not a valid .flo; the message names the file and what is wrong. */
export class FloFormatError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`${file}: not a valid Middlebury .flo file (${problem})`);
    this.name = 'FloFormatError';
  }
}

function checkField(flow: FlowField): void {
  if (flow.channels !== 2 || flow.data.length !== flow.width * flow.height * 2) {
    throw new RangeError(`a .flo file holds a two-channel field; got ${flow.channels} channels, ${flow.data.length} values for ${flow.width}×${flow.height}`);
  }
}

/** The tag and size, followed in the file by the field's floats. */
function writeHeader(buf: Buffer, width: number, height: number): void {
  buf.writeFloatLE(TAG, 0);
  buf.writeInt32LE(width, 4);
  buf.writeInt32LE(height, 8);
}

export function encodeFlo(flow: FlowField): Buffer {
  checkField(flow);
  const buf = Buffer.allocUnsafe(HEADER_BYTES + flow.data.length * 4);
  writeHeader(buf, flow.width, flow.height);
  if (os.endianness() === 'LE') {
    // The file is little-endian floats, as the field is in memory here: one copy instead of a call per value.
    Buffer.from(flow.data.buffer, flow.data.byteOffset, flow.data.byteLength).copy(buf, HEADER_BYTES);
  } else {
    for (let i = 0; i < flow.data.length; i++) buf.writeFloatLE(flow.data[i], HEADER_BYTES + i * 4);
  }
  return buf;
}

/** Parses .flo bytes; `file` only names the source in error messages. */
export function decodeFlo(bytes: Uint8Array, file = '<buffer>'): FlowField {
  if (bytes.length < HEADER_BYTES) throw new FloFormatError(file, `only ${bytes.length} bytes, the header alone is ${HEADER_BYTES}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = view.getFloat32(0, true);
  if (tag !== TAG) throw new FloFormatError(file, 'missing the PIEH tag at the start');
  const width = view.getInt32(4, true), height = view.getInt32(8, true);
  if (width < 1 || height < 1 || width * height > MAX_PIXELS) throw new FloFormatError(file, `bad size ${width}×${height}`);
  const expected = HEADER_BYTES + width * height * 8;
  if (bytes.length !== expected) {
    throw new FloFormatError(file, `${width}×${height} needs ${expected} bytes, the file has ${bytes.length}${bytes.length < expected ? ' (truncated?)' : ''}`);
  }
  const data = new Float32Array(width * height * 2);
  if (os.endianness() === 'LE') new Uint8Array(data.buffer).set(bytes.subarray(HEADER_BYTES, expected));
  else for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(HEADER_BYTES + i * 4, true);
  return { width, height, channels: 2, data };
}

export async function readFlo(file: string): Promise<FlowField> {
  return decodeFlo(await fs.promises.readFile(file), file);
}

/** Writes atomically (temp file in the same folder, then rename), so readers never see half a file. */
export async function writeFlo(file: string, flow: FlowField): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    if (os.endianness() === 'LE') {
      // The header and the field's own bytes in one gathered write: no 8-byte-per-pixel copy.
      checkField(flow);
      const header = Buffer.alloc(HEADER_BYTES);
      writeHeader(header, flow.width, flow.height);
      const body = Buffer.from(flow.data.buffer, flow.data.byteOffset, flow.data.byteLength);
      const fh = await fs.promises.open(tmp, 'w');
      try {
        let written = 0;
        const total = header.length + body.length;
        // writev may write less than asked (rare for files): continue from where it stopped.
        while (written < total) {
          const parts = written < header.length ? [header.subarray(written), body] : [body.subarray(written - header.length)];
          const { bytesWritten } = await fh.writev(parts);
          if (bytesWritten <= 0) throw new Error(`${tmp}: the write made no progress`);
          written += bytesWritten;
        }
      } finally {
        await fh.close();
      }
    } else {
      await fs.promises.writeFile(tmp, encodeFlo(flow));
    }
    await fs.promises.rename(tmp, file);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
