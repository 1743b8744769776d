// Working resolution and frame math (docs/METHOD.md §1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workingSize, parseRational, timecode } from '../../main/engine/frames';

test('given 1080p, when the short side is 512, then sides are multiples of 64 close to the aspect', () => {
  assert.deepEqual(workingSize(1920, 1080, { mode: 'short-side', size: 512, crop: null }), { width: 896, height: 512 });
});

test('given portrait video, when the long side is 768, then the long side is 768', () => {
  assert.deepEqual(workingSize(1080, 1920, { mode: 'long-side', size: 768, crop: null }), { width: 448, height: 768 });
});

test('given a crop, then the size is computed from the cropped area', () => {
  assert.deepEqual(workingSize(1000, 1000, { mode: 'short-side', size: 512, crop: { left: 0, right: 500, top: 0, bottom: 0 } }), { width: 512, height: 1024 });
});

test('given odd and tiny sizes, then every side is at least 64 and a multiple of 64', () => {
  for (const [w, h] of [[97, 61], [1, 1000], [4096, 2160], [333, 333]]) {
    if (w < 16) { assert.throws(() => workingSize(w, h, { mode: 'short-side', size: 512, crop: { left: 0, right: 0, top: 0, bottom: 0 } })); continue; }
    const s = workingSize(w, h, { mode: 'short-side', size: 512, crop: null });
    assert.equal(s.width % 64, 0);
    assert.equal(s.height % 64, 0);
    assert.ok(s.width >= 64 && s.height >= 64);
  }
});

test('given a crop that leaves nothing, then the error says how much is left', () => {
  assert.throws(() => workingSize(100, 100, { mode: 'short-side', size: 512, crop: { left: 50, right: 45, top: 0, bottom: 0 } }), /leaves 5×100/);
});

test('frame rates parse from ffprobe strings', () => {
  assert.deepEqual(parseRational('30000/1001'), { num: 30000, den: 1001 });
  assert.deepEqual(parseRational('50/2'), { num: 25, den: 1 });
  assert.equal(parseRational('0/0'), undefined);
  assert.equal(timecode(48, { num: 24, den: 1 }), '0:02.00');
});
