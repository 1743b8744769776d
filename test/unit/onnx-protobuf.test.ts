// The minimal protobuf writer behind ONNX serialisation: exact wire bytes for the field kinds ONNX uses,
// and large payloads kept by reference instead of copied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoMessage } from '../../native-models/src/onnx/protobuf';

const hex = (m: ProtoMessage) => Buffer.from(m.toBytes()).toString('hex');

test('varints: small, multi-byte, above 2^31, and negative (ten-byte two\'s complement)', () => {
  assert.equal(hex(new ProtoMessage().varint(1, 150)), '089601');
  assert.equal(hex(new ProtoMessage().varint(2, 2 ** 32 + 1)), '108180808010');
  assert.equal(hex(new ProtoMessage().varint(3, -1)), '18ffffffffffffffffff01');
});

test('strings, floats, packed varints and nested messages', () => {
  assert.equal(hex(new ProtoMessage().string(2, 'ab')), '12026162');
  assert.equal(hex(new ProtoMessage().float(2, 1)), '150000803f');
  assert.equal(hex(new ProtoMessage().packedVarints(1, [3, 270])), '0a03038e02');
  const inner = new ProtoMessage().varint(1, 7);
  assert.equal(hex(new ProtoMessage().message(5, inner)), '2a020807');
});

test('a large byte field is referenced as its own chunk, and the length counts every byte', () => {
  const payload = new Uint8Array(100_000).fill(9);
  const m = new ProtoMessage().string(1, 'w').bytes(9, payload).flush();
  assert.ok(m.chunks.includes(payload), 'the payload is not copied');
  assert.equal(m.length, m.chunks.reduce((n, c) => n + c.length, 0));
  assert.equal(m.toBytes().length, 3 + 1 + 3 + 100_000);
});
