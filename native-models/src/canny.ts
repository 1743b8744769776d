// Typed wrapper over the native Canny edge detector that makes ControlNet's canny conditioning image.
import { loadAddon } from './addon';
import type { Image } from './image';

export interface CannyOptions {
  /** Lower hysteresis threshold on the Sobel gradient magnitude (default 100). */
  low?: number;
  /** Upper threshold: pixels above it start an edge (default 200). */
  high?: number;
  /** Gaussian pre-blur deviation in pixels; 0 disables it (default 1). */
  blurSigma?: number;
  /** Euclidean gradient magnitude instead of |gx| + |gy| (default false, the usual threshold units). */
  l2?: boolean;
  threads?: number;
}

interface CannyAddon {
  cannyEdges(pixels: Uint8Array, width: number, height: number, channels: number, options: CannyOptions): Promise<Uint8Array>;
}

/** One-channel edge map (255 = edge) of an 8-bit image, computed off the JS thread. */
export async function cannyEdges(image: Image, options: CannyOptions = {}): Promise<Image> {
  if (image.data.length !== image.width * image.height * image.channels) {
    throw new RangeError(`cannyEdges: the buffer does not hold ${image.width}×${image.height}×${image.channels} bytes`);
  }
  const data = await loadAddon<CannyAddon>().cannyEdges(image.data, image.width, image.height, image.channels, options);
  return { width: image.width, height: image.height, channels: 1, data };
}
