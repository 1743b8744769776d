// Rendering one keyframe from its input frame: the anchor (plain SDEdit + ControlNet, recording the caches
// later keyframes need), a later keyframe with the four cross-frame constraints (§3.0: two passes with the
// full first pass, else one pass that takes D from its x̂₀ where pixel-aware fusion starts), an independent render (the baseline without constraints), and the analysis of an imported or painted image
// so that it can serve as anchor or "previous" like a rendered keyframe.
import type { Image } from '../../../native-models/src/image';
import { sdeditStartStep, type SamplerKind } from '../../../native-models/src/scheduler';
import type { RenderParams } from '../../../preload/project-schema';
import { UserError, type CancelToken } from '../../../native-models/src/errors';
import { preserveColours } from './colour-preservation';
import { controlImage } from './control-map';
import type { DiffusionModels } from './diffusion-models';
import { CacheReader, CacheWriter, concatReference, type CachePrecision } from './keyframe-cache';
import { channelStats, imageToSigned } from './latent';
import { gaussianNoise } from './noise';
import { runPass, samplingRun, startingLatent, type LatentShape, type Pass, type PassHooks } from './sampler';
import { inWindow, strictlyInWindow, type ExecutedSteps } from './step-windows';
import {
  align, applyColourAdjustment, applyPixelFusion, applyShapeFusion, decodeToImage, fidelityEncode, LATENT_FACTOR,
  pixelComposite, pixelFusion, shapeFusion, validLatentMask, type PixelFusion,
} from './constraints';

export interface RenderEnv {
  models: DiffusionModels;
  cancel?: CancelToken;
  /** Called after every sampler step (one UNet evaluation of both CFG branches). */
  onStep?(): void;
  /** Precision of the attention tokens on disk (default fp16; fp32 for exactness checks). */
  cachePrecision?: CachePrecision;
}

export interface FrameInput {
  /** The video frame at the working resolution. */
  frame: Image;
  params: RenderParams;
  /** ONNX soft-edge or depth detector for those ControlNet types. */
  detector?: string;
}

/** Where to write a cache and the key that names what produced it. */
export interface CacheTarget { dir: string; key: string }

interface Prepared {
  latent: LatentShape;
  sampler: SamplerKind;
  steps: number;
  startStep: number;
  context: Float32Array;
  control?: Pass['control'];
  noise: Float32Array;
  /** x_{s*}. */
  start: Float32Array;
}

/** UNet evaluations a render will make, for progress and ETA. */
export function plannedSteps(params: RenderParams, kind: 'anchor' | 'later' | 'independent' | 'analysis'): number {
  const run = params.steps - sdeditStartStep(params.steps, params.strength);
  // With the full first pass, a later keyframe's pass 2 runs from the first pixel-fused step (it shares
  // pass 1's steps before it); otherwise the one pass continues there.
  const second = kind === 'later' && pixelFusionRuns(params) && params.constraints.fullFirstPass ? params.steps - firstPixelFusionStep(params) : 0;
  const colour = params.colorPreservation && (kind === 'anchor' || kind === 'independent') ? params.steps : 0;
  return run + second + colour;
}

/**
 * Whether pixel-aware fusion acts on any step this run executes. When it does not, pass 2 would repeat
 * pass 1 exactly (same noise, same hooks), so a later keyframe runs one pass and skips the pixel
 * composite and its fidelity-oriented encoding: three VAE encodes and three decodes become one and one.
 */
export function pixelFusionRuns(params: RenderParams): boolean {
  return firstPixelFusionStep(params) < params.steps;
}

/** The first executed step pixel-aware fusion acts on (where pass 2 departs from pass 1), or S when none. */
export function firstPixelFusionStep(params: RenderParams): number {
  const run = executedSteps(params);
  for (let s = run.startStep; s < params.steps; s++) if (strictlyInWindow(s, run, params.constraints.pixel)) return s;
  return params.steps;
}

/** The steps s* … S−1 a render with `params` executes (the constraint windows are fractions of them). */
export function executedSteps(params: RenderParams): ExecutedSteps {
  return { startStep: sdeditStartStep(params.steps, params.strength), steps: params.steps };
}

