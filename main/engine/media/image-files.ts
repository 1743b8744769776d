// Reading and writing frame images (PNG, JPEG, ... via sharp) as the engine's in-memory Image.
import sharp from 'sharp';
import { checkImageSize, MAX_IMAGE_SIDE, type Image } from '../../../native-models/src/image';
import { UserError } from '../../../native-models/src/errors';
import { writeFileAtomic } from '../fs/atomic';
import { requireRegularFile } from '../fs/regular-file';

/** Decodes an image file to 8-bit RGB (alpha dropped, grey expanded, 16-bit reduced). */
export async function readRgb(file: string): Promise<Image> {
  requireRegularFile(file, 'image file'); // a FIFO would block the decoder forever
  // The size comes from the header alone: an image beyond the limit is refused before it is decoded.
  const meta = await sharp(file).metadata().catch((err: Error) => { throw new UserError(`cannot read the image (${err.message}); is it a PNG or JPEG?`, file); });
  if (meta.width && meta.height) checkImageSize(meta.width, meta.height, file);
  try {
    const { data, info } = await sharp(file, { limitInputPixels: MAX_IMAGE_SIDE * MAX_IMAGE_SIDE }).removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch (err) {
    throw new UserError(`cannot read the image (${(err as Error).message}); is it a PNG or JPEG?`, file);
  }
}

/** Encodes an 8-bit image with 1 (grey), 2 (grey+alpha), 3 (RGB) or 4 (RGBA) channels as PNG bytes. */
export async function encodePng(image: Image): Promise<Buffer> {
  if (image.channels < 1 || image.channels > 4) throw new RangeError(`PNG holds 1 to 4 channels, got ${image.channels}`);
  if (image.data.length !== image.width * image.height * image.channels) {
    throw new RangeError(`image data has ${image.data.length} bytes, expected ${image.width}×${image.height}×${image.channels}`);
  }
  const channels = image.channels as 1 | 2 | 3 | 4;
  // Fast compression: frames are intermediate files rewritten often, size matters less than time.
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels } }).png({ compressionLevel: 2 }).toBuffer();
}

/** Writes a PNG atomically (temp file + rename): a crash never leaves a half-written frame. */
export async function writePng(file: string, image: Image): Promise<void> {
  await writeFileAtomic(file, await encodePng(image));
}
