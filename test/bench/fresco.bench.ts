// Temporal consistency of keyframes: Rerender mode vs FRESCO mode (and independent renders as the baseline)
// on the same small project with the sd-tiny models on CPU at 128×128: warp error (docs/METHOD.md §7,
// Pixel-MSE in [0, 1] units over pixels visible in both) between consecutive keyframe results along the
// input's flow, seconds and UNet calls. Also FRESCO with each component alone. RERENDER_BENCH_FRESCO_KEYS
// sets the keyframe count (default 10, two FRESCO batches of 8).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { computeFlow } from '../../native-models/src/flow';
import type { Image } from '../../native-models/src/image';
import { ModelRuntime } from '../../native-models/src/runtime/model-runtime';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { pairWarpError } from '../../main/engine/metrics/warp-error';
import { defaultExportSettings, defaultPropagationSettings } from '../../main/engine/project/defaults';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { PROJECT_FORMAT, PROJECT_VERSION, type Project } from '../../preload/project-schema';
import { resolveInProject } from '../../main/engine/project/confinement';
import { renderKeyframes } from '../../main/engine/render/render-project';
import { defaultFrescoSettings, frescoComponentsOff, type FrescoSettings } from '../../main/engine/fresco/settings';
import { FIXTURES, graphCache, scene, SIZE, testParams } from '../integration/keyframe-render-scene';

const KEYS = Number(process.env.RERENDER_BENCH_FRESCO_KEYS ?? 10);
const GAP = 2; // frames between keyframes; the scene pans 2 px per frame

async function makeProject(file: string): Promise<void> {
  const paths = projectPaths(file);
  fs.mkdirSync(paths.framesDir, { recursive: true });
  fs.mkdirSync(paths.keyframesDir, { recursive: true });
  const count = (KEYS - 1) * GAP + 1;
  for (let i = 0; i < count; i++) await writePng(path.join(paths.framesDir, frameFileName(i)), scene(2 * i));
  let p: Project = {
    format: PROJECT_FORMAT, version: PROJECT_VERSION, name: 'fresco-bench',
    source: { path: 'pan.mp4', width: SIZE, height: SIZE, rotation: 0, fps: { num: 10, den: 1 }, variableFrameRate: false, durationSeconds: count / 10, hasAudio: false, fileSize: 0, modifiedMs: 0 },
    working: { mode: 'short-side', size: SIZE, crop: null, width: SIZE, height: SIZE },
    frames: { count, fps: { num: 10, den: 1 } },
    mode: 'rerender',
    models: { checkpoint: FIXTURES, vae: null, controlnet: FIXTURES, loras: [], clipSkip: 1 },
    render: testParams({ steps: 20, strength: 0.75 }),
    keyframes: [], propagation: defaultPropagationSettings(), export: defaultExportSettings(),
  };
  p = setKeyframeFrames(p, Array.from({ length: KEYS }, (_, i) => i * GAP));
  await writeProjectFile(file, p);
}

/** Mean warp error between consecutive keyframe results, along the input frames' flow. */
async function keyframeWarpError(file: string): Promise<number> {
  const p = await readProjectFile(file);
  const keys = [...p.keyframes].sort((a, b) => a.frame - b.frame);
  const inputs: Image[] = await Promise.all(keys.map((k) => readRgb(path.join(projectPaths(file).framesDir, frameFileName(k.frame)))));
  const outputs: Image[] = await Promise.all(keys.map((k) => readRgb(resolveInProject(file, k.image!))));
  let sum = 0;
  for (let i = 0; i + 1 < keys.length; i++) sum += (await pairWarpError(outputs[i], outputs[i + 1], await computeFlow(inputs[i], inputs[i + 1]), i)).mse;
  return sum / (keys.length - 1);
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-bench-fresco-'));
  const runtime = new ModelRuntime({ cacheDir: graphCache('fresco-bench'), providers: ['cpu'] });
  const rows: Array<[string, number, number, number]> = [];
  const features: string[] = [];
  try {
    const file = path.join(work, 'pan.rrproj');
    await makeProject(file);
    for (const mode of ['independent', 'rerender'] as const) {
      const t = performance.now();
      const s = await renderKeyframes({ projectFile: file, target: 'all', mode, runtime, cachePrecision: 'fp32' });
      rows.push([mode, await keyframeWarpError(file), (performance.now() - t) / 1000, s.rendered.reduce((a, r) => a + r.unetCalls, 0)]);
    }
    const off = frescoComponentsOff();
    const variants: Array<[string, Partial<FrescoSettings>]> = [
      ['fresco (all components)', {}],
      ['fresco, components off', off],
      ['fresco, spatial attention only', { ...off, spatialAttention: true }],
      ['fresco, cross-frame attention only', { ...off, crossFrameAttention: true }],
      ['fresco, temporal attention only', { ...off, temporalAttention: true }],
      ['fresco, feature optimisation only', { ...off, featureOptimisation: true }],
    ];
    for (const [label, settings] of variants) {
      const t = performance.now();
      const s = await renderKeyframes({ projectFile: file, target: 'all', mode: 'fresco', fresco: { ...defaultFrescoSettings(), ...settings }, runtime });
      rows.push([label, await keyframeWarpError(file), (performance.now() - t) / 1000, Math.round(s.rendered.reduce((a, r) => a + r.unetCalls, 0))]);
      // What the optimisation does to the decoder features it touches (the losses it minimises).
      const runs = s.fresco!.batches.flatMap((b) => b.optimisation);
      if (runs.length) {
        const mean = (f: (r: (typeof runs)[number]) => number) => runs.reduce((a, r) => a + f(r), 0) / runs.length;
        features.push(`${label}: ${runs.length} optimisation runs; feature warp loss ${mean((r) => r.before.warp).toExponential(3)} → ${mean((r) => r.final.warp).toExponential(3)}, self-similarity loss ${mean((r) => r.before.similarity).toExponential(3)} → ${mean((r) => r.final.similarity).toExponential(3)}, mean feature magnitude ${mean((r) => r.magnitude).toExponential(3)}`);
      }
    }
  } finally {
    await runtime.releaseAll();
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log(`FRESCO vs Rerender: ${KEYS} keyframes ${GAP} frames apart (4 px pan between keyframes), sd-tiny on CPU, ${SIZE}×${SIZE}, 20 steps, strength 0.75`);
  console.log('mode                                   warp error (Pixel-MSE, [0,1])   seconds   UNet calls');
  for (const [label, err, sec, calls] of rows) console.log(`${label.padEnd(38)} ${err.toFixed(5).padStart(12)}                 ${sec.toFixed(1).padStart(7)}   ${String(calls).padStart(6)}`);
  console.log('(FRESCO counts one call per batch evaluation of all its frames, encoder and decoder parts together; the extra pass over the input frames included.)');
  for (const line of features) console.log(line);
}

main().catch((err) => { console.error(err); process.exit(1); });
