// ControlNetModel as an ONNX graph: the UNet encoder half plus the conditioning-image embedding, and
// one zero-conv per skip and for the mid block, scaled by `conditioning_scale` (an input, so one graph
// serves every strength). Outputs are ready to add to the UNet's skips (see ./README.md).
import { GraphBuilder, type GraphOptions } from '../onnx/graph';
import type { ModelDef } from '../onnx/model';
import type { UNetConfig } from './config';
import { conv, shapeOf, silu, type Weights } from './ops';
import { unetEncoder } from './unet';

/** ControlNetConditioningEmbedding: conv_in, SiLU, then (3×3 conv, SiLU) blocks, the odd ones stride 2, conv_out. */
function conditioningEmbedding(g: GraphBuilder, w: Weights, cond: string): string {
  const prefix = 'controlnet_cond_embedding';
  let h = silu(g, conv(g, w, `${prefix}.conv_in`, cond));
  for (let b = 0; w.has(`${prefix}.blocks.${b}.weight`); b++) {
    h = silu(g, conv(g, w, `${prefix}.blocks.${b}`, h, { stride: b % 2 === 1 ? 2 : 1 }));
  }
  return conv(g, w, `${prefix}.conv_out`, h);
}

export function buildControlNet(w: Weights, cfg: UNetConfig, options: GraphOptions): ModelDef {
  const g = new GraphBuilder('controlnet', options);
  const contextWidth = shapeOf(w, 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight')[1];
  const condChannels = shapeOf(w, 'controlnet_cond_embedding.conv_in.weight')[1];
  const sample = g.input('sample', 'float32', ['batch', cfg.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'int64', ['timestep_count']);
  const context = g.input('encoder_hidden_states', 'float32', ['batch', 'tokens', contextWidth]);
  const cond = g.input('controlnet_cond', 'float32', ['batch', condChannels, 'image_height', 'image_width']);
  const scale = g.input('conditioning_scale', 'float32', [1]);

  const { skips, mid } = unetEncoder(g, w, cfg, sample, timestep, context, (h) => g.op('Add', [h, conditioningEmbedding(g, w, cond)]));
  skips.forEach((skip, i) => {
    const residual = g.op('Mul', [conv(g, w, `controlnet_down_blocks.${i}`, skip), scale]);
    g.output(residual, `controlnet_down.${i}`, ['batch', shapeOf(w, `controlnet_down_blocks.${i}.weight`)[0], `h_${i}`, `w_${i}`]);
  });
  const midResidual = g.op('Mul', [conv(g, w, 'controlnet_mid_block', mid), scale]);
  g.output(midResidual, 'controlnet_mid', ['batch', shapeOf(w, 'controlnet_mid_block.weight')[0], 'h_mid', 'w_mid']);
  return g.toModel({ model: 'controlnet' });
}