function latentShape(env: RenderEnv, frame: Image): LatentShape {
  if (frame.width % LATENT_FACTOR || frame.height % LATENT_FACTOR) {
    throw new UserError(`frame size ${frame.width}×${frame.height} is not a multiple of ${LATENT_FACTOR}; the working resolution must be`);
  }
  return { channels: env.models.latentChannels, height: frame.height / LATENT_FACTOR, width: frame.width / LATENT_FACTOR };
}

/**
 * Conditioning, control map, seeded noise and the SDEdit starting latent of `image` (the frame, or a
 * colour-matched copy); with `image` undefined no starting latent is made (and nothing is encoded).
 */
async function prepare(env: RenderEnv, input: FrameInput, image: Image | undefined, strength = input.params.strength): Promise<Prepared> {
  const p = input.params;
  const run = samplingRun(p.sampler, p.steps);
  const latent = latentShape(env, input.frame);
  const { context } = await env.models.encodePrompt(p.prompt, p.negativePrompt);
  const controlMap = await controlImage(input.frame, p.controlnet, env.models.hasControlNet, input.detector);
  const noise = gaussianNoise(p.seed, latent.channels * latent.height * latent.width);
  const startStep = sdeditStartStep(p.steps, strength);
  const z0 = startStep > 0 && image ? await env.models.encode(imageToSigned(image)) : undefined;
  return {
    latent, sampler: run.sampler, steps: p.steps, startStep, context, noise,
    control: controlMap ? { image: controlMap, strength: p.controlnet.strength } : undefined,
    start: startingLatent(run, startStep, z0, noise),
  };
}

function pass(env: RenderEnv, prep: Prepared, cfg: number, hooks?: PassHooks, start = prep.start): Pass {
  return {
    sampler: prep.sampler, steps: prep.steps, startStep: prep.startStep, cfg, context: prep.context, control: prep.control, noise: prep.noise,
    start, latent: prep.latent, hooks, cancel: env.cancel, onStep: () => env.onStep?.(),
  };
}

/** §2 colour preservation: a render from pure noise gives the colours; the frame keeps its luminance. */
export async function colourReference(env: RenderEnv, input: FrameInput): Promise<Image> {
  const prep = await prepare(env, input, input.frame, 1);
  const latent = await runPass(env.models, pass(env, prep, input.params.cfg));
  return decodeToImage(env.models, latent, prep.latent.height, prep.latent.width);
}

function cacheWriter(env: RenderEnv, target: CacheTarget, prep: Prepared): CacheWriter {
  const channels = Array.from({ length: env.models.layerCount }, (_, i) => env.models.layerChannels(i));
  return new CacheWriter(target.dir, target.key, prep.steps, env.cachePrecision ?? 'fp16', prep.latent, channels);
}

export interface PlainResult {
  image: Image;
  /** The colour reference used, when colour preservation is on (later keyframes reuse the anchor's). */
  colourReference?: Image;
}

/**
 * The anchor, or an independent render: SDEdit from the frame with ControlNet, no cross-frame constraints.
 * With `record`, every step's tokens, x̂₀ and x̂₀ statistics go to the cache (the "first" cache, §3.0).
 */
export async function renderPlain(env: RenderEnv, input: FrameInput, record?: CacheTarget): Promise<PlainResult> {
  const reference = input.params.colorPreservation ? await colourReference(env, input) : undefined;
  const source = reference ? preserveColours(input.frame, reference) : input.frame;
  const prep = await prepare(env, input, source);
  const writer = record ? cacheWriter(env, record, prep) : undefined;
  try {
    const hooks: PassHooks | undefined = writer && {
      record: () => true,
      afterStep: (s, x0, tokens) => writer.addStep(s, tokens, { value: x0, stats: channelStats(x0, prep.latent.channels) }),
    };
    const latent = await runPass(env.models, pass(env, prep, input.params.cfg, hooks));
    const image = await decodeToImage(env.models, latent, prep.latent.height, prep.latent.width);
    await writer?.finish();
    return { image, colourReference: reference };
  } catch (err) {
    await writer?.discard();
    throw err;
  }
}

/**
 * Caches for a keyframe whose image was imported or painted: its clean latent stands for x̂₀ at every
 * step, and the tokens are those the UNet sees on that latent noised to each step with the run's noise.
 */
