// CLIP text encoder (transformers CLIPTextModel, `text_model.*` weights) as an ONNX graph: ids →
// last_hidden_state, plus the penultimate layer with and without the final LayerNorm for "CLIP skip".
import { GraphBuilder, type GraphOptions } from '../onnx/graph';
import type { ModelDef } from '../onnx/model';
import type { TextEncoderConfig } from './config';
import { attention, layerNorm, linear, quickGelu, gelu, requireWeight, type Weights } from './ops';

const P = 'text_model';

export function buildTextEncoder(w: Weights, cfg: TextEncoderConfig, options: GraphOptions): ModelDef {
  if (cfg.layers < 2) throw new Error('text encoder config: CLIP skip needs at least 2 layers');
  const g = new GraphBuilder('text_encoder', options);
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const seqLen = g.op('Slice', [g.op('Shape', [ids]), g.int64([1]), g.int64([2])]);
  const zero = g.int64([0]);

  const tokenEmbedding = requireWeight(w, `${P}.embeddings.token_embedding.weight`);
  const positions = requireWeight(w, `${P}.embeddings.position_embedding.weight`);
  const tokens = g.op('Gather', [g.weight(`${P}.embeddings.token_embedding.weight`, tokenEmbedding), ids], { axis: { i: 0 } });
  const pos = g.op('Slice', [g.weight(`${P}.embeddings.position_embedding.weight`, positions), zero, seqLen, zero]);
  let x = g.op('Add', [tokens, pos]);

  // Causal mask: token i attends to tokens 0..i. float32 lowest value rather than −∞, as CLIP does.
  const n = positions.shape[0];
  const mask = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) mask[i * n + j] = -3.4028234663852886e38;
  const seq2 = g.op('Concat', [seqLen, seqLen], { axis: { i: 0 } });
  const causal = g.op('Slice', [g.floats(mask, [n, n], 'float32'), g.int64([0, 0]), seq2]);

  const act = cfg.activation === 'quick_gelu' ? quickGelu : gelu;
  const layerOutputs: string[] = [];
  for (let l = 0; l < cfg.layers; l++) {
    const p = `${P}.encoder.layers.${l}`;
    const h = layerNorm(g, w, `${p}.layer_norm1`, x, cfg.eps);
    const q = linear(g, w, `${p}.self_attn.q_proj`, h);
    const k = linear(g, w, `${p}.self_attn.k_proj`, h);
    const v = linear(g, w, `${p}.self_attn.v_proj`, h);
    x = g.op('Add', [x, linear(g, w, `${p}.self_attn.out_proj`, attention(g, q, k, v, cfg.heads, cfg.hiddenSize, causal))]);
    const m = linear(g, w, `${p}.mlp.fc2`, act(g, linear(g, w, `${p}.mlp.fc1`, layerNorm(g, w, `${p}.layer_norm2`, x, cfg.eps))));
    x = g.op('Add', [x, m]);
    layerOutputs.push(x);
  }
  const dims = ['batch', 'sequence', cfg.hiddenSize];
  const penultimate = layerOutputs[cfg.layers - 2];
  g.output(layerNorm(g, w, `${P}.final_layer_norm`, x, cfg.eps), 'last_hidden_state', dims);
  g.output(penultimate, 'penultimate_hidden_state', dims);
  g.output(layerNorm(g, w, `${P}.final_layer_norm`, penultimate, cfg.eps), 'penultimate_final_ln', dims);
  return g.toModel({ model: 'text_encoder' });
}
