// Given frame pairs rendered from a procedural texture under known motions, the native flow
// estimator recovers the motion (end-point error bounds), and its occlusion check finds the occluder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeFlow, computeForwardFlow, occlusionMask } from '../../native-models/src/flow';
import type { Image } from '../../native-models/src/image';
import { endPointError, renderScene, standardScenes, translation, makeTexture, disc, valueNoise, type FlowScene } from '../helpers/flow-scenes';

// Bounds in pixels at 256×256: about twice what the balanced preset reaches, far below what a
// wrong or merely smoothed answer gives (the motions are 4–9 px).
const BOUNDS: Record<string, number> = { translation: 0.25, rotation: 0.25, zoom: 0.35, 'two objects': 0.35 };

const scenes = new Map<string, FlowScene>(standardScenes(256, 256).map(({ name, scene }) => [name, scene()]));

function occlusionScores(predicted: Image, truth: Uint8Array): { recall: number; precision: number; falseRate: number } {
  let tp = 0, fp = 0, fn = 0, negatives = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = predicted.data[i] > 0, t = truth[i] > 0;
    if (!t) negatives++;
    if (p && t) tp++; else if (p) fp++; else if (t) fn++;
  }
  return { recall: tp / Math.max(1, tp + fn), precision: tp / Math.max(1, tp + fp), falseRate: fp / Math.max(1, negatives) };
}

for (const [name, bound] of Object.entries(BOUNDS)) {
  test(`given a ${name} pair, when both flows are computed, then each end-point error is below ${bound} px`, async () => {
    const s = scenes.get(name)!;
    const { forward, backward } = await computeFlow(s.a, s.b);
    assert.equal(forward.width, 256);
    assert.ok(endPointError(forward, s.forward) < bound, `forward EPE ${endPointError(forward, s.forward)}`);
    assert.ok(endPointError(backward, s.backward) < bound, `backward EPE ${endPointError(backward, s.backward)}`);
  });
}

test('given an object moving 22 px across a moving background, when flow is computed, then its edge stays sharp', async () => {
  // Fast motion: coarse-to-fine estimation mixes the two motions in a band along the object's edge
  // unless the edge is sharpened (balanced before that: 4.7 px within the band, 0.39 px overall).
  const s = renderScene(256, 256, [
    { texture: makeTexture(3), motion: translation(4, -3) },
    { texture: makeTexture(103), motion: translation(-18, 13), contains: disc(120, 130, 55) },
  ]);
  const { backward } = await computeFlow(s.a, s.b);
  // The band: visible pixels of b with a true motion more than 3 px different 6 px or less away.
  const outsideBand = new Uint8Array(256 * 256).fill(1);
  const t = s.backward.data;
  for (let i = 0; i < outsideBand.length; i++) {
    if (s.occluded[i]) continue;
    const x = i % 256, y = Math.floor(i / 256);
    for (let dy = -6; dy <= 6 && outsideBand[i]; dy += 2) for (let dx = -6; dx <= 6 && outsideBand[i]; dx += 2) {
      const j = Math.min(255, Math.max(0, y + dy)) * 256 + Math.min(255, Math.max(0, x + dx));
      if (Math.hypot(t[2 * i] - t[2 * j], t[2 * i + 1] - t[2 * j + 1]) > 3) outsideBand[i] = 0;
    }
  }
  const band = endPointError(backward, s.backward, outsideBand), visible = endPointError(backward, s.backward, s.occluded);
  assert.ok(band < 3, `EPE within 6 px of the edge ${band}`);
  assert.ok(visible < 0.3, `EPE over visible pixels ${visible}`);
  // The edge choices read the field as it came in: any thread count gives the same bits.
  assert.deepEqual((await computeFlow(s.a, s.b, { threads: 1 })).backward.data, (await computeFlow(s.a, s.b, { threads: 3 })).backward.data);
});

test('given two objects moving differently, when the occlusion mask is computed, then it finds the revealed background', async () => {
  const s = scenes.get('two objects')!;
  const mask = await occlusionMask(await computeFlow(s.a, s.b));
  const { recall, precision } = occlusionScores(mask, s.occluded);
  assert.ok(recall >= 0.75, `recall ${recall}`);
  assert.ok(precision >= 0.4, `precision ${precision}`);
});

