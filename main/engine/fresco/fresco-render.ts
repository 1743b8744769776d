// Rendering one FRESCO batch of keyframes together (docs/METHOD.md §6): shared noise, DDIM or DPM++ 2M with CFG, the UNet
// split at the up-block inputs with the features optimised between the parts, and the decoder's spatial-,
// temporal- and cross-frame attention fed from the input frames' flow. Each component has its own switch.
import * as ort from '../../../native-models/src/runtime/onnxruntime';
import type { UNetDecoderVariant } from '../../../native-models/src/graphs';
import type { Image } from '../../../native-models/src/image';
import { sdeditStartStep } from '../../../native-models/src/scheduler';
import type { CancelToken } from '../../../native-models/src/errors';
import type { RenderParams } from '../../../preload/project-schema';
import { decodeToImage, LATENT_FACTOR } from '../render/constraints';
import { controlImage } from '../render/control-map';
import type { DiffusionModels } from '../render/diffusion-models';
import { imageToSigned } from '../render/latent';
import { gaussianNoise } from '../render/noise';
import { samplingRun, startingLatent } from '../render/sampler';
import { batchWideKey } from './batches';
import { preserveColours } from '../render/colour-preservation';
import { UserError } from '../../../native-models/src/errors';
import { foregroundOnGrid, smoothBackground, smoothBackgroundFeatures, type SaliencyModel } from './background-smoothing';
import { batchMotion, revealedTokens, tokenLinks, trajectories, type BatchMotion } from './correspondence';
import { optimiseFeatures, type FeatureLosses, type TokenLinks } from './feature-optimisation';
import type { Feeds, FrescoUNet } from './fresco-unet';
import type { FrescoSettings } from './settings';

export interface FrescoEnv {
  /** Text encoder, VAE and control maps (shared with the Rerender renderer). */
  models: DiffusionModels;
  unet: FrescoUNet;
  cancel?: CancelToken;
  onStep?(): void;
}

export interface FrescoBatchInput {
  /** Input frames of the batch in timeline order (prefix keyframes first), at the working resolution. */
  frames: Image[];
  /**
   * Each frame's render parameters (its keyframe's overrides applied). Prompts, seeds, guidance and
   * ControlNet strength may differ per frame; the schedule (steps, sampler, strength) and the ControlNet
   * type are the batch's, so they must agree (see batchWideKey).
   */
  params: RenderParams[];
  settings: FrescoSettings;
  detector?: string;
  /** Needed for background smoothing (see background-smoothing.ts). */
  saliency?: SaliencyModel;
  /** §2 colour preservation: frames whose parameters ask for it start from their colours matched to this. */
  colourReference?: Image;
}

/** UNet evaluations (of the whole batch) a batch with these parameters makes, for progress. */
export function batchSteps(p: RenderParams, s: FrescoSettings): number {
  const start = sdeditStartStep(p.steps, p.strength);
  const guidePass = start < p.steps && (s.spatialAttention || s.featureOptimisation) ? 1 : 0;
  return p.steps - start + guidePass;
}

export interface FrescoBatchReport {
  /** Per decoder self-attention layer: keys efficient cross-frame attention used, and what full cross-frame attention would. */
  crossFrameKeys: Array<{ layer: number; keys: number; full: number }>;
  /**
   * Every optimisation run: step, up block, CFG branch (0 uncond, 1 cond), losses before and after, and the
   * features' mean magnitude (the absolute Adam step is the relative learning rate times it).
   */
  optimisation: Array<{ step: number; upBlock: number; branch: number; before: FeatureLosses; final: FeatureLosses; magnitude: number }>;
}

export interface FrescoBatchResult {
  images: Image[];
  /** The final latents per frame (what the images decode from). */
  latents: Float32Array[];
  report: FrescoBatchReport;
}

const int64 = (values: ArrayLike<number>, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);

/** Per-grid correspondence tensors, computed once per batch. */
class BatchCorrespondence {
  private readonly links = new Map<string, TokenLinks>();
  private readonly feeds = new Map<string, Feeds>();
  constructor(readonly motion: BatchMotion, private readonly frames: number) {}

  linksAt(height: number, width: number): TokenLinks {
    const key = `${width}x${height}`;
    let l = this.links.get(key);
    if (!l) { l = tokenLinks(this.motion, width, height); this.links.set(key, l); }
    return l;
  }

  /** cross_frame_index.i, trajectory_index.i / trajectory_bias.i for layer i on a height × width grid. */
  layerFeeds(layer: number, height: number, width: number): Feeds {
    const key = `${layer}:${width}x${height}`;
    let f = this.feeds.get(key);
    if (!f) {
      const N = height * width, F = this.frames, links = this.linksAt(height, width);
      const keys = revealedTokens(links, F, N);
      const t = trajectories(links, F, N);
      f = {
        [`cross_frame_index.${layer}`]: int64(keys, [keys.length]),
        [`trajectory_index.${layer}`]: new ort.Tensor('int64', t.index, [F * N, F]),
        [`trajectory_bias.${layer}`]: new ort.Tensor('float32', t.bias, [F * N, F]),
      };
      this.feeds.set(key, f);
    }
    return f;
  }
}