export async function analyseImage(env: RenderEnv, input: FrameInput, image: Image, record: CacheTarget): Promise<void> {
  const prep = await prepare(env, input, undefined); // no SDEdit start: the image's own latent is noised below
  const run = samplingRun(prep.sampler, prep.steps);
  const z = await env.models.encode(imageToSigned(image));
  const stats = channelStats(z, prep.latent.channels);
  const writer = cacheWriter(env, record, prep);
  try {
    for (let s = prep.startStep; s < prep.steps; s++) {
      env.cancel?.throwIfCancelled();
      const r = await env.models.predictNoise({ sample: run.addNoise(s, z, prep.noise), timestep: run.timesteps[s], context: prep.context, control: prep.control, record: true }, prep.latent.height, prep.latent.width);
      await writer.addStep(s, r.tokens, { value: z, stats });
      env.onStep?.();
    }
    await writer.finish();
  } catch (err) {
    await writer.discard();
    throw err;
  }
}

/** What a later keyframe is constrained by. */
export interface EarlierKeyframes {
  anchor: { frame: Image; result: Image; cache: CacheReader };
  previous: { frame: Image; result: Image };
  /** The "previous" token cache: the latest keyframe that refreshed it (the anchor's at first). */
  previousTokens: CacheReader;
  colourReference?: Image;
}

export interface LaterResult {
  image: Image;
  /**
   * D, what the pixel composite takes where both earlier keyframes are occluded: pass 1's decoded result
   * with the full first pass, else the decode of its x̂₀ at the step before pixel-aware fusion starts.
   */
  pass1: Image;
  /** The pixel composite I that pass 2 is pulled towards. */
  composite: Image;
}