test('given smooth motions with nothing hidden, when the occlusion mask is computed, then almost no pixel is flagged', async () => {
  for (const name of ['rotation', 'zoom']) {
    const s = scenes.get(name)!;
    const { falseRate } = occlusionScores(await occlusionMask(await computeFlow(s.a, s.b)), s.occluded);
    assert.ok(falseRate < 0.03, `${name}: ${falseRate} of visible pixels flagged`);
  }
});

test('given an odd frame size (97×61), when flow is computed, then it has that size and is accurate', async () => {
  for (const { name, scene } of standardScenes(97, 61)) {
    const s = scene();
    const { forward, backward } = await computeFlow(s.a, s.b);
    assert.equal(forward.data.length, 97 * 61 * 2);
    assert.ok(forward.data.every(Number.isFinite) && backward.data.every(Number.isFinite));
    assert.ok(endPointError(forward, s.forward) < 0.45, `${name}: forward EPE ${endPointError(forward, s.forward)}`);
  }
});

test('given tiny and degenerate frames, when flow is computed, then it returns finite fields of their size', async () => {
  for (const [w, h] of [[1, 1], [7, 3], [300, 5]]) {
    const s = renderScene(w, h, [{ texture: makeTexture(5), motion: translation(0.5, 0) }]);
    const { forward } = await computeFlow(s.a, s.b);
    assert.equal(forward.data.length, w * h * 2);
    assert.ok(forward.data.every(Number.isFinite));
  }
});

test('given any thread count, when flow is computed, then the result is bit-identical', async () => {
  const s = scenes.get('two objects')!;
  const one = await computeFlow(s.a, s.b, { threads: 1 });
  const three = await computeFlow(s.a, s.b, { threads: 3 });
  assert.deepEqual(one.forward.data, three.forward.data);
  assert.deepEqual(one.backward.data, three.backward.data);
});

test('given several flows requested at once, when they run, then the JS thread stays free and each result equals a lone run', async () => {
  const s = scenes.get('rotation')!, t = scenes.get('zoom')!;
  const alone = await computeFlow(s.a, s.b);
  let ticks = 0;
  let done = false;
  const spin = () => { if (!done) { ticks++; setImmediate(spin); } };
  setImmediate(spin);
  const [x, y] = await Promise.all([computeFlow(s.a, s.b), computeFlow(t.a, t.b)]);
  done = true;
  assert.ok(ticks > 0, 'the event loop ran while the flows were computed');
  assert.deepEqual(x.forward.data, alone.forward.data);
  assert.equal(y.forward.width, 256);
});

test('given a uniform brightness change on top of the motion, when flow is computed, then the motion is still found', async () => {
  const s = scenes.get('translation')!;
  const brighter = { ...s.b, data: s.b.data.map((v) => Math.min(255, v + 20)) };
  const flow = await computeForwardFlow(s.a, brighter);
  assert.ok(endPointError(flow, s.forward) < 0.5, `EPE ${endPointError(flow, s.forward)}`);
});

test('given a large frame (1280×720), when flow is computed, then a translation is recovered in the interior', async () => {
  const w = 1280, h = 720;
  // Value noise at two scales: cheap at this size and, unlike sinusoids, not periodic (a periodic
  // pattern makes any shift by a period an equally good answer).
  const paint = (dx: number, dy: number): Image => {
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const X = x - dx, Y = y - dy;
      const v = 255 * (0.65 * valueNoise(X / 17, Y / 17, 3) + 0.35 * valueNoise(X / 5, Y / 5, 4));
      data.set([v, v * 0.8 + 20, 255 - v], (y * w + x) * 3);
    }
    return { width: w, height: h, channels: 3, data };
  };
  const { forward } = await computeFlow(paint(0, 0), paint(6, -4));
  let sum = 0, n = 0;
  for (let y = 40; y < h - 40; y += 7) for (let x = 40; x < w - 40; x += 7) {
    const i = y * w + x;
    sum += Math.hypot(forward.data[2 * i] - 6, forward.data[2 * i + 1] + 4);
    n++;
  }
  assert.ok(sum / n < 0.3, `interior EPE ${sum / n}`);
});

test('given frames of different sizes, when flow is requested, then it is refused with the sizes in the message', async () => {
  const s = renderScene(32, 32, [{ texture: makeTexture(1), motion: translation(1, 1), contains: disc(0, 0, 1) }]);
  const small = renderScene(16, 32, [{ texture: makeTexture(1), motion: translation(1, 1) }]);
  await assert.rejects(computeFlow(s.a, small.a), /32×32 vs 16×32/);
});