/** Rows of branch b of a [2F, …] tensor as one [F, …] array (and back). */
function branchOf(t: ort.Tensor, b: number): Float32Array {
  const half = (t.data as Float32Array).length / 2;
  return (t.data as Float32Array).slice(b * half, (b + 1) * half);
}

/** The FRESCO decoder parts: boundaries at the optimised up-block inputs. */
function decoderParts(unet: FrescoUNet, s: FrescoSettings): Array<[number, number]> {
  const cuts = new Set([0, unet.upBlocks]);
  if (s.featureOptimisation) for (const k of s.optimisedUpBlocks) if (k > 0 && k < unet.upBlocks) cuts.add(k);
  const sorted = [...cuts].sort((a, b) => a - b);
  return sorted.slice(0, -1).map((a, i) => [a, sorted[i + 1]]);
}

/** Encodes each distinct prompt pair once. */
async function promptContexts(models: DiffusionModels, params: RenderParams[]): Promise<Float32Array[]> {
  const seen = new Map<string, Promise<Float32Array>>();
  return Promise.all(params.map((q) => {
    const key = JSON.stringify([q.prompt, q.negativePrompt]);
    if (!seen.has(key)) seen.set(key, models.encodePrompt(q.prompt, q.negativePrompt).then((r) => r.context));
    return seen.get(key)!;
  }));
}

