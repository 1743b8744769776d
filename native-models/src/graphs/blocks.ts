// The building blocks shared by the UNet, ControlNet and VAE graphs, named as diffusers names them:
// ResnetBlock2D, Transformer2DModel + BasicTransformerBlock, Downsample2D, Upsample2D, the VAE's
// mid-block attention and the sinusoidal timestep embedding.
import type { FloatTensor, GraphBuilder } from '../onnx/graph';
import { attention, conv, fromTokens, gelu, groupNorm, layerNorm, linear, requireWeight, shapeOf, silu, toTokens, type Weights } from './ops';

export interface ResnetOptions {
  groups: number;
  eps: number;
  /** SiLU'd time embedding [B, T] (UNet, ControlNet); absent in the VAE. */
  timeEmbedding?: string;
}

/** ResnetBlock2D: norm → SiLU → conv → (+ time) → norm → SiLU → conv, plus the (1×1) shortcut. */
export function resnet(g: GraphBuilder, w: Weights, prefix: string, x: string, o: ResnetOptions): string {
  let h = conv(g, w, `${prefix}.conv1`, silu(g, groupNorm(g, w, `${prefix}.norm1`, x, o.groups, o.eps)));
  if (o.timeEmbedding && w.has(`${prefix}.time_emb_proj.weight`)) {
    const t = linear(g, w, `${prefix}.time_emb_proj`, o.timeEmbedding);
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.int64([2, 3])])]);
  }
  h = conv(g, w, `${prefix}.conv2`, silu(g, groupNorm(g, w, `${prefix}.norm2`, h, o.groups, o.eps)));
  const shortcut = w.has(`${prefix}.conv_shortcut.weight`) ? conv(g, w, `${prefix}.conv_shortcut`, x) : x;
  return g.op('Add', [shortcut, h]);
}

/** Downsample2D: stride-2 conv; the VAE pads right/bottom only (padding 0 plus a one-sided pad). */
export function downsample(g: GraphBuilder, w: Weights, prefix: string, x: string, padding: number): string {
  const pads: [number, number, number, number] = padding === 0 ? [0, 0, 1, 1] : [padding, padding, padding, padding];
  return conv(g, w, `${prefix}.conv`, x, { stride: 2, pads });
}

/**
 * Upsample2D: nearest-neighbour resize to `sizeOf`'s H×W (2× normally), then a 3×3 conv. Without
 * `sizeOf` (an exact 2×: the VAE decoder) the same sums are made on the low-resolution input: each
 * output phase (even or odd row, even or odd column) sees only two distinct input rows and columns
 * through the 3×3 kernel, so it is a 2×2 conv whose taps are sums of the kernel's (upsamplePhaseKernel),
 * and DepthToSpace interleaves the four phases: 16 multiply-adds per input pixel and channel pair
 * instead of 36, and the 4× larger upsampled input is never made (these convs were about 30 % of a
 * 512×512 decode). The UNet's upsamplers stay resize + conv: sized by a skip of odd size, the last
 * row or column of the resized input is cut off, which the phase form cannot reproduce.
 */
export function upsample(g: GraphBuilder, w: Weights, prefix: string, x: string, sizeOf?: string): string {
  if (!sizeOf) {
    const weight = requireWeight(w, `${prefix}.conv.weight`);
    const [, , kh, kw] = weight.shape;
    if (weight.shape.length !== 4 || kh !== 3 || kw !== 3) throw new Error(`${prefix}.conv.weight has shape [${weight.shape}], expected a 3x3 conv kernel`);
    const bias = w.has(`${prefix}.conv.bias`) ? [g.weight(`${prefix}.conv.bias`, w.get(`${prefix}.conv.bias`))] : [];
    const phases = UPSAMPLE_PHASES.map(({ py, px, kernel }) => g.op('Conv', [x, g.weight(`${prefix}.conv.weight`, weight, kernel), ...bias], {
      kernel_shape: { ints: [2, 2] },
      strides: { ints: [1, 1] },
      // Phase 0 reads input rows i−1 and i for output row 2i, phase 1 rows i and i+1 for row 2i+1.
      pads: { ints: [1 - py, 1 - px, py, px] },
    }));
    return g.op('DepthToSpace', [g.op('Concat', phases, { axis: { i: 1 } })], { blocksize: { i: 2 }, mode: { s: 'DCR' } });
  }
  const shape = g.op('Shape', [x]);
  const target = g.op('Shape', [sizeOf]);
  const sizes = g.op('Concat', [g.op('Slice', [shape, g.int64([0]), g.int64([2])]), g.op('Slice', [target, g.int64([2]), g.int64([4])])], { axis: { i: 0 } });
  const up = g.op('Resize', [x, '', '', sizes], { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } });
  return conv(g, w, `${prefix}.conv`, up);
}

