// Whether a file is an ONNX model, without loading it: the top-level fields of its ModelProto are walked
// (tags, lengths, values skipped), so a renamed text file or a truncated download is refused in one line.
import fs from 'node:fs';

/** ModelProto field numbers (onnx.proto3): ir_version and graph must be there. */
const IR_VERSION = 1, GRAPH = 7;

/** Reads a protobuf varint at `at`; undefined when the bytes end first or it runs past 10 bytes. */
function readVarint(fd: number, at: number, size: number): { value: number; next: number } | undefined {
  const buf = Buffer.alloc(10);
  const n = fs.readSync(fd, buf, 0, Math.min(10, size - at), at);
  let value = 0, scale = 1;
  for (let i = 0; i < n; i++) {
    value += (buf[i] & 0x7f) * scale;
    scale *= 128;
    if (!(buf[i] & 0x80)) return { value, next: at + i + 1 };
  }
  return undefined;
}

/**
 * Why `file` is not an ONNX model (its ModelProto does not parse, or has no ir_version or graph), or undefined.
 * The one check that import and the render-time availability of ONNX models both run.
 */
export function onnxFileProblem(file: string): string | undefined {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const seen = new Set<number>();
    let at = 0;
    while (at < size) {
      const tag = readVarint(fd, at, size);
      const field = tag ? Math.floor(tag.value / 8) : 0;
      const wire = tag ? tag.value % 8 : -1;
      if (!tag || field === 0 || ![0, 1, 2, 5].includes(wire)) return 'not an ONNX model (its bytes do not parse as one)';
      let next = tag.next;
      if (wire === 0) next = readVarint(fd, next, size)?.next ?? Infinity;
      else if (wire === 1) next += 8;
      else if (wire === 5) next += 4;
      else { const length = readVarint(fd, next, size); next = length ? length.next + length.value : Infinity; }
      if (next > size) return at === 0 ? 'not an ONNX model (its bytes do not parse as one)' : 'not a complete ONNX model (it ends part-way through; a truncated copy?)';
      seen.add(field);
      at = next;
    }
    if (!seen.has(IR_VERSION) || !seen.has(GRAPH)) return `not an ONNX model (it has no ${seen.has(IR_VERSION) ? '' : 'IR version or '}graph)`;
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