/** A later keyframe (§3.0 steps 1–7). With `record`, the final pass's tokens become the next "previous" cache. */
export async function renderLater(env: RenderEnv, input: FrameInput, earlier: EarlierKeyframes, record?: CacheTarget): Promise<LaterResult> {
  const p = input.params, k = p.constraints;
  const source = earlier.colourReference ? preserveColours(input.frame, earlier.colourReference) : input.frame;
  const prep = await prepare(env, input, source);
  const channels = prep.latent.channels;
  const anchorAlign = await align(earlier.anchor.frame, input.frame);
  const previousAlign = await align(earlier.previous.frame, input.frame);
  const shape = shapeFusion(anchorAlign);
  const layers = k.looseAttention ? env.models.loose : env.models.strict;
  const executed: ExecutedSteps = { startStep: prep.startStep, steps: p.steps };

  const reference = async (s: number): Promise<Map<number, Float32Array> | undefined> => {
    if (!inWindow(s, executed, k.crossFrame)) return undefined;
    const first = await earlier.anchor.cache.tokens(s);
    if (earlier.previousTokens === earlier.anchor.cache) {
      // The "previous" tokens are the anchor's (until a later keyframe refreshes them): the keys
      // [h_first; h_first] attend exactly as h_first alone (each copy's softmax weight is half, its value
      // counted twice), so the anchor's tokens are passed once, at half the attention's cost.
      return first && new Map(layers.map((i) => [i, first[i]]));
    }
    const prev = await earlier.previousTokens.tokens(s);
    if (!first || !prev) return undefined; // the earlier run never reached this step (a higher SDEdit start)
    return new Map(layers.map((i) => [i, concatReference(first[i], prev[i])]));
  };
  const adjustX0 = async (s: number, x0: Float32Array): Promise<Float32Array> => {
    // Colour first, then shape (§3.4); a step the anchor never ran has nothing to match.
    const stats = inWindow(s, executed, k.color) ? earlier.anchor.cache.stats(s) : undefined;
    if (stats) x0 = applyColourAdjustment(x0, stats, channels);
    const anchorX0 = inWindow(s, executed, k.shape) ? earlier.anchor.cache.x0(s) : undefined;
    if (anchorX0) x0 = await applyShapeFusion(x0, anchorX0, shape, channels);
    return x0;
  };

  const run = samplingRun(prep.sampler, p.steps);
  const writer = record ? cacheWriter(env, record, prep) : undefined;
  const recording: PassHooks = {
    record: () => !!writer,
    afterStep: (s, x0, tokens) => writer?.addStep(s, tokens, { value: x0, stats: channelStats(x0, channels) }),
  };

  if (!pixelFusionRuns(p)) {
    // No step of pass 2 would differ from pass 1: one pass, recorded, decoded once.
    try {
      const latent = await runPass(env.models, pass(env, prep, p.cfg, { reference, adjustX0, ...recording }));
      const image = await decodeToImage(env.models, latent, prep.latent.height, prep.latent.width);
      await writer?.finish();
      return { image, pass1: image, composite: image };
    } catch (err) {
      await writer?.discard();
      throw err;
    }
  }

  // Pixel composite and its fidelity-oriented encoding from D (§3.0 steps 4–5): pixel-aware fusion's target.
  const resumeAt = firstPixelFusionStep(p);
  const height = prep.latent.height, width = prep.latent.width;
  const pixelTarget = async (d: Image) => {
    const composite = await pixelComposite(d, earlier.anchor.result, anchorAlign, earlier.previous.result, previousAlign);
    const encoding = await fidelityEncode(env.models, composite, d);
    const fusion = pixelFusion(encoding, await validLatentMask(anchorAlign, previousAlign), channels, k.fusionStrength, k.detailLevel, k.smoothBoundary);
    return { composite, fusion };
  };
  const fuse = (fusion: PixelFusion) => (s: number, x: Float32Array, d: Float32Array) =>
    strictlyInWindow(s, executed, k.pixel) ? applyPixelFusion(x, d, prep.noise, run.alphaAt(s), fusion) : x;

  if (!k.fullFirstPass) {
    // One pass (render/README.md "Where this differs…"): pass 1's steps up to the pixel window, then D is its
    // x̂₀ of the step before (decoded), and the same pass continues with pixel-aware fusion. Pass 1's later
    // steps only refined D, which the composite takes just where neither earlier keyframe sees.
    let lastX0: Float32Array | undefined;
    let target: { pass1: Image; composite: Image; fuse: ReturnType<typeof fuse> } | undefined;
    try {
      const latent = await runPass(env.models, pass(env, prep, p.cfg, {
        reference, adjustX0, record: recording.record,
        afterStep: (s, x0, tokens) => { lastX0 = x0; return recording.afterStep!(s, x0, tokens); },
        beforeStep: async (s, x, d) => {
          if (s === resumeAt) {
            const d1 = await decodeToImage(env.models, lastX0!, height, width);
            const t = await pixelTarget(d1);
            target = { pass1: d1, composite: t.composite, fuse: fuse(t.fusion) };
          }
          return target ? target.fuse(s, x, d) : x;
        },
      }));
      const image = await decodeToImage(env.models, latent, height, width);
      await writer?.finish();
      return { image, pass1: target!.pass1, composite: target!.composite };
    } catch (err) {
      await writer?.discard();
      throw err;
    }
  }

  // Pass 1: cross-frame attention, shape-aware fusion, colour adjustment. Pass 2 runs the same steps with
  // the same hooks until pixel-aware fusion first acts, so it resumes from pass 1's x and d at that step
  // instead of repeating them, and pass 1 records those steps for it.
  let resume: { x: Float32Array; d: Float32Array } | undefined;
  let pass1: Image;
  try {
    const latent1 = await runPass(env.models, pass(env, prep, p.cfg, {
      reference, adjustX0,
      record: (s) => !!writer && s < resumeAt,
      afterStep: (s, x0, tokens) => (s < resumeAt ? recording.afterStep!(s, x0, tokens) : undefined),
      beforeStep: (s, x, d) => { if (s === resumeAt) resume = { x: x.slice(), d: d.slice() }; return x; },
    }));
    pass1 = await decodeToImage(env.models, latent1, height, width);
  } catch (err) {
    await writer?.discard();
    throw err;
  }

  // Pass 2 from the same noise with pixel-aware fusion.
  try {
    const { composite, fusion } = await pixelTarget(pass1);
    const latent2 = await runPass(env.models, {
      ...pass(env, prep, p.cfg, { reference, adjustX0, ...recording, beforeStep: fuse(fusion) }, resume!.x),
      startStep: resumeAt, direction: resume!.d,
    });
    const image = await decodeToImage(env.models, latent2, height, width);
    await writer?.finish();
    return { image, pass1, composite };
  } catch (err) {
    await writer?.discard();
    throw err;
  }
}