export async function renderFrescoBatch(env: FrescoEnv, input: FrescoBatchInput): Promise<FrescoBatchResult> {
  const { params, settings: s, frames } = input;
  const F = frames.length;
  if (F === 0) return { images: [], latents: [], report: { crossFrameKeys: [], optimisation: [] } };
  if (params.length !== F) throw new Error(`renderFrescoBatch: ${params.length} parameter sets for ${F} frames`);
  const p = params[0];
  if (params.some((q) => batchWideKey(q) !== batchWideKey(p))) throw new Error('renderFrescoBatch: the frames of a batch must share steps, sampler, strength and ControlNet type');
  const { width, height } = frames[0];
  if (width % LATENT_FACTOR || height % LATENT_FACTOR) throw new UserError(`frame size ${width}×${height} is not a multiple of ${LATENT_FACTOR}; the working resolution must be`);
  const latent = { channels: env.models.latentChannels, height: height / LATENT_FACTOR, width: width / LATENT_FACTOR };
  const n = latent.channels * latent.height * latent.width;
  const { unet, models } = env;
  // One schedule for the batch; a multistep sampler keeps its history per frame.
  const runs = frames.map(() => samplingRun(p.sampler, p.steps));
  const run = runs[0];
  const startStep = sdeditStartStep(p.steps, p.strength);
  const contexts = await promptContexts(models, params);
  const maps = await Promise.all(frames.map((f, i) => controlImage(f, params[i].controlnet, unet.hasControlNet, input.detector)));
  // A frame without a map (its ControlNet strength is 0) still fills its row of the batch, with no effect.
  const someMap = maps.find((m) => m);
  const control = someMap && { images: maps.map((m) => m ?? someMap), strengths: params.map((q, i) => (maps[i] ? q.controlnet.strength : 0)) };
  // Frames with the same seed share their noise (the method's default: one seed for the project, and
  // DDIM adds no other noise); a keyframe with its own seed gets its own.
  const noiseOf = new Map<number, Float32Array>();
  const noises = params.map((q) => { if (!noiseOf.has(q.seed)) noiseOf.set(q.seed, gaussianNoise(q.seed, n)); return noiseOf.get(q.seed)!; });
  const sources = frames.map((f, i) => (params[i].colorPreservation && input.colourReference ? preserveColours(f, input.colourReference) : f));
  const z0 = startStep > 0 || s.spatialAttention || s.featureOptimisation ? await Promise.all(sources.map((f) => models.encode(imageToSigned(f)))) : undefined;
  let x = frames.map((_, f) => startingLatent(run, startStep, startStep > 0 ? z0![f] : undefined, noises[f]));
  const correspondence = new BatchCorrespondence(await batchMotion(frames), F);
  const parts = decoderParts(unet, s);
  const allLayers = unet.layers.map((l) => l.index);
  const finest = unet.finestLayers(2);
  const report: FrescoBatchReport = { crossFrameKeys: [], optimisation: [] };
  const saliency = s.backgroundSmoothing && input.saliency ? await Promise.all(frames.map((f) => input.saliency!.foreground(f))) : undefined;
  const saliencyGrid = saliency && ((gh: number, gw: number) => saliency.map((m) => foregroundOnGrid(m, gw, gh)));

  // Runs the split UNet once; `decorate` chooses each part's variant and may replace its input features.
  const evaluate = async (samples: Float32Array[], timestep: number, decorate: (first: number, end: number, feeds: Feeds) => Promise<{ variant: UNetDecoderVariant; input?: ort.Tensor }>) => {
    const feeds = await unet.encode({ samples, latent, timestep, contexts, control });
    for (const [a, b] of parts) {
      const { variant, input: replaced } = await decorate(a, b, feeds);
      if (replaced) feeds[`up_input.${a}`] = replaced;
      Object.assign(feeds, await unet.decode(variant, feeds));
    }
    return feeds;
  };
  const inPart = (list: number[], a: number, b: number) => list.filter((i) => unet.layers[i].upBlock >= a && unet.layers[i].upBlock < b);
  const partEnd = (b: number) => (b === unet.upBlocks ? undefined : b);

  // The extra pass over the input frames (noised to the first step): their decoder tokens guide the
  // spatial attention, their up-block features give the optimisation its target self-similarity.
  let guide: Feeds | undefined;
  if (startStep < p.steps && z0 && (s.spatialAttention || s.featureOptimisation)) {
    const noised = z0.map((z, f) => run.addNoise(startStep, z, noises[f]));
    guide = await evaluate(noised, run.timesteps[startStep], async (a, b) => ({ variant: { first: a, end: partEnd(b), record: true } }));
    env.onStep?.();
  }

  for (let step = startStep; step < p.steps; step++) {
    env.cancel?.throwIfCancelled();
    const t = run.timesteps[step];
    const smoothNow = !!saliency && s.smoothingSteps.some((q) => Math.round(q * p.steps) === step);
    const spatialNow = s.spatialAttention && step === startStep && !!guide;
    const temporalNow = s.temporalAttention && t >= s.temporalUntilTimestep;
    const optimiseNow = s.featureOptimisation && step < s.optimiseUntil * p.steps && !!guide;
    const out = await evaluate(x, t, async (a, b, feeds) => {
      const variant: UNetDecoderVariant = {
        first: a, end: partEnd(b),
        spatial: spatialNow ? inPart(finest, a, b) : [],
        temporal: temporalNow ? inPart(finest, a, b) : [],
        crossFrame: s.crossFrameAttention ? inPart(allLayers, a, b) : [],
      };
      for (const i of [...new Set([...variant.temporal!, ...variant.crossFrame!])]) {
        const [gh, gw] = unet.layerGrid(feeds, i);
        Object.assign(feeds, correspondence.layerFeeds(i, gh, gw));
        if (step === startStep && variant.crossFrame!.includes(i)) {
          report.crossFrameKeys.push({ layer: i, keys: feeds[`cross_frame_index.${i}`].dims[0], full: F * gh * gw });
        }
      }
      if (spatialNow) {
        feeds.spatial_guidance_scale = new ort.Tensor('float32', Float32Array.of(s.spatialScale), [1]);
        for (const i of variant.spatial!) feeds[`spatial_guide_tokens.${i}`] = guide![`recorded_tokens.${i}`];
      }
      if (!optimiseNow || !s.optimisedUpBlocks.includes(a)) return { variant };
      const h = feeds[`up_input.${a}`];
      const [, C, gh, gw] = h.dims;
      const links = correspondence.linksAt(gh, gw);
      const result = new Float32Array((h.data as Float32Array).length);
      for (let branch = 0; branch < 2; branch++) {
        const r = await optimiseFeatures(branchOf(h, branch), F, C, branchOf(guide![`up_input.${a}`], branch), C, links, s);
        // Background smoothing's masked warp, applied to the optimised features too (§6); the optimisation
        // window (first 15 of 20 steps) ends before the x̂₀ smoothing steps, so this runs wherever it does.
        if (saliencyGrid) smoothBackgroundFeatures(r.features, F, C, links, saliencyGrid(gh, gw));
        result.set(r.features, branch * r.features.length);
        report.optimisation.push({ step, upBlock: a, branch, before: r.before, final: r.final, magnitude: r.magnitude });
      }
      return { variant, input: new ort.Tensor('float32', result, h.dims) };
    });
    const eps = out.noise_pred.data as Float32Array;
    const predicted = x.map((xf, f) => {
      const e = new Float32Array(n), cfg = params[f].cfg;
      for (let k = 0; k < n; k++) e[k] = eps[f * n + k] + cfg * (eps[(F + f) * n + k] - eps[f * n + k]);
      return { eps: e, x0: run.predictOriginal(step, xf, e) };
    });
    let x0 = predicted.map((v) => v.x0);
    if (smoothNow) x0 = await smoothBackground(models, x0, latent, correspondence.motion, saliency!);
    // As in the single-keyframe sampler (sampler.ts runPass): DDIM moves from x̂₀ along its direction term;
    // DPM++ 2M is given the sample that agrees with a replaced x̂₀ and the model's ε.
    const a = Math.sqrt(run.alphaAfter(step));
    x = predicted.map(({ eps: e, x0: original }, f) => {
      if (run.sampler === 'ddim') {
        const d = run.direction(step, e);
        return Float32Array.from(x0[f], (v, k) => a * v + d[k]);
      }
      const sample = x0[f] === original ? x[f] : runs[f].addNoise(step, x0[f], e);
      return runs[f].step(step, sample, e, x0[f]).prevSample;
    });
    env.onStep?.();
  }
  const images: Image[] = [];
  for (const xf of x) images.push(await decodeToImage(models, xf, latent.height, latent.width));
  return { images, latents: x, report };
}
