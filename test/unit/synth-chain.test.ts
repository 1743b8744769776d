// Chained syntheses through the real propagation code (runChain and propagateSegment) on a scene with
// a known answer: a camera pans over a textured world whose style is fixed to the world (a filter of
// the world texture with stripes in world coordinates), so every frame's ideal stylisation is a crop of
// the styled world. Flows are the exact pan. The frames must not depend on the thread count, and must
// stay close to the known answer along the chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runChain, type PropagationInputs } from '../../main/engine/propagation/chain';
import { ChainStore } from '../../main/engine/propagation/frame-store';
import { propagateSegment } from '../../main/engine/propagation/segment';
import { defaultPropagationSettings } from '../../main/engine/project/defaults';
import { readRgb } from '../../main/engine/media/image-files';
import type { Segment } from '../../main/engine/project/keyframes';
import type { Keyframe } from '../../preload/project-schema';
import type { FlowField, Image } from '../../native-models/src/image';
import { tempDir } from '../helpers/media';
import { texture, stylise, warp, meanAbsDiff } from './synth-scene';

const SIZE = 128;
const FRAMES = 5;  // keys at 0 and 4
// The camera moves right/down by this per frame (so the content moves left/up), a fraction of a pixel
// included: matches carried along the flow are then never exact and every frame needs searching.
const PAN: [number, number] = [2.5, 1.5];

const world = texture(SIZE + Math.ceil(PAN[0] * (FRAMES - 1)) + 1, SIZE + Math.ceil(PAN[1] * (FRAMES - 1)) + 1, 11);
const styledWorld = stylise(world);

/** The SIZE² view of `im` (bilinear) with its top-left corner at (x0, y0). */
function view(im: Image, x0: number, y0: number): Image {
  const moved = warp(im, (x, y) => [x + x0, y + y0]).image;
  const data = new Uint8Array(SIZE * SIZE * im.channels);
  for (let y = 0; y < SIZE; y++) data.set(moved.data.subarray(y * im.width * im.channels, (y * im.width + SIZE) * im.channels), y * SIZE * im.channels);
  return { width: SIZE, height: SIZE, channels: im.channels, data };
}
const frame = (j: number) => view(world, PAN[0] * j, PAN[1] * j);
const ideal = (j: number) => view(styledWorld, PAN[0] * j, PAN[1] * j);
const constantFlow = (dx: number, dy: number): FlowField => ({ width: SIZE, height: SIZE, channels: 2, data: new Float32Array(SIZE * SIZE * 2).map((_, i) => (i % 2 === 0 ? dx : dy)) });

function inputs(threads: number): PropagationInputs {
  return {
    sourceFrame: async (j) => frame(j),
    // Frame i's pixel shows in frame i+1 one pan step up-left; frame i+1's pixel showed in i one step down-right.
    flows: { pair: async () => ({ forward: constantFlow(-PAN[0], -PAN[1]), backward: constantFlow(PAN[0], PAN[1]) }) },
    settings: defaultPropagationSettings(),
    seed: 5,
    threads,
  };
}

/** Mean absolute error to the known answer, away from the borders (where the pan brings in what the key does not show). */
const error = (im: Image, j: number) => meanAbsDiff(im, ideal(j), undefined, 6);
const wholePixels = (j: number) => Number.isInteger(PAN[0] * j) && Number.isInteger(PAN[1] * j);

test('a forward chain of syntheses gives the same bytes with 1, 2, 3 and 4 threads, close to the known answer', async () => {
  const dir = tempDir('rerender-chain-');
  try {
    const steps: Buffer[][] = [];
    for (const threads of [1, 2, 3, 4]) {
      const store = new ChainStore(path.join(dir, `t${threads}`));
      await runChain({ ...inputs(threads), keyFrame: 0, style: ideal(0), frames: [1, 2, 3, 4], direction: 'forward', store });
      steps.push([1, 2, 3, 4].map((j) => fs.readFileSync(store.stepPath(j))));
      if (threads === 1) {
        for (const j of [1, 2, 3, 4]) {
          const e = error((await store.load(j))!.image, j), bound = wholePixels(j) ? 2 : 7;
          // Stated bound: mean absolute error of 255 per channel value, 6 px inside the frame, <= 2 where
          // the pan has moved a whole number of pixels (measured 0.2 and 1.3) and <= 7 half a pixel off
          // (measured 5.9 and 6.0, where whole-pixel copies measured 7.5 before patches were copied from
          // between pixels: the rest is the Lanczos resampling against the known answer's bilinear one,
          // which blurs; a copy moved by the rounded pan is 12.8 off, the unmoved keyframe 29–53).
          assert.ok(e <= bound, `frame ${j}: mean error ${e.toFixed(2)} to the known answer exceeds ${bound}`);
        }
        assert.ok(meanAbsDiff(ideal(0), ideal(4), undefined, 6) > 30, 'the scene moves enough to tell a carried style from the keyframe');
      }
    }
    for (let t = 1; t < steps.length; t++)
      for (let j = 0; j < 4; j++) assert.ok(steps[t][j].equals(steps[0][j]), `frame ${j + 1}: ${t + 1} threads differ from 1 thread`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a segment propagated from both ends gives the same frames with 1, 2, 3 and 4 threads, close to the known answer', async () => {
  const dir = tempDir('rerender-chain-segment-');
  try {
    const key = (f: number) => ({ frame: f }) as Keyframe;
    const segment: Segment = { id: '0-4', start: 1, end: 3, left: key(0), right: key(4) };
    const outputs: Buffer[][] = [];
    for (const threads of [1, 2, 3, 4]) {
      const out = path.join(dir, `out${threads}`);
      fs.mkdirSync(out, { recursive: true });
      await propagateSegment({
        ...inputs(threads), segment, leftStyle: ideal(0), rightStyle: ideal(4), workDir: path.join(dir, `work${threads}`),
        outputFile: (f) => path.join(out, `${f}.png`), isDone: () => false, outputDir: out,
      });
      outputs.push([1, 2, 3].map((f) => fs.readFileSync(path.join(out, `${f}.png`))));
      if (threads === 1) {
        for (const f of [1, 2, 3]) {
          const e = error(await readRgb(path.join(out, `${f}.png`)), f), bound = wholePixels(f) ? 2 : 7;
          // Stated bound: as for one chain (measured 0.7 at the whole-pixel frame, 5.8 at the others).
          assert.ok(e <= bound, `frame ${f}: mean error ${e.toFixed(2)} to the known answer exceeds ${bound}`);
        }
      }
    }
    for (let t = 1; t < outputs.length; t++)
      for (let j = 0; j < 3; j++) assert.ok(outputs[t][j].equals(outputs[0][j]), `frame ${j + 1}: ${t + 1} threads differ from 1 thread`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
