// FRESCO's decoder self-attention (docs/METHOD.md §6) as one ONNX subgraph per layer: spatial-guided
// queries, efficient cross-frame keys/values, and temporal-guided attention along flow trajectories.
// The batch holds every frame of a FRESCO batch for both CFG branches, branch-major:
// [uncond f0 … f(F−1), cond f0 … f(F−1)], so "the frames of one branch" is a reshape to [2, F·N, C].
import type { GraphBuilder } from '../onnx/graph';
import { attention, linear, shapeOf, type Weights } from './ops';

/**
 * Temperature on the trajectory logits, on top of 1/√d, as in the published method: it softens the weights
 * so the members of a trajectory blend rather than the most similar one taking over.
 */
export const TEMPORAL_SCALE = 0.2;

/** Graph value names of the per-layer inputs the caller feeds (see README.md, "FRESCO"). */
export interface FrescoLayerInputs {
  /** The input frame's own norm1 tokens at this layer [B, N, C] (spatial-guided attention). */
  spatialGuide?: string;
  /** Scalar temperature on the guide's self-similarity logits (0.2 in the method; 0 mixes uniformly). */
  spatialScale?: string;
  /** Trajectory members of every token of a branch: int64 [F·N, T] indices into [F·N], and float [F·N, T] 0 / −10000. */
  trajectory?: { index: string; bias: string };
  /** The tokens (of a branch, flattened over frames) whose keys/values every frame attends to: int64 [M]. */
  crossFrameIndex?: string;
}

/**
 * Q ← softmax(λ·Q_r K_rᵀ/√d)·Q per head, where Q_r, K_r project the input frame's tokens: each query becomes
 * a mix of the queries of the patches the input frame says are alike, so structure follows the input.
 */
function spatialGuidedQueries(g: GraphBuilder, w: Weights, prefix: string, q: string, guide: string, scale: string, heads: number, channels: number): string {
  const qr = g.op('Mul', [linear(g, w, `${prefix}.to_q`, guide), scale]);
  const kr = linear(g, w, `${prefix}.to_k`, guide);
  return attention(g, qr, kr, q, heads, channels);
}

/**
 * Every token's attention output is re-mixed, per head, with the outputs of the tokens on its own flow
 * trajectory (its positions in the other frames of the batch), weighted by softmax(0.2·q·k/√d + bias) of
 * the frame's raw queries and keys: points that move together end up with the same features.
 */
function trajectoryAttention(g: GraphBuilder, q: string, k: string, values: string, index: string, bias: string, heads: number, channels: number): string {
  const d = channels / heads;
  const perBranch = (x: string) => g.op('Reshape', [x, g.int64([2, -1, channels])]);
  const qh = g.op('Reshape', [perBranch(g.op('Mul', [q, g.scalar(TEMPORAL_SCALE / Math.sqrt(d))])), g.int64([0, 0, heads, 1, d])]); // [2, FN, h, 1, d]
  const gather = (x: string) => g.op('Reshape', [g.op('Gather', [perBranch(x), index], { axis: { i: 1 } }), g.int64([0, 0, 0, heads, d])]); // [2, FN, T, h, d]
  const kt = g.op('Transpose', [gather(k)], { perm: { ints: [0, 1, 3, 4, 2] } }); // [2, FN, h, d, T]
  const vt = g.op('Transpose', [gather(values)], { perm: { ints: [0, 1, 3, 2, 4] } }); // [2, FN, h, T, d]
  const mask = g.op('Unsqueeze', [g.toFloat32(bias), g.int64([1, 2])]); // [FN, 1, 1, T]
  const scores = g.op('Add', [g.toFloat32(g.op('MatMul', [qh, kt])), mask]);
  const probs = g.toActivation(g.op('Softmax', [scores], { axis: { i: -1 } }));
  const out = g.op('MatMul', [probs, vt]); // [2, FN, h, 1, d]
  return g.op('Reshape', [out, g.op('Shape', [values])]);
}

/**
 * attn1 of a decoder transformer block under FRESCO: to_q/k/v of the frame's tokens; the queries refined by
 * spatial guidance; attention to the cross-frame token set (or to the frame itself); that output re-mixed
 * along flow trajectories (temporal guidance, with the unguided queries and keys); then to_out.
 * With no inputs given it computes exactly diffusers' self-attention.
 */
export function frescoSelfAttention(g: GraphBuilder, w: Weights, prefix: string, tokens: string, heads: number, inputs: FrescoLayerInputs): string {
  const channels = shapeOf(w, `${prefix}.to_q.weight`)[0];
  const q = linear(g, w, `${prefix}.to_q`, tokens);
  const k = linear(g, w, `${prefix}.to_k`, tokens);
  const v = linear(g, w, `${prefix}.to_v`, tokens);
  const guided = inputs.spatialGuide && inputs.spatialScale ? spatialGuidedQueries(g, w, prefix, q, inputs.spatialGuide, inputs.spatialScale, heads, channels) : q;
  let out: string;
  if (inputs.crossFrameIndex) {
    const perBranch = (x: string) => g.op('Reshape', [x, g.int64([2, -1, channels])]);
    const pick = (x: string) => g.op('Gather', [perBranch(x), inputs.crossFrameIndex!], { axis: { i: 1 } }); // [2, M, C]
    out = g.op('Reshape', [attention(g, perBranch(guided), pick(k), pick(v), heads, channels), g.op('Shape', [tokens])]);
  } else {
    out = attention(g, guided, k, v, heads, channels);
  }
  if (inputs.trajectory) out = trajectoryAttention(g, q, k, out, inputs.trajectory.index, inputs.trajectory.bias, heads, channels);
  return linear(g, w, `${prefix}.to_out.0`, out);
}
