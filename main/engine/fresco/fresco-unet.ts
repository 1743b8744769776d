// The UNet as FRESCO runs it: a whole batch of frames for both CFG branches in one call (branch-major rows
// [uncond f0 … f(F−1), cond f0 … f(F−1)]), split at the up-block inputs so the features can be optimised
// between the parts, with ControlNet residuals and FRESCO's attention inputs. Graph IO: graphs/README.md.
import * as ort from '../../../native-models/src/runtime/onnxruntime';
import { crossFrameLayers, decoderSkips, describeGraph, type GraphSpec, type UNetDecoderVariant } from '../../../native-models/src/graphs';
import { unetConfig, type UNetConfig } from '../../../native-models/src/graphs/config';
import type { CrossFrameLayer } from '../../../native-models/src/graphs/unet';
import type { LoadedModel, ModelRuntime } from '../../../native-models/src/runtime/model-runtime';
import type { WeightSource } from '../../../native-models/src/weights/model-weights';
import type { DiffusionModels } from '../render/diffusion-models';
import type { Planar } from '../render/latent';

export type Feeds = Record<string, ort.Tensor>;

/** One evaluation of a batch: latents per frame, the timestep, the prompt conditioning, optional control images. */
export interface BatchRequest {
  /** x_t per frame, each C·h·w. */
  samples: Float32Array[];
  latent: { channels: number; height: number; width: number };
  timestep: number;
  /** Per frame: [2, 77, D] (negative, prompt) from DiffusionModels.encodePrompt. */
  contexts: Float32Array[];
  /** ControlNet conditioning per frame and its strength per frame. */
  control?: { images: Planar[]; strengths: number[] };
}

/** Per-frame [2, …] per-branch tensors as one branch-major batch [uncond f0 … f(F−1), cond f0 … f(F−1)]. */
function perFrame(branches: Float32Array[]): Float32Array {
  const frames = branches.length, half = branches[0].length / 2;
  const out = new Float32Array(2 * frames * half);
  for (let b = 0; b < 2; b++) for (let f = 0; f < frames; f++) out.set(branches[f].subarray(b * half, (b + 1) * half), (b * frames + f) * half);
  return out;
}

/** Multiplies the rows of every branch-major [2F, …] tensor by its frame's factor (ControlNet residuals are linear in the scale). */
function scaleRows(tensors: Feeds, factors: number[]): Feeds {
  const F = factors.length, out: Feeds = {};
  for (const [name, t] of Object.entries(tensors)) {
    const data = (t.data as Float32Array).slice(), row = data.length / (2 * F);
    for (let r = 0; r < 2 * F; r++) {
      const k = factors[r % F];
      for (let i = r * row; i < (r + 1) * row; i++) data[i] *= k;
    }
    out[name] = new ort.Tensor('float32', data, t.dims);
  }
  return out;
}

/** Per-frame tensors stacked for both branches, branch-major. */
function bothBranches(items: Float32Array[]): Float32Array {
  const n = items[0].length;
  const out = new Float32Array(2 * items.length * n);
  items.forEach((x, f) => { out.set(x, f * n); out.set(x, (items.length + f) * n); });
  return out;
}

export class FrescoUNet {
  /** UNet calls (encoder + decoder of one batch) so far, for the benchmark. */
  calls = 0;
  readonly cfg: UNetConfig;
  readonly layers: CrossFrameLayer[];
  readonly upBlocks: number;
  private readonly sessions = new Map<string, Promise<LoadedModel>>();

  private constructor(private readonly runtime: ModelRuntime, private readonly unet: WeightSource, private readonly controlnet?: WeightSource) {
    this.cfg = unetConfig(unet.config);
    this.layers = crossFrameLayers(this.cfg, unet);
    this.upBlocks = this.cfg.upBlockTypes.length;
  }

