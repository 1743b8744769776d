// The native engine never takes the process down: an image beyond the size limit is refused (by the CLI
// before decoding, by every binding before allocating), and a C++ exception anywhere (on the JS thread,
// on the libuv pool, inside the engine's own threads) ends as a JS error with a message. Run under an
// address-space limit (ulimit -v), where an uncaught std::bad_alloc used to abort the process.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadAddon } from '../../native-models/src/addon';
import { binPath } from '../helpers/cli';
import { tempDir } from '../helpers/media';

const LINUX = process.platform === 'linux';
const PER_SIDE = /8192 pixels per side/;

/** The built CLI under `ulimit -v <kib>`; the exit code, the signal and what it said. */
function limited(kib: number, args: string[]): { code: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const quoted = [process.execPath, binPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('/bin/sh', ['-c', `ulimit -v ${kib} && exec ${quoted}`], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, signal: r.signal, stderr: r.stderr };
}

describe('native limits', () => {
  let dir: string;

  before(() => { dir = tempDir('rerender-native-limits-'); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('given a valid 16000×16000 PNG, when given to synth or flow under an 8 GB address-space limit, then each refuses it with the limit, and nothing aborts', { skip: !LINUX && 'ulimit -v is Linux only' }, async () => {
    const big = path.join(dir, 'big.png');
    await sharp({ create: { width: 16000, height: 16000, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png({ compressionLevel: 1 }).toFile(big);
    const small = path.join(dir, 'small.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 20, b: 30 } } }).png().toFile(small);
    const runs = [
      ['flow', big, big, '--out', path.join(dir, 'x.flo')],
      ['synth', '--style', big, '--guide', big, small, '--out', path.join(dir, 'x.png')],
      ['synth', '--style', small, '--guide', small, big, '--out', path.join(dir, 'y.png')],
    ];
    for (const args of runs) {
      const r = limited(8 * 1024 * 1024, args);
      assert.equal(r.signal, null, `${args[0]} was killed by ${r.signal}: ${r.stderr}`);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /the image is too large \(16000×16000\)/, r.stderr);
      assert.match(r.stderr, PER_SIDE);
      assert.match(r.stderr, /big\.png/, 'the file is named');
    }
  });

  test('given frames within the limit but too large for the memory allowed, when flow runs on two threads, then the engine\'s out-of-memory becomes an error, not an abort', { skip: !LINUX && 'ulimit -v is Linux only' }, async () => {
    const a = path.join(dir, 'a.png'), b = path.join(dir, 'b.png');
    await sharp({ create: { width: 4096, height: 4096, channels: 3, background: { r: 90, g: 120, b: 30 } } }).png().toFile(a);
    await sharp({ create: { width: 4096, height: 4096, channels: 3, background: { r: 95, g: 120, b: 30 } } }).png().toFile(b);
    // 2.5 GB: enough for Node, the frames and the flow fields, not for both directions' pyramids,
    // which are built on the engine's own threads (and there a bad_alloc used to end the process).
    const r = limited(2500 * 1024, ['flow', a, b, '--out', path.join(dir, 'ab.flo'), '--backward', path.join(dir, 'ba.flo'), '--threads', '2', '--preset', 'fast']);
    assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr.slice(0, 400)}`);
    assert.equal(r.code, 1, r.stderr.slice(0, 400));
    assert.match(r.stderr, /the native engine ran out of memory \(std::bad_alloc\); use smaller images/);
  });

  test('given sizes beyond the limit, then every image-taking binding refuses them before allocating anything', async () => {
    const addon = loadAddon<Record<string, (...args: unknown[]) => unknown>>();
    const u8 = new Uint8Array(3), f32 = new Float32Array(2);
    const calls: Array<[string, () => unknown]> = [];
    for (const [w, h] of [[16000, 16000], [8193, 8193], [67_108_865, 1], [1, 67_108_865]]) {
      calls.push(
        [`flowCompute ${w}x${h}`, () => addon.flowCompute(u8, u8, w, h, 3, {})],
        [`flowOcclusion ${w}x${h}`, () => addon.flowOcclusion(f32, f32, w, h)],
        [`flowWarp ${w}x${h}`, () => addon.flowWarp(u8, w, h, 3, f32, true)],
        [`flowSoftMask ${w}x${h}`, () => addon.flowSoftMask(u8, w, h, 1, 3, 1)],
        [`cannyEdges ${w}x${h}`, () => addon.cannyEdges(u8, w, h, 3, {})],
        [`synthesize source ${w}x${h}`, () => addon.synthesize({ sourceWidth: w, sourceHeight: h, targetWidth: 8, targetHeight: 8 })],
        [`synthesize target ${w}x${h}`, () => addon.synthesize({ sourceWidth: 8, sourceHeight: 8, targetWidth: w, targetHeight: h })],
      );
    }
    for (const [name, call] of calls) {
      assert.throws(call, (err: unknown) => err instanceof RangeError && /images may have 1 to 67108864 pixels \(8192x8192\)/.test(err.message) && /\d+x\d+/.test(err.message), name);
    }
  });

  test('given a huge thread count or a bad argument, then the binding clamps or refuses it with a JS error and the process carries on', async () => {
    const addon = loadAddon<Record<string, (...args: unknown[]) => Promise<unknown>>>();
    const frame = new Uint8Array(32 * 32 * 3).fill(100);
    // An absurd thread count is clamped, not tried (it used to fail to start threads inside a thread).
    const flow = (await addon.flowCompute(frame, frame, 32, 32, 3, { threads: 1_000_000, preset: 'fast' })) as { forward: Float32Array };
    assert.equal(flow.forward.length, 32 * 32 * 2);
    assert.throws(() => addon.flowCompute(frame, frame, 32, 32, 3, { preset: 'nope' }), /unknown flow preset/);
  });
});