/**
 * The 2×2 kernel [O, I, 2, 2] of output phase (py, px) of a nearest 2× upsample followed by the 3×3
 * kernel `t`: along each axis, phase 0 takes taps {0} and {1, 2} of the 3×3 kernel (input offsets −1, 0),
 * phase 1 takes {0, 1} and {2} (offsets 0, +1).
 */
export function upsamplePhaseKernel(t: FloatTensor, py: number, px: number): FloatTensor {
  const [out, inp] = t.shape;
  const groups = (phase: number) => (phase === 0 ? [[0], [1, 2]] : [[0, 1], [2]]);
  const rows = groups(py), cols = groups(px);
  const data = new Float32Array(out * inp * 4);
  for (let k = 0; k < out * inp; k++) {
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 2; c++) {
        let sum = 0;
        for (const a of rows[r]) for (const b of cols[c]) sum += t.data[k * 9 + a * 3 + b];
        data[k * 4 + r * 2 + c] = sum;
      }
    }
  }
  return { shape: [out, inp, 2, 2], data };
}

/** The four phases in DepthToSpace's DCR channel order (row phase major), each with its named weight transform. */
const UPSAMPLE_PHASES = [0, 1].flatMap((py) => [0, 1].map((px) => ({
  py, px,
  // The graph builder keys a transformed weight by the transform's name.
  kernel: Object.defineProperty((t: FloatTensor) => upsamplePhaseKernel(t, py, px), 'name', { value: `upsamplePhase${py}${px}` }),
})));

/**
 * What a decoder self-attention layer does across frames (docs/METHOD.md §3.1): hand its input tokens
 * (the norm1 output) to `record`, and/or take keys and values from `reference` tokens [B, M, C].
 */
export interface CrossFrameHook {
  record?: (tokens: string) => void;
  reference?: string;
  /** Replaces the whole attn1 (FRESCO's attention, graphs/fresco-attention.ts): tokens → attn1 output. */
  selfAttention?: (tokens: string, attn1Prefix: string) => string;
}

export interface TransformerOptions {
  heads: number;
  /** Text conditioning [B, T, D] for cross-attention. */
  context: string;
  groups: number;
  linearProjection: boolean;
  /** Called for each BasicTransformerBlock's attn1; returns how that layer joins cross-frame attention. */
  crossFrame?: (blockPrefix: string) => CrossFrameHook | undefined;
}

/** diffusers Attention without norm: to_q/k/v (no bias), heads, to_out.0 (with bias). */
export function attentionModule(g: GraphBuilder, w: Weights, prefix: string, queries: string, keysFrom: string, heads: number): string {
  const channels = shapeOf(w, `${prefix}.to_q.weight`)[0];
  const q = linear(g, w, `${prefix}.to_q`, queries);
  const k = linear(g, w, `${prefix}.to_k`, keysFrom);
  const v = linear(g, w, `${prefix}.to_v`, keysFrom);
  return linear(g, w, `${prefix}.to_out.0`, attention(g, q, k, v, heads, channels));
}