  /**
   * FRESCO's UNet over the weights `models` already holds (the UNet with the project's LoRAs, the
   * ControlNet): nothing is loaded twice, and the weights stay `models`' to close.
   */
  static over(runtime: ModelRuntime, models: DiffusionModels): FrescoUNet {
    return new FrescoUNet(runtime, models.unetWeights, models.controlnetWeights);
  }

  get hasControlNet(): boolean { return this.controlnet !== undefined; }

  private load(spec: GraphSpec, weights: WeightSource): Promise<LoadedModel> {
    const name = describeGraph(spec);
    let s = this.sessions.get(name);
    if (!s) {
      s = this.runtime.load(spec, weights);
      s.catch(() => this.sessions.delete(name));
      this.sessions.set(name, s);
    }
    return s;
  }

  /** The decoder self-attention layers of the `count` highest-resolution attention up blocks. */
  finestLayers(count: number): number[] {
    const blocks = [...new Set(this.layers.map((l) => l.upBlock))].sort((a, b) => b - a).slice(0, count);
    return this.layers.filter((l) => blocks.includes(l.upBlock)).map((l) => l.index);
  }

  /** Token grid [height, width] of decoder self-attention layer i, from the encoder's skip tensors. */
  layerGrid(encoded: Feeds, layer: number): [number, number] {
    const k = decoderSkips(this.cfg, this.unet, this.layers[layer].upBlock, this.layers[layer].upBlock + 1)[0];
    const dims = encoded[`skip.${k}`].dims;
    return [dims[2], dims[3]];
  }

  layerChannels(layer: number): number {
    return this.unet.shape(`${this.layers[layer].module}.to_q.weight`)[0];
  }

  /** The shared inputs of every part: time-independent conditioning tiled per frame. */
  baseFeeds(req: BatchRequest): Feeds {
    const F = req.samples.length, { channels, height, width } = req.latent;
    const d = req.contexts[0].length / (2 * 77);
    return {
      sample: new ort.Tensor('float32', bothBranches(req.samples), [2 * F, channels, height, width]),
      timestep: new ort.Tensor('int64', BigInt64Array.of(BigInt(req.timestep)), [1]),
      encoder_hidden_states: new ort.Tensor('float32', perFrame(req.contexts), [2 * F, 77, d]),
    };
  }

  /** ControlNet (when used) and the encoder part: skip.k, up_input.0, time_embedding. */
  async encode(req: BatchRequest, base = this.baseFeeds(req)): Promise<Feeds> {
    const feeds: Feeds = { ...base };
    const useControl = !!req.control && !!this.controlnet;
    if (useControl) {
      const net = await this.load({ part: 'controlnet' }, this.controlnet!);
      const { images, strengths } = req.control!;
      // One strength for the batch goes into the graph; different ones scale each frame's residuals after it.
      const shared = strengths.every((v) => v === strengths[0]);
      const residuals = await net.run({
        ...base,
        controlnet_cond: new ort.Tensor('float32', bothBranches(images.map((i) => i.data)), [2 * req.samples.length, 3, images[0].height, images[0].width]),
        conditioning_scale: new ort.Tensor('float32', Float32Array.of(shared ? strengths[0] : 1), [1]),
      });
      Object.assign(feeds, shared ? residuals : scaleRows(residuals, strengths));
    }
    const encoder = await this.load({ part: 'unet_encoder', controlNet: useControl }, this.unet);
    this.calls++;
    return { ...base, ...(await encoder.run(feeds)) };
  }

  /** Up blocks first … end−1 from `up_input.<first>`: returns up_input.<end> or noise_pred (+ recorded tokens). */
  async decode(variant: UNetDecoderVariant, feeds: Feeds): Promise<Feeds> {
    const model = await this.load({ part: 'unet_decoder', variant }, this.unet);
    const wanted: Feeds = {};
    for (const name of model.inputNames) {
      if (!feeds[name]) throw new Error(`FRESCO decoder ${describeGraph({ part: 'unet_decoder', variant })}: no value for input ${name}`);
      wanted[name] = feeds[name];
    }
    return model.run(wanted);
  }
}
