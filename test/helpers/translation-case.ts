// The known-translation case of the keyframe constraints (issue 18 item 5): a real frame of the bundled
// sample video and the same scene moved by (16, 8) px (both cut from one larger frame, so the revealed
// strip is real picture, not a repeated edge), the anchor rendered on the first, and every constraint
// measured by how far the second keyframe lands from the anchor's result moved the same way, relative to
// an independent render of the second frame (1 = no pull, 0 = exactly the moved anchor).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Image } from '../../native-models/src/image';
import { findTools } from '../../main/engine/media/ffmpeg';
import type { RenderParams } from '../../preload/project-schema';
import type { StepWindow } from '../../main/engine/render/step-windows';
import { CacheReader } from '../../main/engine/render/keyframe-cache';
import { renderLater, renderPlain, type RenderEnv } from '../../main/engine/render/keyframe-render';

export const SHIFT = { dx: 16, dy: 8 };
const SAMPLE = path.join(__dirname, '../../resources/sample/sample.mp4');

/** Frame `index` of the bundled sample clip (768×432, a procedural landscape with texture and parallax). */
export function sampleFrame(index = 30): Image {
  const raw = execFileSync(findTools().ffmpeg, ['-v', 'error', '-i', SAMPLE, '-vf', `select=eq(n\\,${index})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
  const width = 768, height = raw.length / (3 * width);
  if (!Number.isInteger(height)) throw new Error(`the sample clip's frame is not ${width} pixels wide`);
  return { width, height, channels: 3, data: new Uint8Array(raw) };
}

export function crop(img: Image, x0: number, y0: number, size: number): Image {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = img.data[((y0 + y) * img.width + x0 + x) * 3 + c];
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** `img` moved (dx, dy) px (right, down); the revealed strips repeat the edge (they are left out of every comparison). */
export function shifted(img: Image, dx = SHIFT.dx, dy = SHIFT.dy): Image {
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const sx = Math.max(0, x - dx), sy = Math.max(0, y - dy);
      for (let c = 0; c < 3; c++) data[(y * img.width + x) * 3 + c] = img.data[(sy * img.width + sx) * 3 + c];
    }
  }
  return { ...img, data };
}

/** Mean absolute difference (0–255) over the part of the frame both keyframes see (x ≥ dx, y ≥ dy). */
export function seenDifference(a: Image, b: Image): number {
  let sum = 0, n = 0;
  for (let y = SHIFT.dy; y < a.height; y++) {
    for (let x = SHIFT.dx; x < a.width; x++) {
      for (let c = 0; c < 3; c++) { sum += Math.abs(a.data[(y * a.width + x) * 3 + c] - b.data[(y * b.width + x) * 3 + c]); n++; }
    }
  }
  return sum / n;
}

/** The pair: `first` at (x0, y0) of the sample frame, `second` the same scene moved by SHIFT. */
export function framePair(size: number, x0 = 300, y0 = 200): { first: Image; second: Image } {
  const big = sampleFrame();
  return { first: crop(big, x0, y0, size), second: crop(big, x0 - SHIFT.dx, y0 - SHIFT.dy, size) };
}

const OFF: StepWindow = { start: 1, end: 0 };

/** Each constraint alone, all of them (by default, and with the method's full first pass), none (which must equal the independent render). */
export const CONSTRAINT_SETS: Record<string, (k: RenderParams['constraints']) => RenderParams['constraints']> = {
  none: (k) => ({ ...k, crossFrame: OFF, shape: OFF, pixel: OFF, color: OFF }),
  'cross-frame attention': (k) => ({ ...k, shape: OFF, pixel: OFF, color: OFF }),
  'shape-aware fusion': (k) => ({ ...k, crossFrame: OFF, pixel: OFF, color: OFF }),
  'pixel-aware fusion': (k) => ({ ...k, crossFrame: OFF, shape: OFF, color: OFF }),
  'colour adjustment': (k) => ({ ...k, crossFrame: OFF, shape: OFF, pixel: OFF }),
  all: (k) => k,
  'all, full first pass': (k) => ({ ...k, fullFirstPass: true }),
};

export interface TranslationRatios {
  /** Independent render's distance to the moved anchor (0–255). */
  independent: number;
  /** Per constraint set: final, pass 1 and the pixel composite, each relative to `independent`. */
  ratios: Record<string, { result: number; pass1: number; composite: number }>;
}

/** Renders the anchor, the independent second keyframe and the constrained one under each of `sets`. */
export async function measureTranslation(env: RenderEnv, pair: { first: Image; second: Image }, params: RenderParams, sets = Object.keys(CONSTRAINT_SETS)): Promise<TranslationRatios> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-translation-'));
  try {
    const anchor = await renderPlain(env, { frame: pair.first, params }, { dir, key: 'anchor' });
    const cache = CacheReader.open(dir)!;
    const expected = shifted(anchor.image);
    const independent = seenDifference((await renderPlain(env, { frame: pair.second, params })).image, expected);
    const ratios: TranslationRatios['ratios'] = {};
    for (const name of sets) {
      const constrained = { ...params, constraints: CONSTRAINT_SETS[name](params.constraints) };
      const r = await renderLater(env, { frame: pair.second, params: constrained }, {
        anchor: { frame: pair.first, result: anchor.image, cache }, previous: { frame: pair.first, result: anchor.image }, previousTokens: cache,
      });
      const rel = (img: Image) => seenDifference(img, expected) / independent;
      ratios[name] = { result: rel(r.image), pass1: rel(r.pass1), composite: rel(r.composite) };
    }
    return { independent, ratios };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
