// Neural-network layers as ONNX subgraphs (linear, conv, norms, activations, attention), with weights
// looked up by their checkpoint (diffusers / transformers) names. Shapes come from the weights.
import { UserError } from '../errors';
import type { FloatTensor, GraphBuilder } from '../onnx/graph';

/** Where builders read weights from: a loaded checkpoint, or synthetic weights for benchmarks. */
export interface Weights {
  has(name: string): boolean;
  get(name: string): FloatTensor;
  /** Shape without reading the data (checkpoint readers have it from the header). */
  shape?(name: string): number[];
}

/** A weight's shape, read from the header when the source can, so sizes never cost a tensor read. */
export function shapeOf(w: Weights, name: string): number[] {
  if (!w.has(name)) requireWeight(w, name);
  return w.shape ? w.shape(name) : w.get(name).shape;
}

export function requireWeight(w: Weights, name: string): FloatTensor {
  if (!w.has(name)) throw new UserError(`the weights have no tensor "${name}": the model does not match its config (or is not SD1.5-compatible)`);
  return w.get(name);
}

/** torch Linear stores [out, in]; ONNX MatMul wants [in, out]. 1×1 conv kernels count as linear. */
function transposeLinear(t: FloatTensor): FloatTensor {
  const [out, inp] = t.shape;
  const src = t.data;
  const dst = new Float32Array(src.length);
  // In 32×32 tiles: a plain double loop strides through memory and is several times slower on SD1.5's
  // 1280×5120 matrices.
  const T = 32;
  for (let o0 = 0; o0 < out; o0 += T) {
    for (let i0 = 0; i0 < inp; i0 += T) {
      const oEnd = Math.min(o0 + T, out);
      const iEnd = Math.min(i0 + T, inp);
      for (let o = o0; o < oEnd; o++) for (let i = i0; i < iEnd; i++) dst[i * out + o] = src[o * inp + i];
    }
  }
  return { shape: [inp, out], data: dst };
}

/** y = x·Wᵀ + b over the last axis. */
export function linear(g: GraphBuilder, w: Weights, prefix: string, x: string): string {
  const weight = requireWeight(w, `${prefix}.weight`);
  if (weight.shape.length === 4 && (weight.shape[2] !== 1 || weight.shape[3] !== 1)) {
    throw new Error(`${prefix}.weight has shape [${weight.shape}], expected a linear or 1x1 conv weight`);
  }
  const shape2 = { shape: weight.shape.slice(0, 2), data: weight.data };
  let y = g.op('MatMul', [x, g.weight(`${prefix}.weight`, shape2, transposeLinear)]);
  if (w.has(`${prefix}.bias`)) y = g.op('Add', [y, g.weight(`${prefix}.bias`, w.get(`${prefix}.bias`))]);
  return y;
}

export interface ConvOptions {
  stride?: number;
  /** [top, left, bottom, right]; default: k/2 on every side. */
  pads?: [number, number, number, number];
}

/** 2-D convolution with the kernel size and channels taken from `${prefix}.weight` [out, in, kh, kw]. */
export function conv(g: GraphBuilder, w: Weights, prefix: string, x: string, opts: ConvOptions = {}): string {
  const weight = requireWeight(w, `${prefix}.weight`);
  if (weight.shape.length !== 4) throw new Error(`${prefix}.weight has shape [${weight.shape}], expected a conv kernel`);
  const [, , kh, kw] = weight.shape;
  const pads = opts.pads ?? [kh >> 1, kw >> 1, kh >> 1, kw >> 1];
  const inputs = [x, g.weight(`${prefix}.weight`, weight)];
  if (w.has(`${prefix}.bias`)) inputs.push(g.weight(`${prefix}.bias`, w.get(`${prefix}.bias`)));
  return g.op('Conv', inputs, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: [opts.stride ?? 1, opts.stride ?? 1] },
    pads: { ints: pads },
  });
}

/** Per-channel affine vector reshaped to [C, 1, 1] so it broadcasts over NCHW. */
function channelVector(t: FloatTensor): FloatTensor {
  return { shape: [t.data.length, 1, 1], data: t.data };
}

/**
 * GroupNorm over NCHW as InstanceNormalization on [N, G, C/G·H·W] plus the per-channel affine.
 * Statistics are computed in float32 even in fp16 graphs (their sums overflow half precision).
 */
