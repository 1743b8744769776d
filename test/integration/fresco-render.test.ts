// FRESCO batches with the tiny fixture models: with every component off a batch is exactly the independent
// renders (shared noise), each component's switch changes the result, the feature optimisation lowers both
// of its losses wherever it runs, and efficient cross-frame attention uses far fewer keys on a slow pan.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import type { DiffusionModels } from '../../main/engine/render/diffusion-models';
import { colourReference, renderPlain } from '../../main/engine/render/keyframe-render';
import { renderFrescoBatch, type FrescoBatchResult } from '../../main/engine/fresco/fresco-render';
import { FrescoUNet } from '../../main/engine/fresco/fresco-unet';
import { defaultFrescoSettings, frescoComponentsOff, type FrescoSettings } from '../../main/engine/fresco/settings';
import { maxDifference, openTinyModels, scene, testParams } from './keyframe-render-scene';

let runtime: ModelRuntime;
let models: DiffusionModels;
let unet: FrescoUNet;

before(async () => {
  ({ runtime, models } = await openTinyModels('fresco-render'));
  unet = FrescoUNet.over(runtime, models);
});

after(async () => {
  await models.close();
  await runtime.releaseAll();
});

const frames = [scene(0), scene(4), scene(8)];
const params = testParams({ steps: 8 });
const off = frescoComponentsOff();

function render(settings: FrescoSettings, change: Partial<typeof params> = {}): Promise<FrescoBatchResult> {
  return renderFrescoBatch({ models, unet }, { frames, params: frames.map(() => ({ ...params, ...change })), settings });
}

let plainBatch: FrescoBatchResult;

/** ‖a − b‖ / ‖b‖. */
function relativeChange(a: Float32Array, b: Float32Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) { d += (a[i] - b[i]) ** 2; n += b[i] ** 2; }
  return Math.sqrt(d / n);
}

test('given every FRESCO component off, when a batch renders, then each frame is its independent render (same seed, same noise)', async () => {
  plainBatch = await render(off);
  for (const [f, frame] of frames.entries()) {
    const independent = await renderPlain({ models }, { frame, params });
    assert.ok(maxDifference(plainBatch.images[f], independent.image) <= 1, `frame ${f}: max difference ${maxDifference(plainBatch.images[f], independent.image)}`);
  }
  assert.deepEqual(plainBatch.report, { crossFrameKeys: [], optimisation: [] });
});

test('given every component off and keyframes with their own prompt, seed, guidance and ControlNet strength (0 too), then each frame is its independent render with its own parameters', async () => {
  const control = (strength: number) => ({ ...params.controlnet, strength });
  const own = [
    { ...params, controlnet: control(0) },
    { ...params, seed: 99, prompt: 'a watercolour of a harbour', controlnet: control(0.5) },
    { ...params, cfg: 3, negativePrompt: 'blurry' },
  ];
  const batch = await renderFrescoBatch({ models, unet }, { frames, params: own, settings: off });
  for (const [f, frame] of frames.entries()) {
    const independent = await renderPlain({ models }, { frame, params: own[f] });
    assert.ok(maxDifference(batch.images[f], independent.image) <= 1, `frame ${f}: max difference ${maxDifference(batch.images[f], independent.image)}`);
  }
});

test('given the DPM++ 2M sampler and every component off, then each frame is its independent DPM++ render; with the components on the batch differs', async () => {
  const dpm = { ...params, sampler: 'dpmpp-2m' as const };
  const batch = await render(off, { sampler: 'dpmpp-2m' });
  for (const [f, frame] of frames.entries()) {
    const independent = await renderPlain({ models }, { frame, params: dpm });
    assert.ok(maxDifference(batch.images[f], independent.image) <= 1, `frame ${f}: max difference ${maxDifference(batch.images[f], independent.image)}`);
  }
  const on = await render(defaultFrescoSettings(), { sampler: 'dpmpp-2m' });
  assert.ok(relativeChange(on.latents[1], batch.latents[1]) > 1e-3);
});

