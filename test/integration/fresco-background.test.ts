// FRESCO background smoothing with a real (tiny, generated) ONNX saliency model and the tiny fixture VAE:
// without a model the option is unavailable with a reason; with one, a frame's background is pulled to the
// previous frame's along the flow while the salient object is left alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Image } from '../../native-models/src/image';
import { warpImage } from '../../native-models/src/flow';
import type { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import type { DiffusionModels } from '../../main/engine/render/diffusion-models';
import { imageToSigned, signedToImage, type Planar } from '../../main/engine/render/latent';
import { openSaliencyModel, smoothBackground, type SaliencyModel } from '../../main/engine/fresco/background-smoothing';
import { batchMotion } from '../../main/engine/fresco/correspondence';
import { renderFrescoBatch } from '../../main/engine/fresco/fresco-render';
import { FrescoUNet } from '../../main/engine/fresco/fresco-unet';
import { frescoComponentsOff, saliencyAvailability } from '../../main/engine/fresco/settings';
import { onnxModel } from '../helpers/onnx-writer';
import { openTinyModels, SIZE, testParams } from './keyframe-render-scene';

let runtime: ModelRuntime;
let models: DiffusionModels;
let work: string;
let saliency: SaliencyModel;

/** A saliency "model": brightness (the mean of the normalised channels) as a 1×1 convolution. */
function brightnessModel(file: string): void {
  const bytes = onnxModel({
    inputs: [['image', [1, 3, 'h', 'w']]],
    outputs: [['saliency', [1, 1, 'h', 'w']]],
    nodes: [{ op: 'Conv', inputs: ['image', 'weight'], outputs: ['saliency'] }],
    initializers: [{ name: 'weight', dims: [1, 3, 1, 1], float: [0.229 / 3, 0.224 / 3, 0.225 / 3] }],
  });
  fs.writeFileSync(file, bytes);
}

/** A dark textured background panned `dx` px, with a white square (the salient object) at `square`. */
function frame(dx: number, square: number): Image {
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) {
    const u = x - dx;
    const inSquare = x >= square && x < square + 32 && y >= 48 && y < 80;
    for (let c = 0; c < 3; c++) data[(y * SIZE + x) * 3 + c] = inSquare ? 250 : Math.round(80 + 35 * Math.sin(u / 6 + c) * Math.cos(y / 9));
  }
  return { width: SIZE, height: SIZE, channels: 3, data };
}

before(async () => {
  ({ runtime, models } = await openTinyModels('fresco-background'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-fresco-bg-'));
  brightnessModel(path.join(work, 'saliency.onnx'));
  saliency = await openSaliencyModel(path.join(work, 'saliency.onnx'));
});

after(async () => {
  await saliency.close();
  await models.close();
  await runtime.releaseAll();
  fs.rmSync(work, { recursive: true, force: true });
});

test('given no saliency model, or a missing file, then background smoothing is unavailable and says why', () => {
  const none = saliencyAvailability(undefined);
  assert.equal(none.available, false);
  assert.match((none as { reason: string }).reason, /salient-object model/);
  const missing = saliencyAvailability('/nowhere/saliency.onnx');
  assert.match((missing as { reason: string }).reason, /does not exist/);
  assert.deepEqual(saliencyAvailability(path.join(work, 'saliency.onnx')), { available: true });
});

/**
 * A lossless image ↔ "latent" codec (the image itself) standing in for the VAE: the random-weight tiny VAE
 * does not reconstruct images, and this test is about what the smoothing does in pixel space.
 */
const exactCodec = {
  latentChannels: 3,
  encode: async (image: Planar) => image.data.slice(),
  decode: async (latent: Float32Array, height: number, width: number): Promise<Planar> => ({ channels: 3, height, width, data: latent.slice() }),
};

test('given a second frame whose background disagrees with the first, when smoothed, then its background follows the first frame along the flow and the salient square is kept', async () => {
  const inputs = [frame(0, 40), frame(4, 60)];
  const motion = await batchMotion(inputs);
  const foreground = await Promise.all(inputs.map((f) => saliency.foreground(f)));
  assert.ok(foreground[1].data[64 * SIZE + 70] > 0.9 && foreground[1].data[10 * SIZE + 10] < 0.5, 'the square is salient, the background is not');
  // x̂₀ of frame 1 rendered "differently": its background brightened by 40 grey levels.
  const brighter: Image = { ...inputs[1], data: inputs[1].data.map((v, i) => (foreground[1].data[Math.floor(i / 3)] < 0.5 ? Math.min(255, v + 40) : v)) };
  const latent = { channels: 3, height: SIZE, width: SIZE };
  const x0 = [imageToSigned(inputs[0]).data, imageToSigned(brighter).data];
  const smoothed = await smoothBackground(exactCodec, x0, latent, motion, foreground);
  assert.equal(smoothed[0], x0[0], 'the first frame is left as it is');
  const asImage = (z: Float32Array) => signedToImage({ channels: 3, height: SIZE, width: SIZE, data: z });
  const previous = await warpImage(inputs[0], motion.steps[1]!.backward, 'bilinear');
  const [before, after] = [asImage(x0[1]), asImage(smoothed[1])];
  const error = (img: Image, where: (p: number) => boolean, ref: Image) => {
    let s = 0, n = 0;
    for (let p = 0; p < SIZE * SIZE; p++) if (where(p)) { for (let c = 0; c < 3; c++) s += Math.abs(img.data[p * 3 + c] - ref.data[p * 3 + c]); n += 3; }
    return s / n;
  };
  // Background left of both squares, away from the entering strip and the frame's edges: visible in both
  // frames and background in both (near the moving square the flow is uncertain and pixels are kept).
  const background = (p: number) => foreground[1].data[p] < 0.2 && (p % SIZE) >= 12 && (p % SIZE) < 36 && p >= 8 * SIZE && p < (SIZE - 8) * SIZE;
  const square = (p: number) => foreground[1].data[p] > 0.9;
  assert.ok(error(after, background, previous) < 0.25 * error(before, background, previous), `background vs previous frame: ${error(before, background, previous).toFixed(1)} → ${error(after, background, previous).toFixed(1)}`);
  assert.equal(error(after, square, before), 0, 'the salient square is untouched');
});

test('given a saliency model, when a batch renders with background smoothing (and the feature optimisation it also smooths), then the result changes; without a model the renderer leaves it off', async () => {
  const unet = FrescoUNet.over(runtime, models);
  const frames = [frame(0, 40), frame(4, 60), frame(8, 80)];
  const params = testParams({ steps: 8 });
  const settings = { ...frescoComponentsOff(), featureOptimisation: true };
  const plain = await renderFrescoBatch({ models, unet }, { frames, params: frames.map(() => params), settings });
  const smoothed = await renderFrescoBatch({ models, unet }, { frames, params: frames.map(() => params), settings: { ...settings, backgroundSmoothing: true }, saliency });
  const unavailable = await renderFrescoBatch({ models, unet }, { frames, params: frames.map(() => params), settings: { ...settings, backgroundSmoothing: true } });
  const differs = (a: Float32Array[], b: Float32Array[]) => a.some((l, f) => l.some((v, k) => Math.abs(v - b[f][k]) > 1e-4));
  assert.ok(differs(smoothed.latents, plain.latents));
  assert.ok(!differs(unavailable.latents, plain.latents));
  assert.equal(smoothed.latents[0].length, plain.latents[0].length);
});