export function groupNorm(g: GraphBuilder, w: Weights, prefix: string, x: string, groups: number, eps: number): string {
  const gamma = requireWeight(w, `${prefix}.weight`);
  const channels = gamma.data.length;
  if (channels % groups !== 0) throw new Error(`${prefix}: ${channels} channels cannot form ${groups} groups`);
  const x32 = g.toFloat32(x);
  const grouped = g.op('Reshape', [x32, g.int64([0, groups, -1])]);
  const normed = g.op('InstanceNormalization', [grouped, g.floats(new Float32Array(groups).fill(1), [groups], 'float32'), g.floats(new Float32Array(groups), [groups], 'float32')], { epsilon: { f: eps } });
  const back = g.toActivation(g.op('Reshape', [normed, g.op('Shape', [x])]));
  const scaled = g.op('Mul', [back, g.weight(`${prefix}.weight`, gamma, channelVector)]);
  return g.op('Add', [scaled, g.weight(`${prefix}.bias`, requireWeight(w, `${prefix}.bias`), channelVector)]);
}

/** LayerNorm over the last axis; float32 statistics in fp16 graphs. */
export function layerNorm(g: GraphBuilder, w: Weights, prefix: string, x: string, eps: number): string {
  const gamma = requireWeight(w, `${prefix}.weight`);
  const beta = requireWeight(w, `${prefix}.bias`);
  if (!g.fp16) return g.op('LayerNormalization', [x, g.weight(`${prefix}.weight`, gamma), g.weight(`${prefix}.bias`, beta)], { axis: { i: -1 }, epsilon: { f: eps } });
  // fp16: normalise in float32 with float32 affine parameters, then return to half precision.
  const y = g.op('LayerNormalization', [g.toFloat32(x), g.floats(gamma.data, gamma.shape, 'float32'), g.floats(beta.data, beta.shape, 'float32')], { axis: { i: -1 }, epsilon: { f: eps } });
  return g.toActivation(y);
}

export function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** Exact GELU, 0.5·x·(1 + erf(x/√2)) (the tanh approximation is measurably off for SD's GEGLU). */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Mul', [x, g.scalar(Math.SQRT1_2)])]);
  return g.op('Mul', [g.op('Mul', [x, g.scalar(0.5)]), g.op('Add', [erf, g.scalar(1)])]);
}

/** CLIP's quick_gelu: x·sigmoid(1.702·x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)])])]);
}

/** [B, C, H, W] → [B, H·W, C] (row-major tokens). */
export function toTokens(g: GraphBuilder, x: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, -1])])], { perm: { ints: [0, 2, 1] } });
}

/** [B, H·W, C] → the NCHW shape of `like`. */
export function fromTokens(g: GraphBuilder, tokens: string, like: string): string {
  return g.op('Reshape', [g.op('Transpose', [tokens], { perm: { ints: [0, 2, 1] } }), g.op('Shape', [like])]);
}

/**
 * Scaled dot-product attention, queries [B, N, C] against keys/values [B, M, C], `heads` heads.
 * `mask` (optional, float32 [N, M]) is added to the scores. Plain operators compute the scores and
 * softmax in float32; the fused path uses com.microsoft MultiHeadAttention.
 */
export function attention(g: GraphBuilder, q: string, k: string, v: string, heads: number, channels: number, mask?: string): string {
  const headSize = channels / heads;
  if (!Number.isInteger(headSize)) throw new Error(`attention: ${channels} channels do not split into ${heads} heads`);
  if (g.options.fusedOps && !mask) {
    return g.op('MultiHeadAttention', [q, k, v], { num_heads: { i: heads } }, 'com.microsoft');
  }
  const split = (x: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, heads, headSize])])], { perm: { ints: perm } });
  // Scaling q before the product keeps fp16 scores in range.
  const qh = split(g.op('Mul', [q, g.scalar(1 / Math.sqrt(headSize))]), [0, 2, 1, 3]); // [B, h, N, d]
  const kh = split(k, [0, 2, 3, 1]); // [B, h, d, M]
  const vh = split(v, [0, 2, 1, 3]); // [B, h, M, d]
  let scores = g.toFloat32(g.op('MatMul', [qh, kh]));
  if (mask) scores = g.op('Add', [scores, mask]);
  const probs = g.toActivation(g.op('Softmax', [scores], { axis: { i: -1 } }));
  const out = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: { ints: [0, 2, 1, 3] } });
  return g.op('Reshape', [out, g.int64([0, 0, channels])]);
}
