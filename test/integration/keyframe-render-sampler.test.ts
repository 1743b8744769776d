// The sampler setting of keyframe renders: DDIM and DPM++ 2M are rendered (with every cross-frame
// constraint), ancestral Euler is refused with the list of samplers that work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import type { DiffusionModels } from '../../main/engine/render/diffusion-models';
import { CacheReader } from '../../main/engine/render/keyframe-cache';
import { renderLater, renderPlain, type RenderEnv } from '../../main/engine/render/keyframe-render';
import { maxDifference, meanDifference, openTinyModels, scene, testParams } from './keyframe-render-scene';

let runtime: ModelRuntime;
let models: DiffusionModels;
let work: string;

before(async () => {
  ({ runtime, models } = await openTinyModels('keyframe-render-sampler'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-samplers-'));
});

after(async () => {
  await models.close();
  await runtime.releaseAll();
  fs.rmSync(work, { recursive: true, force: true });
});

const env = (): RenderEnv => ({ models, cachePrecision: 'fp32' });

test('given the DPM++ 2M sampler, when a keyframe is rendered twice with one seed, then the renders are identical and differ from DDIM\'s', async () => {
  // From pure noise, so that the second-order steps (everything after the first) shape the whole image.
  const dpm = testParams({ sampler: 'dpmpp-2m', strength: 1, steps: 6 });
  const first = await renderPlain(env(), { frame: scene(0), params: dpm });
  const again = await renderPlain(env(), { frame: scene(0), params: dpm });
  assert.deepEqual(again.image, first.image);
  const ddim = await renderPlain(env(), { frame: scene(0), params: { ...dpm, sampler: 'ddim' } });
  assert.ok(meanDifference(first.image, ddim.image) > 0.5, `DPM++ and DDIM differ by ${meanDifference(first.image, ddim.image).toFixed(2)} on average`);
});

/** A later keyframe on the anchor's own frame: pass 1 and the final render's distance from the anchor. */
async function laterOnAnchorFrame(sampler: 'ddim' | 'dpmpp-2m'): Promise<{ pass1: number; final: number }> {
  const params = testParams({ sampler, steps: 6 });
  const dir = path.join(work, `anchor-${sampler}`);
  const anchor = await renderPlain(env(), { frame: scene(0), params }, { dir, key: 'anchor' });
  const cache = CacheReader.open(dir)!;
  const earlier = { anchor: { frame: scene(0), result: anchor.image, cache }, previous: { frame: scene(0), result: anchor.image }, previousTokens: cache };
  // Pass 1 to its end (the full first pass), and the default render.
  const full = await renderLater(env(), { frame: scene(0), params: { ...params, constraints: { ...params.constraints, fullFirstPass: true } } }, earlier);
  const later = await renderLater(env(), { frame: scene(0), params }, earlier);
  return { pass1: maxDifference(full.pass1, anchor.image), final: meanDifference(later.image, anchor.image) };
}

test('given DPM++ 2M and a later keyframe whose frame is identical to the anchor\'s, when rendered with the constraints, then pass 1 equals the anchor and pass 2 stays as close to it as with DDIM', async () => {
  const dpm = await laterOnAnchorFrame('dpmpp-2m');
  assert.ok(dpm.pass1 <= 1, `max difference ${dpm.pass1} (8-bit rounding at most): every constraint is an identity there`);
  // Pass 2 is pulled towards the composite (the anchor through the lossy tiny VAE): the fusion must not
  // throw the multistep solver off its trajectory.
  const ddim = await laterOnAnchorFrame('ddim');
  assert.ok(dpm.final < 2 * ddim.final + 1, `pass 2 differs from the anchor by ${dpm.final.toFixed(2)} (DDIM: ${ddim.final.toFixed(2)})`);
});

test('given the euler-ancestral sampler, when a keyframe is rendered, then the error says it is not supported yet and names the samplers that are', async () => {
  await assert.rejects(
    renderPlain(env(), { frame: scene(0), params: testParams({ sampler: 'euler-ancestral' }) }),
    (err: Error) => err.name === 'UserError' && /euler-ancestral/.test(err.message) && /not support/.test(err.message) && /ddim, dpmpp-2m/.test(err.message),
  );
});
