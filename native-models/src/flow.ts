// Typed wrappers over the native flow engine: dense optical flow (both directions in one call),
// forward-backward occlusion, backward warping of images and float maps, and soft occlusion masks.
import { loadAddon } from './addon';
import type { FlowField, FloatImage, Image } from './image';

/** Speed/accuracy trade-off of the native estimator; 'balanced' is the default. */
export type FlowPreset = 'fast' | 'balanced' | 'accurate';

export interface ComputeFlowOptions {
  /** Worker threads for this call (default: every core). Results do not depend on it. */
  threads?: number;
  preset?: FlowPreset;
}

/** Flows between two frames a and b: `forward` is a→b on a's grid, `backward` is b→a on b's grid. */
export interface FlowPair {
  forward: FlowField;
  backward: FlowField;
}

interface FlowAddon {
  flowCompute(a: Uint8Array, b: Uint8Array, width: number, height: number, channels: number,
    options: { threads?: number; preset?: string; backward?: boolean }): Promise<{ forward: Float32Array; backward?: Float32Array }>;
  flowOcclusion(forward: Float32Array, backward: Float32Array, width: number, height: number): Promise<{ mask: Uint8Array }>;
  flowWarp<T extends Uint8Array | Float32Array>(source: T, width: number, height: number, channels: number, flow: Float32Array, bilinear: boolean): Promise<{ image: T }>;
  flowSoftMask(mask: Uint8Array, width: number, height: number, dilate: number, blurSize: number, sigma: number): Promise<{ mask: Float32Array }>;
}

const addon = () => loadAddon<FlowAddon>();

function field(width: number, height: number, data: Float32Array): FlowField {
  return { width, height, channels: 2, data };
}

function assertSameSize(what: string, a: { width: number; height: number }, b: { width: number; height: number }): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`${what}: sizes differ (${a.width}×${a.height} vs ${b.width}×${b.height})`);
  }
}

function assertFlow(flow: FlowField, what = 'flow'): void {
  if (flow.channels !== 2 || flow.data.length !== flow.width * flow.height * 2) {
    throw new RangeError(`${what} must be a ${flow.width}×${flow.height} field of (dx, dy) pairs`);
  }
}

/**
 * Dense optical flow between two frames of the same size (RGB, grey or RGBA, 8-bit), computed
 * coarse-to-fine by dense inverse search with variational refinement, off the JS thread.
 * Do not modify the frames' buffers until the promise settles.
 */
export async function computeFlow(a: Image, b: Image, options: ComputeFlowOptions = {}): Promise<FlowPair> {
  assertSameSize('computeFlow', a, b);
  if (a.channels !== b.channels) throw new RangeError(`computeFlow: channel counts differ (${a.channels} vs ${b.channels})`);
  const r = await addon().flowCompute(a.data, b.data, a.width, a.height, a.channels, { ...options, backward: true });
  return { forward: field(a.width, a.height, r.forward), backward: field(a.width, a.height, r.backward!) };
}

/** Flow in one direction only (a→b), for callers that need no occlusion check. */
export async function computeForwardFlow(a: Image, b: Image, options: ComputeFlowOptions = {}): Promise<FlowField> {
  assertSameSize('computeForwardFlow', a, b);
  if (a.channels !== b.channels) throw new RangeError(`computeForwardFlow: channel counts differ (${a.channels} vs ${b.channels})`);
  const r = await addon().flowCompute(a.data, b.data, a.width, a.height, a.channels, { ...options, backward: false });
  return field(a.width, a.height, r.forward);
}

/**
 * Pixels of frame b not visible in frame a, by forward-backward consistency (docs/METHOD.md §5):
 * occluded where |bwd(p) + fwd(p + bwd(p))| > 0.01(|fwd| + |bwd|) + 0.5 or p + bwd(p) leaves the
 * frame. One channel, 255 = occluded, 0 = visible, on b's grid.
 */
export async function occlusionMask(pair: FlowPair): Promise<Image> {
  assertFlow(pair.forward, 'forward flow');
  assertFlow(pair.backward, 'backward flow');
  assertSameSize('occlusionMask', pair.forward, pair.backward);
  const { width, height } = pair.backward;
  const r = await addon().flowOcclusion(pair.forward.data, pair.backward.data, width, height);
  return { width, height, channels: 1, data: r.mask };
}

export type WarpSampling = 'nearest' | 'bilinear';

/**
 * Backward warp: out(p) = source(p + flow(p)), so with the backward flow b→a it pulls frame a's
 * content onto frame b's grid. Borders are replicated outside the frame.
 */
export async function warpImage(source: Image, flow: FlowField, sampling: WarpSampling = 'bilinear'): Promise<Image> {
  assertFlow(flow);
  assertSameSize('warpImage', source, flow);
  const r = await addon().flowWarp(source.data, source.width, source.height, source.channels, flow.data, sampling === 'bilinear');
  return { width: source.width, height: source.height, channels: source.channels, data: r.image };
}

/** Backward warp of a multi-channel float map (guides, coordinate maps, latents, flows). */
export async function warpFloat(source: FloatImage, flow: FlowField, sampling: WarpSampling = 'bilinear'): Promise<FloatImage> {
  assertFlow(flow);
  assertSameSize('warpFloat', source, flow);
  const r = await addon().flowWarp(source.data, source.width, source.height, source.channels, flow.data, sampling === 'bilinear');
  return { width: source.width, height: source.height, channels: source.channels, data: r.image };
}

export interface SoftMaskOptions {
  /** Side of the max filter (default 9). */
  dilate?: number;
  /** Side of the Gaussian kernel (default 9). */
  blurSize?: number;
  /** Deviation of the Gaussian (default 18). */
  sigma?: number;
}

/**
 * The soft occlusion mask of docs/METHOD.md §3.0 step 2: m = clamp(blur(maxpool(O)) + O, 0, 1),
 * from a 0/255 mask, as floats in [0, 1].
 */
export async function softMask(mask: Image, options: SoftMaskOptions = {}): Promise<FloatImage> {
  if (mask.channels !== 1) throw new RangeError(`softMask expects a one-channel mask, got ${mask.channels} channels`);
  const r = await addon().flowSoftMask(mask.data, mask.width, mask.height, options.dilate ?? 9, options.blurSize ?? 9, options.sigma ?? 18);
  return { width: mask.width, height: mask.height, channels: 1, data: r.mask };
}
