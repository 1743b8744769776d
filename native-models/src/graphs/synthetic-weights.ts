// Random UNet and VAE weights for any config, generated on demand tensor by tensor (never held twice),
// under diffusers names: for benchmarks of full-size graphs and for tests of configs no fixture has.
import { unetConfig } from './config';
import type { ConfiguredWeights } from './index';
import type { FloatTensor } from '../onnx/graph';
import type { ModelConfig } from '../weights/sd15-config';

/** Every parameter name and shape of a UNet2DConditionModel with this config (diffusers naming). */
export function unetParameterShapes(config: ModelConfig): Map<string, number[]> {
  const cfg = unetConfig(config);
  const shapes = new Map<string, number[]>();
  const c = cfg.blockOutChannels;
  const temb = c[0] * 4;
  const context = Number(config.cross_attention_dim ?? 768);
  const add = (name: string, shape: number[]) => shapes.set(name, shape);
  const conv = (p: string, out: number, inp: number, k: number) => { add(`${p}.weight`, [out, inp, k, k]); add(`${p}.bias`, [out]); };
  const linear = (p: string, out: number, inp: number, bias = true) => { add(`${p}.weight`, [out, inp]); if (bias) add(`${p}.bias`, [out]); };
  const norm = (p: string, ch: number) => { add(`${p}.weight`, [ch]); add(`${p}.bias`, [ch]); };
  const resnet = (p: string, inp: number, out: number) => {
    norm(`${p}.norm1`, inp); conv(`${p}.conv1`, out, inp, 3); linear(`${p}.time_emb_proj`, out, temb);
    norm(`${p}.norm2`, out); conv(`${p}.conv2`, out, out, 3);
    if (inp !== out) conv(`${p}.conv_shortcut`, out, inp, 1);
  };
  const transformer = (p: string, ch: number) => {
    norm(`${p}.norm`, ch);
    if (cfg.linearProjection) { linear(`${p}.proj_in`, ch, ch); linear(`${p}.proj_out`, ch, ch); } else { conv(`${p}.proj_in`, ch, ch, 1); conv(`${p}.proj_out`, ch, ch, 1); }
    const b = `${p}.transformer_blocks.0`;
    for (const n of ['norm1', 'norm2', 'norm3']) norm(`${b}.${n}`, ch);
    for (const [attn, kvWidth] of [['attn1', ch], ['attn2', context]] as const) {
      linear(`${b}.${attn}.to_q`, ch, ch, false); linear(`${b}.${attn}.to_k`, ch, kvWidth, false); linear(`${b}.${attn}.to_v`, ch, kvWidth, false);
      linear(`${b}.${attn}.to_out.0`, ch, ch);
    }
    linear(`${b}.ff.net.0.proj`, ch * 8, ch); linear(`${b}.ff.net.2`, ch, ch * 4);
  };
  conv('conv_in', c[0], cfg.inChannels, 3);
  linear('time_embedding.linear_1', temb, c[0]); linear('time_embedding.linear_2', temb, temb);
  let ch = c[0];
  cfg.downBlockTypes.forEach((type, i) => {
    for (let j = 0; j < cfg.layersPerBlock; j++) {
      resnet(`down_blocks.${i}.resnets.${j}`, j === 0 ? ch : c[i], c[i]);
      if (type.startsWith('CrossAttn')) transformer(`down_blocks.${i}.attentions.${j}`, c[i]);
    }
    ch = c[i];
    if (i < c.length - 1) conv(`down_blocks.${i}.downsamplers.0.conv`, c[i], c[i], 3);
  });
  const last = c[c.length - 1];
  resnet('mid_block.resnets.0', last, last); transformer('mid_block.attentions.0', last); resnet('mid_block.resnets.1', last, last);
  const rev = [...c].reverse();
  let prev = last;
  cfg.upBlockTypes.forEach((type, i) => {
    const out = rev[i];
    const skipIn = rev[Math.min(i + 1, rev.length - 1)];
    for (let j = 0; j <= cfg.layersPerBlock; j++) {
      const skip = j === cfg.layersPerBlock ? skipIn : out;
      resnet(`up_blocks.${i}.resnets.${j}`, (j === 0 ? prev : out) + skip, out);
      if (type.startsWith('CrossAttn')) transformer(`up_blocks.${i}.attentions.${j}`, out);
    }
    if (i < rev.length - 1) conv(`up_blocks.${i}.upsamplers.0.conv`, out, out, 3);
    prev = out;
  });
  norm('conv_norm_out', c[0]);
  conv('conv_out', Number(config.out_channels ?? 4), c[0], 3);
  return shapes;
}

