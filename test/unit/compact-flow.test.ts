// The flow cache's compact format: a field comes back rounded to its step, rounding is idempotent,
// large motion keeps its range with a coarser step, and damaged bytes are refused with the file's name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCompactFlow, encodeCompactFlow, quantiseFlow } from '../../main/engine/flow/compact-flow';
import type { FlowField } from '../../native-models/src/image';

function field(width: number, height: number, f: (x: number, y: number, c: number) => number): FlowField {
  const data = new Float32Array(width * height * 2);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 2; c++) data[(y * width + x) * 2 + c] = f(x, y, c);
  return { width, height, channels: 2, data };
}

test('given a smooth flow, when encoded and decoded, then every component is within 1/64 px, rounding is idempotent, and the file is far smaller than a .flo', () => {
  const flow = field(97, 61, (x, y, c) => (c ? -1 : 1) * (3.3 + Math.sin(x / 9) * 2.7 + y / 17) + (x === 5 && y === 5 ? Number.NaN : 0));
  const bytes = encodeCompactFlow(flow);
  const back = decodeCompactFlow(bytes);
  assert.equal(back.width, 97);
  assert.equal(back.height, 61);
  for (let i = 0; i < flow.data.length; i++) {
    const want = Number.isFinite(flow.data[i]) ? flow.data[i] : 0;
    assert.ok(Math.abs(back.data[i] - want) <= 1 / 64 + 1e-6, `component ${i}: ${back.data[i]} vs ${want}`);
  }
  assert.deepEqual(quantiseFlow(back).data, back.data);
  assert.deepEqual(encodeCompactFlow(back), bytes, 'encoding the rounded field gives the same bytes');
  assert.ok(bytes.length < (12 + flow.data.length * 4) / 4, `${bytes.length} bytes`);
});

test('given motion beyond ±1023 px, when encoded, then the step grows so the range fits', () => {
  const flow = field(8, 4, (x, y, c) => (c ? -5000 : 4000) + x * 0.5 - y);
  const back = decodeCompactFlow(encodeCompactFlow(flow));
  for (let i = 0; i < flow.data.length; i++) assert.ok(Math.abs(back.data[i] - flow.data[i]) <= 0.25, `${back.data[i]} vs ${flow.data[i]}`);
});

test('given damaged bytes, when decoded, then the error names the file and the problem', () => {
  const bytes = encodeCompactFlow(field(16, 16, (x, y) => x - y));
  assert.throws(() => decodeCompactFlow(bytes.subarray(0, bytes.length - 3), 'a.qflo'), /a\.qflo: not a valid cached flow \(payload .*truncated/);
  assert.throws(() => decodeCompactFlow(Buffer.from('garbage'), 'b.qflo'), /b\.qflo: .*header/);
  const wrongMagic = Buffer.from(bytes); wrongMagic[0] ^= 1;
  assert.throws(() => decodeCompactFlow(wrongMagic, 'c.qflo'), /c\.qflo: .*magic/);
  const badPayload = Buffer.from(bytes); badPayload.fill(0xff, 20);
  assert.throws(() => decodeCompactFlow(badPayload, 'd.qflo'), /d\.qflo: .*(damaged|payload)/);
});
