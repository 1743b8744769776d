// Given flow fields and malformed files, Middlebury .flo reading/writing round-trips exactly and
// rejects bad input with a message naming the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeFlo, encodeFlo, readFlo, writeFlo, FloFormatError } from '../../native-models/src/flo';
import type { FlowField } from '../../native-models/src/image';

function field(width: number, height: number): FlowField {
  const data = new Float32Array(width * height * 2);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 100 - 3.25;
  return { width, height, channels: 2, data };
}

test('given a flow field, when written and read back, then every value and the size are identical', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flo-'));
  const file = path.join(dir, 'x.flo');
  const flow = field(13, 7);
  await writeFlo(file, flow);
  const back = await readFlo(file);
  assert.equal(back.width, 13);
  assert.equal(back.height, 7);
  assert.deepEqual(back.data, flow.data);
  assert.deepEqual(fs.readdirSync(dir), ['x.flo'], 'no temporary file left behind');
  fs.rmSync(dir, { recursive: true });
});

test('given a flow field, when encoded, then the bytes follow the Middlebury layout', () => {
  const bytes = encodeFlo({ width: 2, height: 1, channels: 2, data: new Float32Array([1, -2, 0.5, 4]) });
  assert.equal(bytes.toString('latin1', 0, 4), 'PIEH');
  assert.equal(bytes.readInt32LE(4), 2);
  assert.equal(bytes.readInt32LE(8), 1);
  assert.equal(bytes.length, 12 + 16);
  assert.equal(bytes.readFloatLE(12 + 4), -2);
});

test('given malformed files, when decoded, then each is rejected with the file name and the reason', () => {
  const good = encodeFlo(field(4, 3));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['empty', new Uint8Array(0), /header/],
    ['wrong tag', Buffer.concat([Buffer.from('PNG!'), good.subarray(4)]), /PIEH/],
    ['truncated', good.subarray(0, good.length - 5), /truncated/],
    ['trailing bytes', Buffer.concat([good, Buffer.alloc(3)]), /file has/],
    ['negative size', (() => { const b = Buffer.from(good); b.writeInt32LE(-4, 4); return b; })(), /bad size/],
  ];
  for (const [name, bytes, reason] of cases) {
    assert.throws(() => decodeFlo(bytes, `/tmp/${name}.flo`), (err: unknown) => {
      assert.ok(err instanceof FloFormatError, name);
      assert.match((err as Error).message, new RegExp(`/tmp/${name}\\.flo`));
      assert.match((err as Error).message, reason);
      return true;
    });
  }
});

test('given a field that is not two-channel, when encoded, then it is refused', () => {
  assert.throws(() => encodeFlo({ width: 2, height: 2, channels: 3, data: new Float32Array(12) } as unknown as FlowField), /two-channel/);
});
