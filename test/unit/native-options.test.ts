// The addon's one option reader and one async pattern (common/options.h, common/promise_task.h): a
// missing option takes its default, a wrong type or a value out of range is refused on the calling
// thread with an error naming the call and the option, and work that fails on the pool rejects the
// promise with its message instead of ending the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAddon } from '../../native-models/src/addon';

type Call = (...args: unknown[]) => Promise<unknown>;
const addon = () => loadAddon<Record<string, Call>>();
const image = new Uint8Array(16 * 16 * 3).fill(90);
/** A synthesis call that passes every check (16×16, one guide channel). */
const synthesis = {
  sourceWidth: 16, sourceHeight: 16, targetWidth: 16, targetHeight: 16, styleChannels: 3, guideChannels: 1,
  sourceStyle: image, styleWeights: new Float32Array(3).fill(1), sourceGuide: new Float32Array(256),
  targetGuide: new Float32Array(256), guideWeights: new Float32Array(1).fill(1),
};

test('given options out of range or of the wrong type, then each binding refuses them naming the call and the option', () => {
  const refused: Array<[() => unknown, ErrorConstructor, RegExp]> = [
    [() => addon().cannyEdges(image, 16, 16, 3, { low: -1 }), RangeError, /^cannyEdges: option 'low' must be from 0 to .*, got -1$/],
    [() => addon().cannyEdges(image, 16, 16, 3, { blurSigma: Number.NaN }), RangeError, /cannyEdges: option 'blurSigma' must be from 0 to 100, got NaN/],
    [() => addon().cannyEdges(image, 16, 16, 3, { l2: 'yes' }), TypeError, /cannyEdges: option 'l2' must be true or false/],
    [() => addon().cannyEdges(image, 16, 16, 3, 'fast'), TypeError, /cannyEdges: expected an options object/],
    [() => addon().cannyEdges(image, 16, 16.5, 3, {}), RangeError, /cannyEdges: height must be a whole number from 1 to \d+, got 16.5/],
    [() => addon().flowCompute(image, image, 16, 16, 3, { backward: 'no' }), TypeError, /flowCompute: option 'backward' must be true or false/],
    [() => addon().flowCompute(image, image, 16, 16, 3, { threads: -2 }), RangeError, /flowCompute: option 'threads' must be a whole number from 0/],
    [() => addon().flowCompute(image, image, 16, 16, 3, { preset: 3 }), TypeError, /flowCompute: option 'preset' must be a string/],
    [() => addon().synthesize({ ...synthesis, patchSize: 5.5 }), RangeError, /synthesize: option 'patchSize' must be a whole number from 3 to 101, got 5.5/],
    [() => addon().synthesize({ ...synthesis, sourceStyle: new Float32Array(3) }), TypeError, /synthesize: option 'sourceStyle' must be a Uint8Array/],
    [() => addon().blendMask({ width: 4, height: 4, errorA: new Float32Array(16), errorB: new Float32Array(16), weightB: 1.5 }), RangeError, /blendMask: option 'weightB' must be from 0 to 1, got 1.5/],
    [() => addon().blendMask({ width: 4, height: 4, errorA: new Float32Array(15), errorB: new Float32Array(16) }), RangeError, /blendMask: option 'errorA' has 15 values, expected 16/],
    [() => addon().frescoOptimiseFeatures(new Float32Array(4), 1, 1, 4, new Float32Array(4), 1, new Int32Array(4), new Float32Array(4), { iterations: -1 }), RangeError, /frescoOptimiseFeatures: option 'iterations' must be a whole number from 0/],
  ];
  for (const [call, type, message] of refused) assert.throws(call, (e: unknown) => e instanceof type && message.test((e as Error).message), message.source);
});

test('given no options or defaults, then the bindings run and resolve their results', async () => {
  const edges = (await addon().cannyEdges(image, 16, 16, 3)) as Uint8Array;
  assert.equal(edges.length, 16 * 16);
  const flow = (await addon().flowCompute(image, image, 16, 16, 3, { backward: false, preset: 'fast' })) as { forward: Float32Array; backward?: Float32Array };
  assert.equal(flow.forward.length, 16 * 16 * 2);
  assert.equal(flow.backward, undefined);
  const lab = (await addon().rgbToLab({ width: 4, height: 4, rgb: new Uint8Array(48).fill(255) })) as Float32Array;
  assert.ok(Math.abs(lab[0] - 100) < 0.5, `white has L ${lab[0]}`);
});

test('given work that fails on the pool, then the promise rejects with the engine\'s message', async () => {
  // A style image smaller than one patch passes the options check but is refused by the engine itself.
  const run = addon().synthesize({ ...synthesis, sourceWidth: 4, sourceHeight: 4, sourceStyle: new Uint8Array(48), sourceGuide: new Float32Array(16), patchSize: 5 });
  await assert.rejects(run, /the style image is smaller than one patch/);
  const ok = (await addon().synthesize({ ...synthesis, pyramidLevels: 1, searchVoteIters: 1, patchMatchIters: 1 })) as { image: Uint8Array };
  assert.equal(ok.image.length, 16 * 16 * 3);
});
