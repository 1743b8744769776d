// Given images in memory, PNG writing and RGB reading round-trip exactly, expand grey and drop
// alpha, and a missing or broken file is reported with its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import type { Image } from '../../native-models/src/image';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'image-files-'));

function pattern(width: number, height: number, channels: number): Image {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 255;
  return { width, height, channels, data };
}

test('given an RGB image, when written as PNG and read back, then every byte is the same and no temp file remains', async () => {
  const img = pattern(13, 7, 3);
  const file = path.join(dir, 'rgb.png');
  await writePng(file, img);
  const back = await readRgb(file);
  assert.deepEqual([back.width, back.height, back.channels], [13, 7, 3]);
  assert.deepEqual(Buffer.from(back.data), Buffer.from(img.data));
  assert.ok(fs.readdirSync(dir).every((n) => !n.startsWith('.')));
});

test('given grey and RGBA images, when read as RGB, then grey is copied to the three channels and alpha is dropped', async () => {
  const grey = pattern(5, 4, 1), rgba = pattern(5, 4, 4);
  await writePng(path.join(dir, 'grey.png'), grey);
  await writePng(path.join(dir, 'rgba.png'), rgba);
  const g = await readRgb(path.join(dir, 'grey.png'));
  const c = await readRgb(path.join(dir, 'rgba.png'));
  for (let p = 0; p < 20; p++) {
    assert.deepEqual([...g.data.subarray(p * 3, p * 3 + 3)], [grey.data[p], grey.data[p], grey.data[p]]);
    assert.deepEqual([...c.data.subarray(p * 3, p * 3 + 3)], [...rgba.data.subarray(p * 4, p * 4 + 3)]);
  }
});

test('given a missing or corrupt file, when read, then the error names the file', async () => {
  await assert.rejects(readRgb(path.join(dir, 'none.png')), /none\.png: the image file does not exist/);
  fs.writeFileSync(path.join(dir, 'bad.png'), 'not an image');
  await assert.rejects(readRgb(path.join(dir, 'bad.png')), /bad\.png: cannot read the image/);
});
