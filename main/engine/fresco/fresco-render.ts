// Rendering one FRESCO batch of keyframes together (ALGORITHM.md §6): shared noise, DDIM with CFG, the UNet
// split at the up-block inputs with the features optimised between the parts, and the decoder's spatial-,
// temporal- and cross-frame attention fed from the input frames' flow. Each component has its own switch.
import * as ort from 'onnxruntime-node';
import type { UNetDecoderVariant } from '../../../native-models/src/graphs';
import type { Image } from '../../../native-models/src/image';
import { sdeditStartStep } from '../../../native-models/src/scheduler';
import type { CancelToken } from '../errors';
import type { RenderParams } from '../project/schema';
import { decodeToImage, LATENT_FACTOR } from '../render/constraints';
import { controlImage } from '../render/control-map';
import type { DiffusionModels } from '../render/diffusion-models';
import { imageToSigned } from '../render/latent';
import { gaussianNoise } from '../render/noise';
import { ddimRun, requireDdim, startingLatent } from '../render/sampler';
import { UserError } from '../errors';
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
  params: RenderParams;
  settings: FrescoSettings;
  detector?: string;
  /** Needed for background smoothing (see background-smoothing.ts). */
  saliency?: SaliencyModel;
}

export interface FrescoBatchReport {
  /** Per decoder self-attention layer: keys efficient cross-frame attention used, and what full cross-frame attention would. */
  crossFrameKeys: Array<{ layer: number; keys: number; full: number }>;
  /** Every optimisation run: step, up block, CFG branch (0 uncond, 1 cond), losses before and after. */
  optimisation: Array<{ step: number; upBlock: number; branch: number; before: FeatureLosses; final: FeatureLosses }>;
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

export async function renderFrescoBatch(env: FrescoEnv, input: FrescoBatchInput): Promise<FrescoBatchResult> {
  const { params: p, settings: s, frames } = input;
  requireDdim(p.sampler);
  const F = frames.length;
  if (F === 0) return { images: [], latents: [], report: { crossFrameKeys: [], optimisation: [] } };
  const { width, height } = frames[0];
  if (width % LATENT_FACTOR || height % LATENT_FACTOR) throw new UserError(`frame size ${width}×${height} is not a multiple of ${LATENT_FACTOR}; the working resolution must be`);
  const latent = { channels: env.models.latentChannels, height: height / LATENT_FACTOR, width: width / LATENT_FACTOR };
  const { unet, models } = env;
  const run = ddimRun(p.steps);
  const startStep = sdeditStartStep(p.steps, p.strength);
  const { context } = await models.encodePrompt(p.prompt, p.negativePrompt);
  const maps = await Promise.all(frames.map((f) => controlImage(f, p.controlnet, unet.hasControlNet, input.detector)));
  const control = maps.every((m) => m) ? { images: maps.map((m) => m!), strength: p.controlnet.strength } : undefined;
  // One noise for every frame of the run: the same seed's initial latent (and DDIM adds no other noise).
  const noise = gaussianNoise(p.seed, latent.channels * latent.height * latent.width);
  const z0 = startStep > 0 || s.spatialAttention || s.featureOptimisation ? await Promise.all(frames.map((f) => models.encode(imageToSigned(f)))) : undefined;
  let x = frames.map((_, f) => startingLatent(run, startStep, startStep > 0 ? z0![f] : undefined, noise));
  const correspondence = new BatchCorrespondence(await batchMotion(frames), F);
  const parts = decoderParts(unet, s);
  const allLayers = unet.layers.map((l) => l.index);
  const finest = unet.finestLayers(2);
  const report: FrescoBatchReport = { crossFrameKeys: [], optimisation: [] };
  const saliency = s.backgroundSmoothing && input.saliency ? await Promise.all(frames.map((f) => input.saliency!.foreground(f))) : undefined;
  const saliencyGrid = saliency && ((gh: number, gw: number) => saliency.map((m) => foregroundOnGrid(m, gw, gh)));

  // Runs the split UNet once; `decorate` chooses each part's variant and may replace its input features.
  const evaluate = async (samples: Float32Array[], timestep: number, decorate: (first: number, end: number, feeds: Feeds) => Promise<{ variant: UNetDecoderVariant; input?: ort.Tensor }>) => {
    const feeds = await unet.encode({ samples, latent, timestep, context, control });
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
    const noised = z0.map((z) => run.addNoise(startStep, z, noise));
    guide = await evaluate(noised, run.timesteps[startStep], async (a, b) => ({ variant: { first: a, end: partEnd(b), record: true } }));
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
        report.optimisation.push({ step, upBlock: a, branch, before: r.before, final: r.final });
      }
      return { variant, input: new ort.Tensor('float32', result, h.dims) };
    });
    const eps = out.noise_pred.data as Float32Array;
    const n = latent.channels * latent.height * latent.width;
    let x0 = x.map((xf, f) => {
      const e = new Float32Array(n);
      for (let k = 0; k < n; k++) e[k] = eps[f * n + k] + p.cfg * (eps[(F + f) * n + k] - eps[f * n + k]);
      return { x0: run.predictOriginal(step, xf, e), d: run.direction(step, e) };
    });
    if (smoothNow) {
      const smoothed = await smoothBackground(models, x0.map((v) => v.x0), latent, correspondence.motion, saliency!);
      x0 = x0.map((v, f) => ({ ...v, x0: smoothed[f] }));
    }
    const a = Math.sqrt(run.alphaAfter(step));
    x = x0.map(({ x0: o, d }) => Float32Array.from(o, (v, k) => a * v + d[k]));
    env.onStep?.();
  }
  const images: Image[] = [];
  for (const xf of x) images.push(await decodeToImage(models, xf, latent.height, latent.width));
  return { images, latents: x, report };
}
