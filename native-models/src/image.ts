// The in-memory image shared by media, flow, synthesis and diffusion code: interleaved, row-major.

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

export function createImage(width: number, height: number, channels: number): Image {
  return { width, height, channels, data: new Uint8Array(width * height * channels) };
}

export function createFloatImage(width: number, height: number, channels: number): FloatImage {
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

/** A two-channel float field (dx, dy per pixel), as in Middlebury .flo files. */
export type FlowField = FloatImage & { channels: 2 };