/** BasicTransformerBlock: self-attention (cross-frame aware), cross-attention, GEGLU feed-forward. */
function basicTransformerBlock(g: GraphBuilder, w: Weights, prefix: string, x: string, o: TransformerOptions): string {
  const hook = o.crossFrame?.(prefix);
  const n1 = layerNorm(g, w, `${prefix}.norm1`, x, 1e-5);
  hook?.record?.(n1);
  const attn1 = hook?.selfAttention
    ? hook.selfAttention(n1, `${prefix}.attn1`)
    : attentionModule(g, w, `${prefix}.attn1`, n1, hook?.reference ?? n1, o.heads);
  let h = g.op('Add', [attn1, x]);
  const n2 = layerNorm(g, w, `${prefix}.norm2`, h, 1e-5);
  h = g.op('Add', [attentionModule(g, w, `${prefix}.attn2`, n2, o.context, o.heads), h]);
  const n3 = layerNorm(g, w, `${prefix}.norm3`, h, 1e-5);
  const proj = linear(g, w, `${prefix}.ff.net.0.proj`, n3);
  const inner = shapeOf(w, `${prefix}.ff.net.0.proj.weight`)[0] / 2;
  const [hidden, gate] = g.opN('Split', [proj, g.int64([inner, inner])], 2, { axis: { i: -1 } });
  const ff = linear(g, w, `${prefix}.ff.net.2`, g.op('Mul', [hidden, gelu(g, gate)]));
  return g.op('Add', [ff, h]);
}

/** Transformer2DModel (continuous input): GroupNorm(eps 1e-6) → proj_in → blocks → proj_out → + x. */
export function transformer2d(g: GraphBuilder, w: Weights, prefix: string, x: string, o: TransformerOptions): string {
  const normed = groupNorm(g, w, `${prefix}.norm`, x, o.groups, 1e-6);
  let tokens = o.linearProjection
    ? linear(g, w, `${prefix}.proj_in`, toTokens(g, normed))
    : toTokens(g, conv(g, w, `${prefix}.proj_in`, normed));
  for (let b = 0; w.has(`${prefix}.transformer_blocks.${b}.norm1.weight`); b++) {
    tokens = basicTransformerBlock(g, w, `${prefix}.transformer_blocks.${b}`, tokens, o);
  }
  const out = o.linearProjection
    ? fromTokens(g, linear(g, w, `${prefix}.proj_out`, tokens), x)
    : conv(g, w, `${prefix}.proj_out`, fromTokens(g, tokens, x));
  return g.op('Add', [out, x]);
}

/** The VAE's mid-block attention: one head over all pixels, with its own GroupNorm and residual. */
export function vaeAttention(g: GraphBuilder, w: Weights, prefix: string, x: string, groups: number, eps: number): string {
  const tokens = toTokens(g, groupNorm(g, w, `${prefix}.group_norm`, x, groups, eps));
  const attended = attentionModule(g, w, prefix, tokens, tokens, 1);
  return g.op('Add', [fromTokens(g, attended, x), x]);
}

/**
 * Sinusoidal timestep embedding as diffusers computes it in float32: freqs = exp(−ln(10000)·i/(half −
 * shift)), arg = t·freq, output [cos | sin] when flipSinToCos. `timestep` is int64 [1] or [B];
 * `batchOf` supplies the batch size it is broadcast to.
 */
export function timestepEmbedding(g: GraphBuilder, timestep: string, batchOf: string, channels: number, flipSinToCos: boolean, freqShift: number): string {
  const half = channels / 2;
  const freqs = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround(Math.fround(-Math.log(10000) * i) / (half - freqShift));
    freqs[i] = Math.exp(exponent);
  }
  const batch = g.op('Slice', [g.op('Shape', [batchOf]), g.int64([0]), g.int64([1])]);
  const t = g.op('Expand', [g.op('Cast', [timestep], { to: { i: 1 } }), batch]);
  const args = g.op('Mul', [g.op('Unsqueeze', [t, g.int64([1])]), g.floats(freqs, [1, half], 'float32')]);
  const sin = g.op('Sin', [args]);
  const cos = g.op('Cos', [args]);
  return g.toActivation(g.op('Concat', flipSinToCos ? [cos, sin] : [sin, cos], { axis: { i: 1 } }));
}
