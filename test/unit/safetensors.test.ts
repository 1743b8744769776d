// Specification of the .safetensors reader/writer: round trips per dtype, and a clear UserError naming
// the file for every kind of malformed file (including arbitrary generated headers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { SafetensorsFile, writeSafetensors, parseHeader } from '../../native-models/src/weights/safetensors';
import { float32ToBFloat16, float32ToHalf, halfToFloat32 } from '../../native-models/src/weights/half';
import { UserError } from '../../native-models/src/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-test-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tmp = (name = 'x') => path.join(dir, `${counter++}-${name}.safetensors`);

/** A file made of the given header text and data bytes, length prefix as the format says. */
function rawFile(header: string, data: Buffer = Buffer.alloc(0), claimedLength?: bigint): string {
  const file = tmp();
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(claimedLength ?? BigInt(Buffer.byteLength(header)));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(header), data]));
  return file;
}

async function rejectsNaming(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(SafetensorsFile.open(file), (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.ok(err.message.includes(file), `message should name the file: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('given float and integer tensors, when written and read back, then values, shapes and metadata are kept', async () => {
  const values = new Float32Array([0, 1, -2.5, 3.140625, 65504, -1e-3]);
  const ids = new BigInt64Array([49406n, -1n, 9007199254740993n]);
  const file = tmp('roundtrip');
  await writeSafetensors(file, {
    f32: { dtype: 'F32', shape: [2, 3], data: values },
    f16: { dtype: 'F16', shape: [6], data: float32ToHalf(values) },
    bf16: { dtype: 'BF16', shape: [3, 2], data: float32ToBFloat16(values) },
    f64: { dtype: 'F64', shape: [6], data: Float64Array.from(values) },
    ids: { dtype: 'I64', shape: [3], data: ids },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([2]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  }, { format: 'pt' });
  const st = await SafetensorsFile.open(file);
  try {
    assert.deepEqual(st.metadata, { format: 'pt' });
    assert.deepEqual(st.tensors.get('f32')?.shape, [2, 3]);
    assert.deepEqual([...await st.readFloat32('f32')], [...values]);
    assert.deepEqual([...await st.readFloat32('f64')], [...values]);
    // Every value above is exactly representable in half; bfloat16 keeps 8 mantissa bits.
    assert.deepEqual([...await st.readFloat32('f16')], [...halfToFloat32(float32ToHalf(values))]);
    assert.deepEqual([...await st.readFloat32('f16')].slice(0, 5), [0, 1, -2.5, 3.140625, 65504]);
    const bf = await st.readFloat32('bf16');
    values.forEach((v, i) => assert.ok(Math.abs(bf[i] - v) <= Math.abs(v) / 128, `bf16 ${bf[i]} vs ${v}`));
    assert.deepEqual([...await st.readBigInt64('ids')], [...ids]);
    assert.deepEqual([...await st.readFloat32('scalar')], [2]);
    assert.equal((await st.readFloat32('empty')).length, 0);
    await assert.rejects(st.readFloat32('ids'), /I64, expected a floating-point/);
    await assert.rejects(st.readBigInt64('f32'), /expected I64/);
    await assert.rejects(st.readFloat32('missing'), /has no tensor "missing"/);
  } finally {
    await st.close();
  }
});

test('given the header of a written file, then it is padded to 8 bytes with spaces', async () => {
  const file = tmp('pad');
  await writeSafetensors(file, { a: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) } });
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  assert.match(bytes.subarray(8, 8 + n).toString(), /^\{.*\} *$/);
});

test('given float32 values, when converted to half and back, then rounding is to nearest even with overflow to infinity', () => {
  const h = float32ToHalf(new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, -70000, 2 ** -25, 2 ** -24, NaN, 5.960464477539063e-8 * 3]));
  const back = [...halfToFloat32(h)];
  assert.deepEqual(back.slice(0, 6), [1, 1 + 2 ** -9, Infinity, -Infinity, 0, 2 ** -24]);
  assert.ok(Number.isNaN(back[6]));
  assert.equal(back[7], 3 * 2 ** -24);
});

test('given a file shorter than 8 bytes, then open fails naming the file', async () => {
  const file = tmp();
  fs.writeFileSync(file, Buffer.from([1, 2, 3]));
  await rejectsNaming(file, /only 3 bytes/);
});

test('given a missing file, then open fails naming the file', async () => {
  await rejectsNaming(path.join(dir, 'nope.safetensors'), /not found/);
});

test('given a header length larger than the file, then open fails saying it is not a .safetensors file, the figures only in the details', async () => {
  for (const [claim, file] of [[1000n, rawFile('{}', Buffer.alloc(0), 1000n)], [2n ** 63n, rawFile('{}', Buffer.alloc(0), 2n ** 63n)]] as const) {
    await rejectsNaming(file, /is not a \.safetensors file \(its header is not valid\)$/);
    await assert.rejects(SafetensorsFile.open(file), (err: UserError) => {
      assert.doesNotMatch(err.message, /claims|\d{4,}/, 'no huge figure in the line the user reads');
      assert.match(err.detail ?? '', new RegExp(`header claims ${claim} bytes`));
      return true;
    });
  }
});

test('given a header that is not JSON or not an object, then open fails saying so', async () => {
  await rejectsNaming(rawFile('{"a": '), /not valid JSON/);
  await rejectsNaming(rawFile('[1,2]   '), /not a JSON object/);
  await rejectsNaming(rawFile('{"__metadata__": {"a": 1}}'), /__metadata__\.a is not a string/);
});

test('given tensor data cut off by truncation, then open fails naming the tensor', async () => {
  const header = JSON.stringify({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } });
  await rejectsNaming(rawFile(header, Buffer.alloc(10)), /"w" lies outside the file.*truncated/);
});

test('given out-of-range, reversed or overlapping offsets, then open fails naming the tensors', async () => {
  const data = Buffer.alloc(32);
  await rejectsNaming(rawFile(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [40, 48] } }), data), /"w" lies outside/);
  await rejectsNaming(rawFile(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }), data), /ends before it begins/);
  await rejectsNaming(rawFile(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }), data), /invalid data_offsets/);
  await rejectsNaming(rawFile(JSON.stringify({
    a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] },
  }), data), /"a" and "b" overlap/);
});

test('given a dtype or shape that disagrees with the byte length, then open fails with both sizes', async () => {
  const data = Buffer.alloc(32);
  await rejectsNaming(rawFile(JSON.stringify({ w: { dtype: 'F16', shape: [4], data_offsets: [0, 16] } }), data), /has 16 bytes but F16 \[4\] needs 8/);
  await rejectsNaming(rawFile(JSON.stringify({ w: { dtype: 'F8', shape: [4], data_offsets: [0, 4] } }), data), /unknown dtype "F8"/);
  await rejectsNaming(rawFile(JSON.stringify({ w: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] } }), data), /invalid or too large shape/);
});

test('given a huge shape, then open fails instead of allocating', async () => {
  const header = JSON.stringify({ w: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 16] } });
  await rejectsNaming(rawFile(header, Buffer.alloc(16)), /too large shape/);
});

test('given any header text, the parser either accepts it or throws a UserError naming the file', () => {
  const tensorEntry = fc.record({
    dtype: fc.oneof(fc.constantFrom('F32', 'F16', 'BF16', 'I64', 'U8', 'BOOL'), fc.string()),
    shape: fc.array(fc.oneof(fc.nat(8), fc.integer(), fc.double()), { maxLength: 4 }),
    data_offsets: fc.oneof(fc.tuple(fc.nat(80), fc.nat(80)), fc.array(fc.integer(), { maxLength: 3 }), fc.anything()),
  });
  const header = fc.oneof(
    fc.string(),
    fc.json(),
    fc.dictionary(fc.string(), fc.oneof(tensorEntry, fc.anything())).map((o) => JSON.stringify(o)),
  );
  fc.assert(fc.property(header, fc.nat(100), (text, size) => {
    try {
      const { tensors } = parseHeader('generated.safetensors', text, 8, 8 + size);
      for (const t of tensors.values()) assert.ok(t.offset + t.byteLength <= 8 + size);
    } catch (err) {
      if (!(err instanceof UserError) || !err.message.includes('generated.safetensors')) throw err;
    }
  }), { numRuns: 2000 });
});
