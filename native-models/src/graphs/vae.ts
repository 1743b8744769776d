// AutoencoderKL encoder (image → moments, mean, logvar) and decoder (latent → image) as ONNX graphs.
// The SD scaling factor is applied outside (pipeline latents = mean · scaling_factor), see ./README.md.
import { GraphBuilder, type GraphOptions } from '../onnx/graph';
import type { ModelDef } from '../onnx/model';
import { downsample, resnet, upsample, vaeAttention } from './blocks';
import type { VaeConfig } from './config';
import { conv, groupNorm, shapeOf, silu, type Weights } from './ops';

/** The VAE uses eps 1e-6 in every norm (resnets, attention, output norm). */
const VAE_EPS = 1e-6;

function midBlock(g: GraphBuilder, w: Weights, prefix: string, x: string, cfg: VaeConfig): string {
  const res = { groups: cfg.groups, eps: VAE_EPS };
  let h = resnet(g, w, `${prefix}.mid_block.resnets.0`, x, res);
  if (w.has(`${prefix}.mid_block.attentions.0.to_q.weight`)) h = vaeAttention(g, w, `${prefix}.mid_block.attentions.0`, h, cfg.groups, VAE_EPS);
  return resnet(g, w, `${prefix}.mid_block.resnets.1`, h, res);
}

function outputHead(g: GraphBuilder, w: Weights, prefix: string, x: string, cfg: VaeConfig): string {
  return conv(g, w, `${prefix}.conv_out`, silu(g, groupNorm(g, w, `${prefix}.conv_norm_out`, x, cfg.groups, VAE_EPS)));
}

/** image [B,3,H,W] in [−1,1] → moments [B,2·latent,H/8,W/8], mean, logvar (clamped to [−30, 20]). */
export function buildVaeEncoder(w: Weights, cfg: VaeConfig, options: GraphOptions): ModelDef {
  const g = new GraphBuilder('vae_encoder', options);
  const inChannels = shapeOf(w, 'encoder.conv_in.weight')[1];
  const image = g.input('image', 'float32', ['batch', inChannels, 'height', 'width']);
  let h = conv(g, w, 'encoder.conv_in', image);
  cfg.blockOutChannels.forEach((_, i) => {
    for (let j = 0; j < cfg.layersPerBlock; j++) h = resnet(g, w, `encoder.down_blocks.${i}.resnets.${j}`, h, { groups: cfg.groups, eps: VAE_EPS });
    // Padding 0 plus a right/bottom pad of one, as diffusers' Downsample2D does in the VAE.
    if (w.has(`encoder.down_blocks.${i}.downsamplers.0.conv.weight`)) h = downsample(g, w, `encoder.down_blocks.${i}.downsamplers.0`, h, 0);
  });
  h = outputHead(g, w, 'encoder', midBlock(g, w, 'encoder', h, cfg), cfg);
  const moments = w.has('quant_conv.weight') ? conv(g, w, 'quant_conv', h) : h;
  const c = cfg.latentChannels;
  const mean = g.op('Slice', [moments, g.int64([0]), g.int64([c]), g.int64([1])]);
  const logvar = g.op('Clip', [g.op('Slice', [moments, g.int64([c]), g.int64([2 * c]), g.int64([1])]), g.scalar(-30), g.scalar(20)]);
  const latentDims = ['batch', 'latent_height', 'latent_width'];
  g.output(moments, 'moments', [latentDims[0], 2 * c, latentDims[1], latentDims[2]]);
  g.output(mean, 'mean', [latentDims[0], c, latentDims[1], latentDims[2]]);
  g.output(logvar, 'logvar', [latentDims[0], c, latentDims[1], latentDims[2]]);
  return g.toModel({ model: 'vae_encoder' });
}

/** latent [B,latent,h,w] (already divided by the scaling factor) → image [B,3,8h,8w], not clamped. */
export function buildVaeDecoder(w: Weights, cfg: VaeConfig, options: GraphOptions): ModelDef {
  const g = new GraphBuilder('vae_decoder', options);
  const latent = g.input('latent', 'float32', ['batch', cfg.latentChannels, 'latent_height', 'latent_width']);
  let h = w.has('post_quant_conv.weight') ? conv(g, w, 'post_quant_conv', latent) : latent;
  h = midBlock(g, w, 'decoder', conv(g, w, 'decoder.conv_in', h), cfg);
  cfg.blockOutChannels.forEach((_, i) => {
    for (let j = 0; j <= cfg.layersPerBlock; j++) h = resnet(g, w, `decoder.up_blocks.${i}.resnets.${j}`, h, { groups: cfg.groups, eps: VAE_EPS });
    if (w.has(`decoder.up_blocks.${i}.upsamplers.0.conv.weight`)) h = upsample(g, w, `decoder.up_blocks.${i}.upsamplers.0`, h);
  });
  const image = outputHead(g, w, 'decoder', h, cfg);
  g.output(image, 'image', ['batch', shapeOf(w, 'decoder.conv_out.weight')[0], 'height', 'width']);
  return g.toModel({ model: 'vae_decoder' });
}