test('given colour preservation, then the first keyframe rendered from noise is the colour reference, and a batch with it matches the independent render with colour preservation', async () => {
  const colour = { ...params, colorPreservation: true };
  const reference = await renderFrescoBatch({ models, unet }, { frames: [frames[0]], params: [{ ...colour, strength: 1, colorPreservation: false }], settings: off });
  const expected = await colourReference({ models }, { frame: frames[0], params: colour });
  assert.ok(maxDifference(reference.images[0], expected) <= 1);
  const batch = await renderFrescoBatch({ models, unet }, { frames, params: frames.map(() => colour), settings: off, colourReference: reference.images[0] });
  const independent = await renderPlain({ models }, { frame: frames[0], params: colour });
  assert.ok(maxDifference(batch.images[0], independent.image) <= 1, `max difference ${maxDifference(batch.images[0], independent.image)}`);
  assert.ok(maxDifference(batch.images[0], plainBatch.images[0]) > 1, 'colour preservation changed the render');
});

test('given frames of one batch with different step counts, then the batch refuses (the project layer chooses one schedule per batch)', async () => {
  await assert.rejects(renderFrescoBatch({ models, unet }, { frames, params: [params, { ...params, steps: 6 }, params], settings: off }), /must share steps/);
});

for (const [name, change, strength] of [
  // Spatial guidance acts on the first step only; from pure noise that step's sample is not the input itself.
  ['spatial-guided attention', { spatialAttention: true }, 1],
  ['temporal-guided attention', { temporalAttention: true }, params.strength],
  ['efficient cross-frame attention', { crossFrameAttention: true }, params.strength],
  ['feature optimisation', { featureOptimisation: true }, params.strength],
] as Array<[string, Partial<FrescoSettings>, number]>) {
  test(`given only ${name} switched on, then the batch differs from the all-off batch`, async () => {
    const on = await render({ ...off, ...change }, { strength });
    const baseline = strength === params.strength ? plainBatch : await render(off, { strength });
    // Latents, not 8-bit images: the tiny VAE maps small latent changes to less than one grey level.
    // 1e-4 is a hundred times what batching alone changes (float32 rounding, about 1e-6).
    const moved = Math.max(...on.latents.map((l, f) => relativeChange(l, baseline.latents[f])));
    console.log(`${name}: relative latent change ${moved.toFixed(4)}`);
    assert.ok(moved > 1e-4, `relative latent change ${moved}`);
  });
}

test('given the feature optimisation on a moving clip, then every run lowers the warp loss of the features it touches, and the self-similarity loss wherever it is not already zero', async () => {
  const r = await render({ ...off, featureOptimisation: true });
  const s = defaultFrescoSettings();
  const expectedSteps = [...Array(params.steps).keys()].filter((k) => k >= 2 && k < s.optimiseUntil * params.steps).length;
  assert.equal(r.report.optimisation.length, expectedSteps * s.optimisedUpBlocks.length * 2, 'each step in the window, each optimised up block, both CFG branches');
  for (const o of r.report.optimisation) {
    assert.ok(o.final.warp < o.before.warp, `step ${o.step} block ${o.upBlock}: warp ${o.before.warp} → ${o.final.warp}`);
    // At the first step the features are (nearly) the input frames' own: the extra pass saw the same latents.
    if (o.step === r.report.optimisation[0].step) assert.ok(o.before.similarity < 0.01 && o.final.similarity < 0.01);
    else assert.ok(o.final.similarity < o.before.similarity, `step ${o.step} block ${o.upBlock}: similarity ${o.before.similarity} → ${o.final.similarity}`);
  }
});

test('given a slow pan, efficient cross-frame attention attends to far fewer keys than full cross-frame attention would', async () => {
  const r = await render({ ...off, crossFrameAttention: true });
  assert.equal(r.report.crossFrameKeys.length, unet.layers.length);
  for (const k of r.report.crossFrameKeys) assert.ok(k.keys < 0.6 * k.full, `layer ${k.layer}: ${k.keys} of ${k.full}`);
});
