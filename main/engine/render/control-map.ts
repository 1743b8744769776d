// The ControlNet conditioning image of a frame: Canny edges computed natively with the user's thresholds,
// or a soft-edge (HED) / depth map from a detector the user supplies as ONNX (see `detectorMap`).
import fs from 'node:fs';
import * as ort from '../../../native-models/src/runtime/onnxruntime';
import sharp from 'sharp';
import { cannyEdges } from '../../../native-models/src/canny';
import type { Image } from '../../../native-models/src/image';
import type { RenderParams } from '../../../preload/project-schema';
import { UserError } from '../../../native-models/src/errors';
import { mapToUnitRgb, type Planar } from './latent';

type DetectorKind = 'softedge' | 'depth';

interface Detector {
  session: ort.InferenceSession;
  /** The input size the model was exported for, when it is fixed (frames are resized to it and back). */
  fixedSize?: { width: number; height: number };
}

const detectors = new Map<string, Promise<Detector>>();

function shapeText(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

/** Refuses a detector whose input cannot be an RGB image [1, 3, H, W] before anything runs. */
function describeInput(session: ort.InferenceSession, file: string): Detector['fixedSize'] {
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor) throw new UserError('the ControlNet detector has no image input; expected one RGB image [1, 3, H, W]', file);
  const expected = 'expected an RGB image [1, 3, H, W] in [0, 1]';
  if (meta.type !== 'float32') throw new UserError(`the ControlNet detector takes ${meta.type} input "${meta.name}"; ${expected} as float32`, file);
  const s = meta.shape;
  if (s.length === 0) return undefined; // the model does not declare its input shape: try the frame as it is
  const fixed = (i: number, want: number) => typeof s[i] !== 'number' || s[i] === want;
  if (s.length !== 4 || !fixed(0, 1) || !fixed(1, 3)) throw new UserError(`the ControlNet detector takes input "${meta.name}" of shape ${shapeText(s)}; ${expected}`, file);
  const height = s[2], width = s[3];
  return typeof height === 'number' && typeof width === 'number' && height > 0 && width > 0 ? { width, height } : undefined;
}

/** A loaded detector, cached per file version (a replaced file is loaded again). */
async function openDetector(file: string): Promise<Detector> {
  let stat: fs.Stats;
  try { stat = fs.statSync(file); } catch { throw new UserError('the ControlNet detector does not exist', file); }
  const key = `${file}|${stat.size}|${stat.mtimeMs}`;
  let d = detectors.get(key);
  if (!d) {
    d = ort.InferenceSession.create(file, { executionProviders: ['cpu'] })
      .catch((err) => { throw new UserError(`cannot load the ControlNet detector (${(err as Error).message.split('\n')[0]})`, file); })
      .then(async (session) => {
        try { return { session, fixedSize: describeInput(session, file) }; } catch (err) { await session.release(); throw err; }
      });
    d.catch(() => detectors.delete(key));
    detectors.set(key, d);
  }
  return d;
}

/** The detector's output as planes of H×W: [H, W], [C, H, W] or [1, C, H, W] with C = 1 (a map) or 3 (an RGB map). */
function outputPlanes(out: ort.Tensor, input: { width: number; height: number }, file: string): { channels: 1 | 3; height: number; width: number; data: Float32Array } {
  const dims = out.dims as readonly number[];
  const expected = 'expected one map [1, 1, H, W], [1, H, W] or [H, W], or an RGB map [1, 3, H, W]';
  if (out.type !== 'float32') throw new UserError(`the ControlNet detector's output is ${out.type}; ${expected} as float32`, file);
  const [c, h, w] = dims.length === 2 ? [1, dims[0], dims[1]] : dims.length === 3 ? dims : dims.length === 4 && dims[0] === 1 ? dims.slice(1) : [0, 0, 0];
  // A map of the image keeps its proportions (detectors may work at a lower resolution); anything else,
  // such as a vector of scores, is not a map.
  const sameProportions = h > 0 && w > 0 && Math.abs(Math.log((w / h) / (input.width / input.height))) < Math.log(1.1);
  if (!(c === 1 || c === 3) || !sameProportions) {
    throw new UserError(`the ControlNet detector's output has shape ${shapeText(dims)} for a ${input.width}×${input.height} input; ${expected} of the image's proportions`, file);
  }
  return { channels: c as 1 | 3, height: h, width: w, data: out.data as Float32Array };
}

