// The ControlNet conditioning image of a frame: Canny edges computed natively with the user's thresholds,
// or a soft-edge (HED) / depth map from a detector the user supplies as ONNX (image [1, 3, H, W] RGB in
// [0, 1] in, one map out, rescaled to [0, 1] and resized to the frame).
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { cannyEdges } from '../../../native-models/src/canny';
import type { Image } from '../../../native-models/src/image';
import type { RenderParams } from '../project/schema';
import { UserError } from '../errors';
import { greyToUnitRgb, type Planar } from './latent';

const detectors = new Map<string, Promise<ort.InferenceSession>>();

async function detectorSession(file: string): Promise<ort.InferenceSession> {
  let s = detectors.get(file);
  if (!s) {
    s = ort.InferenceSession.create(file, { executionProviders: ['cpu'] }).catch((err) => {
      detectors.delete(file);
      throw new UserError(`cannot load the ControlNet detector (${(err as Error).message.split('\n')[0]})`, file);
    });
    detectors.set(file, s);
  }
  return s;
}

/** Runs a soft-edge or depth detector and returns its map as an 8-bit grey image of the frame's size. */
async function detectorMap(frame: Image, file: string): Promise<Image> {
  const session = await detectorSession(file);
  const n = frame.width * frame.height;
  const input = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) input[c * n + i] = frame.data[i * frame.channels + Math.min(c, frame.channels - 1)] / 255;
  const r = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, frame.height, frame.width]) });
  const out = r[session.outputNames[0]];
  const dims = out.dims as number[];
  if (dims.length < 2) throw new UserError(`the ControlNet detector's output has shape [${dims.join(', ')}]; expected a map [..., H, W]`, file);
  const h = dims[dims.length - 2], w = dims[dims.length - 1];
  const values = (out.data as Float32Array).subarray(0, h * w);
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const bytes = Uint8Array.from(values, (v) => Math.round((v - lo) * scale));
  const resized = await sharp(bytes, { raw: { width: w, height: h, channels: 1 } }).resize(frame.width, frame.height, { fit: 'fill' }).raw().toBuffer();
  return { width: frame.width, height: frame.height, channels: 1, data: new Uint8Array(resized) };
}

/**
 * The conditioning image [3, H, W] in [0, 1] for `frame`, or undefined when no ControlNet is used
 * (type none, strength 0, or no ControlNet model selected).
 */
export async function controlImage(frame: Image, settings: RenderParams['controlnet'], hasControlNet: boolean, detector?: string): Promise<Planar | undefined> {
  if (settings.type === 'none' || settings.strength === 0 || !hasControlNet) return undefined;
  if (settings.type === 'canny') return greyToUnitRgb(await cannyEdges(frame, { low: settings.cannyLow, high: settings.cannyHigh }));
  if (!detector) throw new UserError(`a ${settings.type} ControlNet needs its detector as an ONNX file (--detector <file.onnx>), or choose the canny ControlNet`);
  return greyToUnitRgb(await detectorMap(frame, detector));
}
