// Shared material of the keyframe rendering tests: the tiny fixture models, a textured scene with sharp
// edges that can be shifted by a known translation, and image comparisons.
import os from 'node:os';
import path from 'node:path';
import type { Image } from '../../native-models/src/image';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { defaultRenderParams } from '../../main/engine/project/defaults';
import type { RenderParams } from '../../preload/project-schema';
import { DiffusionModels, type ModelFiles } from '../../main/engine/render/diffusion-models';
import { SD_TINY } from '../helpers/fixtures';
import fs from 'node:fs';
import { writePng } from '../../main/engine/media/image-files';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { PROJECT_FORMAT, PROJECT_VERSION, type ModelSelection, type Project } from '../../preload/project-schema';

export const FIXTURES = SD_TINY;
export const SIZE = 128;

/**
 * Compiled tiny graphs are kept between runs (the cache is keyed by the weights' fingerprint); each test
 * file has its own folder, because test files run in parallel and must not write the same graph at once.
 */
export function graphCache(user: string): string {
  return path.join(os.tmpdir(), `rerender-test-graphs-${user}`);
}

export function tinyModelFiles(): ModelFiles {
  return { checkpoint: FIXTURES, controlnet: FIXTURES, loras: [], clipSkip: 1, tokenizer: path.join(FIXTURES, 'tokenizer') };
}

export async function openTinyModels(user: string): Promise<{ runtime: ModelRuntime; models: DiffusionModels }> {
  const runtime = new ModelRuntime({ cacheDir: graphCache(user), providers: ['cpu'] });
  return { runtime, models: await DiffusionModels.open(runtime, tinyModelFiles()) };
}

/** Render settings for tests: few steps, everything else at the method's defaults. */
export function testParams(change: Partial<RenderParams> = {}): RenderParams {
  return { ...defaultRenderParams(), prompt: 'an oil painting of hills', seed: 11, steps: 8, ...change };
}

/** A smooth texture with a bright square (edges for the canny ControlNet), moved `dx` pixels right. */
export function scene(dx: number, size = SIZE): Image {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x - dx;
      const square = u >= 40 && u < 80 && y >= 36 && y < 76;
      const v = square
        ? [235, 220, 90]
        : [128 + 100 * Math.sin(u / 5) * Math.cos(y / 7), 128 + 90 * Math.sin((u + 2 * y) / 9), 128 + 100 * Math.cos(u / 11 - y / 4)];
      for (let c = 0; c < 3; c++) data[(y * size + x) * 3 + c] = Math.round(v[c]);
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** The image moved `dx` pixels right (the left edge repeated into the revealed strip). */
export function shiftRight(img: Image, dx: number): Image {
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const sx = Math.max(0, x - dx);
      for (let c = 0; c < 3; c++) data[(y * img.width + x) * 3 + c] = img.data[(y * img.width + sx) * 3 + c];
    }
  }
  return { ...img, data };
}

/** Mean absolute difference per channel in 0–255 units, over columns from `fromX` on. */
export function meanDifference(a: Image, b: Image, fromX = 0): number {
  let sum = 0, n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = fromX; x < a.width; x++) {
      for (let c = 0; c < 3; c++) { sum += Math.abs(a.data[(y * a.width + x) * 3 + c] - b.data[(y * b.width + x) * 3 + c]); n++; }
    }
  }
  return sum / n;
}

export function maxDifference(a: Image, b: Image): number {
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** A project of `frames` panning scene frames (2 px a frame) with keyframes at `keyframes`, written without a video. */
export async function writeSceneProject(projectFile: string, models: Partial<ModelSelection>, mode: Project['mode'], frames = 4, keyframes = [0, 3]): Promise<void> {
  const paths = projectPaths(projectFile);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  for (let i = 0; i < frames; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(2 * i));
  const p: Project = setKeyframeFrames({
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: path.basename(projectFile),
    source: { path: 'pan.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: frames / 10, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count: frames, fps: { num: 10, den: 1 } },
    mode,
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1, ...models },
    render: testParams({ steps: 4 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  }, keyframes);
  await writeProjectFile(projectFile, p);
}