/**
 * 8-bit levels of the detector's output. Depth has no fixed scale (relative inverse depth), so it is
 * stretched to the full range as the depth annotators do; a soft-edge map is an edge probability and
 * is kept as it is when it lies in [0, 1] (stretching would turn faint edges into strong ones).
 */
function toLevels(values: Float32Array, kind: DetectorKind, file: string): Uint8Array {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) throw new UserError('the ControlNet detector produced values that are not finite numbers', file);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const asIs = kind === 'softedge' && lo >= 0 && hi <= 1;
  const [offset, scale] = asIs ? [0, 255] : [lo, hi > lo ? 255 / (hi - lo) : 0];
  return Uint8Array.from(values, (v) => Math.round((v - offset) * scale));
}

/** Resizes an 8-bit image to width × height with `channels` (1 or 3) channels out. */
async function resizeMap(img: Image, width: number, height: number, channels: 1 | 3): Promise<Image> {
  // sharp turns one-channel raw data into sRGB unless told to stay grey.
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb').resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`resizing a map gave ${info.channels} channels instead of ${channels}`);
  return { width, height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** Frame → detector input [1, 3, H, W] RGB in [0, 1], at the detector's fixed size when it has one. */
async function detectorInput(frame: Image, size: { width: number; height: number }): Promise<ort.Tensor> {
  let rgb = frame;
  if (size.width !== frame.width || size.height !== frame.height || frame.channels !== 3) {
    rgb = await resizeMap(frame, size.width, size.height, 3);
  }
  const n = size.width * size.height;
  const input = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) input[c * n + i] = rgb.data[i * 3 + c] / 255;
  return new ort.Tensor('float32', input, [1, 3, size.height, size.width]);
}

/**
 * Runs a soft-edge or depth detector on `frame` and returns its map (grey, or RGB when the detector gives
 * three channels) as an 8-bit image of the frame's size.
 */
export async function detectorMap(frame: Image, file: string, kind: DetectorKind): Promise<Image> {
  const { session, fixedSize } = await openDetector(file);
  const input = await detectorInput(frame, fixedSize ?? frame);
  const result = await session.run({ [session.inputNames[0]]: input }).catch((err) => {
    throw new UserError(`the ControlNet detector failed on a ${input.dims[3]}×${input.dims[2]} image (${(err as Error).message.split('\n')[0]})`, file);
  });
  const out = outputPlanes(result[session.outputNames[0]] as ort.Tensor, { width: input.dims[3], height: input.dims[2] }, file);
  const n = out.width * out.height;
  const levels = toLevels(out.data.subarray(0, out.channels * n), kind, file);
  const interleaved = new Uint8Array(out.channels * n);
  for (let c = 0; c < out.channels; c++) for (let i = 0; i < n; i++) interleaved[i * out.channels + c] = levels[c * n + i];
  const map: Image = { width: out.width, height: out.height, channels: out.channels, data: interleaved };
  return out.width === frame.width && out.height === frame.height ? map : resizeMap(map, frame.width, frame.height, out.channels);
}

/**
 * The conditioning image [3, H, W] in [0, 1] for `frame`, or undefined when no ControlNet is used
 * (type none, strength 0, or no ControlNet model selected).
 */
export async function controlImage(frame: Image, settings: RenderParams['controlnet'], hasControlNet: boolean, detector?: string): Promise<Planar | undefined> {
  if (settings.type === 'none' || settings.strength === 0 || !hasControlNet) return undefined;
  if (settings.type === 'canny') return mapToUnitRgb(await cannyEdges(frame, { low: settings.cannyLow, high: settings.cannyHigh }));
  if (!detector) throw new UserError(`a ${settings.type} ControlNet needs its detector as an ONNX file (choose one in the model manager, or --detector <file.onnx>), or choose the canny ControlNet`);
  return mapToUnitRgb(await detectorMap(frame, detector, settings.type));
}