/** Every parameter name and shape of an AutoencoderKL with this config (diffusers naming, attention as [C, C] linears). */
export function vaeParameterShapes(config: ModelConfig): Map<string, number[]> {
  const c = (config.block_out_channels as number[] | undefined) ?? [128, 256, 512, 512];
  const layers = Number(config.layers_per_block ?? 2);
  const latent = Number(config.latent_channels ?? 4);
  const inChannels = Number(config.in_channels ?? 3), outChannels = Number(config.out_channels ?? 3);
  const shapes = new Map<string, number[]>();
  const add = (name: string, shape: number[]) => shapes.set(name, shape);
  const conv = (p: string, out: number, inp: number, k: number) => { add(`${p}.weight`, [out, inp, k, k]); add(`${p}.bias`, [out]); };
  const norm = (p: string, ch: number) => { add(`${p}.weight`, [ch]); add(`${p}.bias`, [ch]); };
  const resnet = (p: string, inp: number, out: number) => {
    norm(`${p}.norm1`, inp); conv(`${p}.conv1`, out, inp, 3); norm(`${p}.norm2`, out); conv(`${p}.conv2`, out, out, 3);
    if (inp !== out) conv(`${p}.conv_shortcut`, out, inp, 1);
  };
  const mid = (p: string, ch: number) => {
    resnet(`${p}.mid_block.resnets.0`, ch, ch);
    norm(`${p}.mid_block.attentions.0.group_norm`, ch);
    for (const n of ['to_q', 'to_k', 'to_v', 'to_out.0']) { add(`${p}.mid_block.attentions.0.${n}.weight`, [ch, ch]); add(`${p}.mid_block.attentions.0.${n}.bias`, [ch]); }
    resnet(`${p}.mid_block.resnets.1`, ch, ch);
  };
  const last = c[c.length - 1];
  conv('encoder.conv_in', c[0], inChannels, 3);
  let ch = c[0];
  c.forEach((out, i) => {
    for (let j = 0; j < layers; j++) resnet(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? ch : out, out);
    if (i < c.length - 1) conv(`encoder.down_blocks.${i}.downsamplers.0.conv`, out, out, 3);
    ch = out;
  });
  mid('encoder', last);
  norm('encoder.conv_norm_out', last); conv('encoder.conv_out', 2 * latent, last, 3);
  conv('quant_conv', 2 * latent, 2 * latent, 1); conv('post_quant_conv', latent, latent, 1);
  conv('decoder.conv_in', last, latent, 3);
  mid('decoder', last);
  const rev = [...c].reverse();
  ch = last;
  rev.forEach((out, i) => {
    for (let j = 0; j <= layers; j++) resnet(`decoder.up_blocks.${i}.resnets.${j}`, j === 0 ? ch : out, out);
    if (i < rev.length - 1) conv(`decoder.up_blocks.${i}.upsamplers.0.conv`, out, out, 3);
    ch = out;
  });
  norm('decoder.conv_norm_out', c[0]); conv('decoder.conv_out', outChannels, c[0], 3);
  return shapes;
}

/** FNV-1a hash of a tensor name: each tensor gets its own, reproducible random stream. */
function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0 || 1;
}

/**
 * Random weights for `shapes`, scaled like a trained network (≈ unit-variance activations): weights
 * uniform with variance 1/fan_in, norm scales near 1, biases small. Tensors are made when asked for.
 */
export function syntheticWeights(config: ModelConfig, shapes: Map<string, number[]>, seed = 'rerender'): ConfiguredWeights {
  return {
    config,
    has: (name) => shapes.has(name),
    shape: (name) => shapes.get(name)?.slice() ?? [],
    get: (name): FloatTensor => {
      const shape = shapes.get(name);
      if (!shape) throw new Error(`no synthetic tensor "${name}"`);
      const n = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      const isNorm = shape.length === 1 && /norm/.test(name) && name.endsWith('.weight');
      const fanIn = shape.length > 1 ? n / shape[0] : 1;
      const range = shape.length === 1 ? 0.1 : Math.sqrt(3 / fanIn);
      const offset = isNorm ? 1 : 0;
      const scale = (2 * range) / 4294967296;
      // xorshift32 inlined in int32 arithmetic: a full-size UNet is 860 M values.
      let x = seedOf(`${seed}/${name}`) | 0;
      for (let i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        data[i] = offset - range + (x >>> 0) * scale;
      }
      return { shape: shape.slice(), data };
    },
  };
}
