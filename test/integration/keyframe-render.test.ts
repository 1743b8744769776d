// Keyframe rendering with the tiny fixture models: each cross-frame constraint does what it claims.
// Identity on identical frames, a known translation followed, the anchor's per-step colour statistics
// reproduced, and SDEdit step skipping equal to running and discarding the early steps.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { sdeditStartStep } from '../../native-models/src/scheduler';
import type { DiffusionModels } from '../../main/engine/render/diffusion-models';
import { CacheReader } from '../../main/engine/render/keyframe-cache';
import { analyseImage, executedSteps, firstPixelFusionStep, renderLater, renderPlain, type RenderEnv } from '../../main/engine/render/keyframe-render';
import { imageToSigned, signedToImage } from '../../main/engine/render/latent';
import { gaussianNoise } from '../../main/engine/render/noise';
import { ddimRun, runPass, startingLatent } from '../../main/engine/render/sampler';
import { inWindow } from '../../main/engine/render/step-windows';
import { maxDifference, meanDifference, openTinyModels, scene, shiftRight, testParams } from './keyframe-render-scene';

let runtime: ModelRuntime;
let models: DiffusionModels;
let work: string;

before(async () => {
  ({ runtime, models } = await openTinyModels('keyframe-render'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-keyframes-'));
});

after(async () => {
  await models.close();
  await runtime.releaseAll();
  fs.rmSync(work, { recursive: true, force: true });
});

function env(): RenderEnv {
  return { models, cachePrecision: 'fp32' };
}

async function renderAnchor(name: string, params = testParams()) {
  const dir = path.join(work, name);
  const anchor = await renderPlain(env(), { frame: scene(0), params }, { dir, key: name });
  return { anchor, cache: CacheReader.open(dir)! };
}

test('given a later keyframe whose frame is identical to the anchor\'s, when rendered, then pass 1 equals the anchor (every constraint is an identity there): its end with the full first pass, its x̂₀ where pixel-aware fusion starts by default', async () => {
  const params = testParams();
  const { anchor, cache } = await renderAnchor('identity', params);
  const earlier = { anchor: { frame: scene(0), result: anchor.image, cache }, previous: { frame: scene(0), result: anchor.image }, previousTokens: cache };
  const full = await renderLater(env(), { frame: scene(0), params: { ...params, constraints: { ...params.constraints, fullFirstPass: true } } }, earlier);
  assert.ok(maxDifference(full.pass1, anchor.image) <= 1, `max difference ${maxDifference(full.pass1, anchor.image)} (8-bit rounding at most)`);
  assert.ok(meanDifference(full.pass1, anchor.image) < 0.02);
  // By default D is pass 1's x̂₀ of the step before the pixel window: the anchor's x̂₀ of that step, decoded.
  const short = await renderLater(env(), { frame: scene(0), params }, earlier);
  const before = firstPixelFusionStep(params) - 1;
  assert.ok(before >= sdeditStartStep(params.steps, params.strength));
  const expected = signedToImage(await models.decode(cache.x0(before)!, 16, 16));
  assert.ok(maxDifference(short.pass1, expected) <= 1, `D vs the anchor's x̂₀ at step ${before}: max difference ${maxDifference(short.pass1, expected)}`);
  assert.ok(maxDifference(short.pass1, anchor.image) > 1, 'an x̂₀ before the last step is not the finished render');
});

test('given a frame shifted 8 px right of the anchor, when rendered with the constraints, then it is much closer to the anchor shifted the same way than the independent render is', async () => {
  // Strength 1 starts from noise, so the shape-aware window (the first tenth of the steps) is reached.
  const params = testParams({ strength: 1 });
  const { anchor, cache } = await renderAnchor('shift', params);
  const moved = scene(8);
  const constrained = await renderLater(env(), { frame: moved, params }, {
    anchor: { frame: scene(0), result: anchor.image, cache }, previous: { frame: scene(0), result: anchor.image }, previousTokens: cache,
  });
  const independent = await renderPlain(env(), { frame: moved, params });
  const expected = shiftRight(anchor.image, 8);
  const constrainedError = meanDifference(constrained.image, expected, 8);
  const independentError = meanDifference(independent.image, expected, 8);
  assert.ok(constrainedError < 0.75 * independentError, `constrained ${constrainedError.toFixed(2)} vs independent ${independentError.toFixed(2)} (0–255 units)`);
  assert.ok(meanDifference(constrained.composite, expected, 8) < 0.2 * independentError, 'the pixel composite is the anchor moved by the flow');
});

test('given an anchor and a later keyframe, when the later keyframe is rendered, then at every step of the colour window its x̂₀ has the anchor\'s per-channel statistics of that step', async () => {
  const params = testParams({ steps: 7 }); // s* = 2: the colour window (the last fifth of the 5 executed steps) holds step 6
  const { anchor, cache } = await renderAnchor('colour', params);
  const dir = path.join(work, 'colour-later');
  await renderLater(env(), { frame: scene(4), params }, {
    anchor: { frame: scene(0), result: anchor.image, cache }, previous: { frame: scene(0), result: anchor.image }, previousTokens: cache,
  }, { dir, key: 'later' });
  const later = CacheReader.open(dir)!;
  let checked = 0;
  for (let s = 0; s < params.steps; s++) {
    if (!inWindow(s, executedSteps(params), params.constraints.color) || !later.has(s)) continue;
    const want = cache.stats(s)!, got = later.stats(s)!;
    for (let c = 0; c < want.mean.length; c++) {
      assert.ok(Math.abs(got.mean[c] - want.mean[c]) < 1e-4, `step ${s} channel ${c} mean`);
      assert.ok(Math.abs(got.std[c] - want.std[c]) < 1e-4, `step ${s} channel ${c} deviation`);
    }
    checked++;
  }
  assert.ok(checked >= 1, 'the colour window holds at least one executed step');
});

test('given a denoising strength, when the early steps are skipped, then the result and every recorded x̂₀ equal a run that executes and discards them', async () => {
  const params = testParams({ strength: 0.6 });
  const run = ddimRun(params.steps);
  const sStar = sdeditStartStep(params.steps, params.strength);
  assert.ok(sStar > 0);
  const latent = { channels: models.latentChannels, height: 16, width: 16 };
  const noise = gaussianNoise(params.seed, 4 * 16 * 16);
  const { context } = await models.encodePrompt(params.prompt, params.negativePrompt);
  const start = startingLatent(run, sStar, await models.encode(imageToSigned(scene(0))), noise);
  const collect = (into: Map<number, Float32Array>) => ({ afterStep: (s: number, x0: Float32Array) => { into.set(s, x0.slice()); } });
  const common = { steps: params.steps, cfg: params.cfg, context, noise, latent };

  const skippedX0 = new Map<number, Float32Array>(), fullX0 = new Map<number, Float32Array>();
  const skipped = await runPass(models, { ...common, startStep: sStar, start, hooks: collect(skippedX0) });
  const full = await runPass(models, {
    ...common, startStep: 0, start: noise,
    hooks: { ...collect(fullX0), beforeStep: (s, x) => (s === sStar ? start : x) }, // discard everything before s*
  });
  assert.deepEqual([...skippedX0.keys()], Array.from({ length: params.steps - sStar }, (_, i) => sStar + i), 'absolute step indices');
  assert.deepEqual(skipped, full);
  for (const [s, x0] of skippedX0) assert.deepEqual(x0, fullX0.get(s), `x̂₀ at step ${s}`);
});

test('given a pass stopped at some step, when another pass resumes from its x and direction term there, then it ends exactly where the whole pass ends (DDIM and DPM++ 2M)', async () => {
  const params = testParams({ strength: 0.75 });
  const latent = { channels: models.latentChannels, height: 16, width: 16 };
  const noise = gaussianNoise(params.seed, 4 * 16 * 16);
  const { context } = await models.encodePrompt(params.prompt, params.negativePrompt);
  const sStar = sdeditStartStep(params.steps, params.strength), at = sStar + 3;
  for (const sampler of ['ddim', 'dpmpp-2m'] as const) {
    const start = startingLatent(ddimRun(params.steps), sStar, await models.encode(imageToSigned(scene(0))), noise);
    const common = { sampler, steps: params.steps, cfg: params.cfg, context, noise, latent };
    let state: { x: Float32Array; d: Float32Array } | undefined;
    // A pass that fuses at `at` (as pixel fusion does), whole and resumed there.
    const fuse = (s: number, x: Float32Array) => (s === at ? Float32Array.from(x, (v) => 0.9 * v) : x);
    const whole = await runPass(models, { ...common, startStep: sStar, start, hooks: { beforeStep: (s, x, d) => { if (s === at) state = { x: x.slice(), d: d.slice() }; return fuse(s, x); } } });
    const resumed = await runPass(models, { ...common, startStep: at, start: state!.x, direction: state!.d, hooks: { beforeStep: fuse } });
    assert.deepEqual(resumed, whole, sampler);
  }
});

test('given a later keyframe, then it makes the VAE passes the method needs (3 encodes, 3 decodes: the fidelity encoding\'s artefact check reads its round trip, no decode of its own) and the anchor\'s UNet calls (the full first pass: and pass 2 from the pixel window); when no executed step lies in the pixel-fusion window, it runs one pass with one encode and one decode and gives what fusion of no effect gives', async () => {
  const params = testParams();
  const { anchor, cache } = await renderAnchor('vae-passes', params);
  const earlier = { anchor: { frame: scene(0), result: anchor.image, cache }, previous: { frame: scene(0), result: anchor.image }, previousTokens: cache };
  const count = async (p: typeof params) => {
    const [e, d, u] = [models.vaeEncodes, models.vaeDecodes, models.unetCalls];
    const r = await renderLater(env(), { frame: scene(4), params: p }, earlier);
    return { image: r.image, encodes: models.vaeEncodes - e, decodes: models.vaeDecodes - d, unet: models.unetCalls - u };
  };
  const run = params.steps - sdeditStartStep(params.steps, params.strength);
  const short = await count(params);
  assert.deepEqual([short.encodes, short.decodes, short.unet], [3, 3, run], 'frame; composite, its round trip; D, round trip, result');
  const full = await count({ ...params, constraints: { ...params.constraints, fullFirstPass: true } });
  const second = params.steps - firstPixelFusionStep(params); // pass 2 shares pass 1's steps before the pixel window
  assert.ok(second < run);
  assert.deepEqual([full.encodes, full.decodes, full.unet], [3, 3, run + second], 'frame; composite, its round trip; pass 1, round trip, result');
  const off = await count({ ...params, constraints: { ...params.constraints, pixel: { start: 0.9, end: 0.1 } } });
  assert.deepEqual([off.encodes, off.decodes, off.unet], [1, 1, run]);
  const zero = await count({ ...params, constraints: { ...params.constraints, fusionStrength: 0, detailLevel: 1 } });
  assert.ok(maxDifference(off.image, zero.image) <= 1, `one pass vs two passes with fusion of no effect: ${maxDifference(off.image, zero.image)}`);
});

test('given an imported image, when it is analysed to serve as anchor or previous, then it is encoded once (its latent is x̂₀ at every executed step, the frame itself is not encoded) and the UNet runs once per executed step', async () => {
  const params = testParams();
  const dir = path.join(work, 'analysis');
  const image = scene(6);
  const [e, d, u] = [models.vaeEncodes, models.vaeDecodes, models.unetCalls];
  await analyseImage(env(), { frame: scene(0), params }, image, { dir, key: 'analysis' });
  const run = params.steps - sdeditStartStep(params.steps, params.strength);
  assert.deepEqual([models.vaeEncodes - e, models.vaeDecodes - d, models.unetCalls - u], [1, 0, run]);
  const cache = CacheReader.open(dir)!;
  const z = await models.encode(imageToSigned(image));
  for (let s = sdeditStartStep(params.steps, params.strength); s < params.steps; s++) assert.deepEqual(cache.x0(s), z, `x̂₀ at step ${s}`);
});
