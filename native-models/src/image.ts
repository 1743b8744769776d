// The in-memory image shared by media, flow, synthesis and diffusion code: interleaved, row-major.
import { UserError } from './errors';

/**
 * The largest image side anything accepts: video frames (probe), image files (readRgb, keyframe
 * imports) and the native engine's bindings (addon/src/common/limits.h holds the same number).
 * 8K DCI is 8192 wide; larger images are refused before they are decoded or allocated.
 */
export const MAX_IMAGE_SIDE = 8192;

/** Refuses an image of `width`×`height` beyond MAX_IMAGE_SIDE, naming `file` and the limit. */
export function checkImageSize(width: number, height: number, file?: string): void {
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new UserError(`the image is too large (${width}×${height}); the largest supported image is ${MAX_IMAGE_SIDE} pixels per side, as for video frames — scale it down first`, file);
  }
}

export interface Image {
  width: number;
  height: number;
  /** Interleaved channels per pixel (1 = grey/mask, 3 = RGB, 2 = flow, any for guide/float maps). */
  channels: number;
  data: Uint8Array;
}

export interface FloatImage {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

/** A two-channel float field (dx, dy per pixel), as in Middlebury .flo files. */
export type FlowField = FloatImage & { channels: 2 };
