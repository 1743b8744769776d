// An imported keyframe image of another shape than the working frames is centre-cropped, and says how:
// which sides lose how many of the image's pixels, and what is kept; an EXIF-turned photo is measured upright.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { describeCrop, readImageForKeyframe } from '../../main/engine/project/keyframe-images';
import { tempDir } from '../helpers/media';

test('given images wider, taller and of the frames\' shape, then the crop is described by the sides cut and the part kept, and none is for the same shape', () => {
  assert.equal(describeCrop(1920, 1080, 896, 512), 'centre-cropped: the image (1920×1080) is wider than the working frames (896×512), so it was scaled to their height and 15 px were cut from its left and right (1890×1080 of it kept)');
  assert.match(describeCrop(512, 512, 896, 512)!, /is taller than the working frames \(896×512\), so it was scaled to their width and 109.5 px were cut from its top and bottom \(512×293 of it kept\)$/);
  assert.equal(describeCrop(1792, 1024, 896, 512), undefined, 'twice the size, same shape');
  assert.equal(describeCrop(1793, 1024, 896, 512), undefined, 'half a working pixel would go');
});

test('given a photo turned by its EXIF orientation, when read for a keyframe, then its upright size is the one described', async () => {
  const file = path.join(tempDir('rerender-crop-'), 'portrait.jpg');
  // Stored 300×100 (landscape), shown turned a quarter (orientation 6): 100×300 upright.
  await sharp({ create: { width: 300, height: 100, channels: 3, background: { r: 90, g: 90, b: 90 } } }).jpeg().withMetadata({ orientation: 6 }).toFile(file);
  const { png, cropped } = await readImageForKeyframe(file, 128, 64);
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.width, meta.height], [128, 64]);
  assert.match(cropped ?? '', /^centre-cropped: the image \(100×300\) is taller than the working frames \(128×64\)/);
});
