// FRESCO's decoder self-attention (ALGORITHM.md §6) as one ONNX subgraph per layer: spatial-guided
// queries, temporal-guided attention along flow trajectories, and efficient cross-frame keys/values.
// The batch holds every frame of a FRESCO batch for both CFG branches, branch-major:
// [uncond f0 … f(F−1), cond f0 … f(F−1)], so "the frames of one branch" is a reshape to [2, F·N, C].
import type { GraphBuilder } from '../onnx/graph';
import { attention, linear, shapeOf, type Weights } from './ops';

/** Graph value names of the per-layer inputs the caller feeds (see README.md, "FRESCO"). */
export interface FrescoLayerInputs {
  /** The input frame's own norm1 tokens at this layer [B, N, C] (spatial-guided attention). */
  spatialGuide?: string;
  /** Scalar weight of the spatial guidance (0.2 by default in the method). */
  spatialScale?: string;
  /** Trajectory members of every token of a branch: int64 [F·N, T] indices into [F·N], and float [F·N, T] 0 / −10000. */
  trajectory?: { index: string; bias: string };
  /** The tokens (of a branch, flattened over frames) whose keys/values every frame attends to: int64 [M]. */
  crossFrameIndex?: string;
}

/**
 * Q ← Q + λ·softmax(Q_r K_rᵀ/√d)·Q per head, where Q_r, K_r project the input frame's tokens: each query
 * is mixed with the queries of the patches the input frame says are alike, so structure follows the input.
 */
function spatialGuidedQueries(g: GraphBuilder, w: Weights, prefix: string, q: string, guide: string, scale: string, heads: number, channels: number): string {
  const qr = linear(g, w, `${prefix}.to_q`, guide);
  const kr = linear(g, w, `${prefix}.to_k`, guide);
  const mixed = attention(g, qr, kr, q, heads, channels);
  return g.op('Add', [q, g.op('Mul', [mixed, scale])]);
}

/**
 * Every token attends only to the tokens on its own flow trajectory (its positions in the other frames
 * of the batch); the result replaces the queries, so points that move together ask the same question.
 */
function trajectoryAttention(g: GraphBuilder, q: string, k: string, v: string, index: string, bias: string, heads: number, channels: number): string {
  const d = channels / heads;
  const perBranch = (x: string) => g.op('Reshape', [x, g.int64([2, -1, channels])]);
  const qh = g.op('Reshape', [perBranch(g.op('Mul', [q, g.scalar(1 / Math.sqrt(d))])), g.int64([0, 0, heads, 1, d])]); // [2, FN, h, 1, d]
  const gather = (x: string) => g.op('Reshape', [g.op('Gather', [perBranch(x), index], { axis: { i: 1 } }), g.int64([0, 0, 0, heads, d])]); // [2, FN, T, h, d]
  const kt = g.op('Transpose', [gather(k)], { perm: { ints: [0, 1, 3, 4, 2] } }); // [2, FN, h, d, T]
  const vt = g.op('Transpose', [gather(v)], { perm: { ints: [0, 1, 3, 2, 4] } }); // [2, FN, h, T, d]
  const mask = g.op('Unsqueeze', [g.toFloat32(bias), g.int64([1, 2])]); // [FN, 1, 1, T]
  const scores = g.op('Add', [g.toFloat32(g.op('MatMul', [qh, kt])), mask]);
  const probs = g.toActivation(g.op('Softmax', [scores], { axis: { i: -1 } }));
  const out = g.op('MatMul', [probs, vt]); // [2, FN, h, 1, d]
  return g.op('Reshape', [out, g.op('Shape', [q])]);
}

/**
 * attn1 of a decoder transformer block under FRESCO: to_q/k/v of the frame's tokens, the queries refined
 * by spatial then temporal guidance, then attention to the cross-frame token set (or to the frame itself),
 * then to_out. With no inputs given it computes exactly diffusers' self-attention.
 */
export function frescoSelfAttention(g: GraphBuilder, w: Weights, prefix: string, tokens: string, heads: number, inputs: FrescoLayerInputs): string {
  const channels = shapeOf(w, `${prefix}.to_q.weight`)[0];
  let q = linear(g, w, `${prefix}.to_q`, tokens);
  const k = linear(g, w, `${prefix}.to_k`, tokens);
  const v = linear(g, w, `${prefix}.to_v`, tokens);
  if (inputs.spatialGuide && inputs.spatialScale) q = spatialGuidedQueries(g, w, prefix, q, inputs.spatialGuide, inputs.spatialScale, heads, channels);
  if (inputs.trajectory) q = trajectoryAttention(g, q, k, v, inputs.trajectory.index, inputs.trajectory.bias, heads, channels);
  let out: string;
  if (inputs.crossFrameIndex) {
    const perBranch = (x: string) => g.op('Reshape', [x, g.int64([2, -1, channels])]);
    const pick = (x: string) => g.op('Gather', [perBranch(x), inputs.crossFrameIndex!], { axis: { i: 1 } }); // [2, M, C]
    out = g.op('Reshape', [attention(g, perBranch(q), pick(k), pick(v), heads, channels), g.op('Shape', [tokens])]);
  } else {
    out = attention(g, q, k, v, heads, channels);
  }
  return linear(g, w, `${prefix}.to_out.0`, out);
}
