// Specification of reading a single file's model config from its tensor names and shapes: full-size SD1.5
// shapes give SD1.5's config (with the family's unrecorded settings), other sizes are read as they are,
// and the settings the weights cannot show are guessed only with a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inferConfig, structureFromWeights } from '../../native-models/src/weights/infer-config';
import { unetParameterShapes, vaeParameterShapes } from '../../native-models/src/graphs/synthetic-weights';
import { loadComponentWeights } from '../../native-models/src/weights/model-weights';
import { SD_TINY } from '../helpers/fixtures';
import { SD15_UNET_CONFIG } from '../../native-models/src/weights/sd15-config';

const lookup = (shapes: Map<string, number[]>) => (name: string) => shapes.get(name);

test('given the tensor shapes of a full-size SD1.5 UNet, when its config is inferred, then it is SD1.5\'s, with the family\'s groups and heads', () => {
  const shapes = unetParameterShapes(SD15_UNET_CONFIG);
  const inferred = inferConfig('unet', [...shapes.keys()], lookup(shapes), '/nowhere/sd15.safetensors');
  assert.equal(inferred.unrecorded, 'SD1.5 family');
  assert.equal(inferred.warning, undefined);
  for (const key of ['block_out_channels', 'layers_per_block', 'down_block_types', 'up_block_types', 'cross_attention_dim', 'in_channels', 'norm_num_groups', 'attention_head_dim']) {
    assert.deepEqual(inferred.config[key], SD15_UNET_CONFIG[key], key);
  }
});

test('given UNets of other structures, when inferred, then widths, blocks per level, attention levels, context width and projection are read from the shapes', () => {
  const config: Record<string, unknown> = { ...SD15_UNET_CONFIG, block_out_channels: [64, 128, 192], down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'], layers_per_block: 1, cross_attention_dim: 1024, use_linear_projection: true, in_channels: 9 };
  const shapes = unetParameterShapes(config);
  const s = structureFromWeights('unet', [...shapes.keys()], lookup(shapes), 'x.safetensors');
  for (const key of ['block_out_channels', 'down_block_types', 'up_block_types', 'layers_per_block', 'cross_attention_dim', 'use_linear_projection', 'in_channels']) {
    assert.deepEqual(s[key], config[key], key);
  }
  const inferred = inferConfig('unet', [...shapes.keys()], lookup(shapes), '/nowhere/odd.safetensors');
  assert.equal(inferred.unrecorded, 'guessed');
  assert.match(inferred.warning ?? '', /odd\.safetensors: its UNet has sizes of no known family .*32 GroupNorm groups assumed/);
});

test('given a component with a tensor the structure needs missing, then inference names the file and the tensor', () => {
  const shapes = unetParameterShapes(SD15_UNET_CONFIG);
  shapes.delete('conv_in.weight');
  assert.throws(() => inferConfig('unet', [...shapes.keys()], lookup(shapes), 'broken.safetensors'), /broken\.safetensors: has no usable tensor "conv_in\.weight"/);
});

test('given the sd-tiny fixture VAE, when random VAE weights are made for its config, then they have exactly its tensor names and shapes (the full-size benches rely on the same shapes for SD1.5)', async () => {
  const weights = await loadComponentWeights(SD_TINY, 'vae');
  try {
    const shapes = vaeParameterShapes(weights.config);
    assert.deepEqual([...shapes.keys()].sort(), weights.names().sort());
    for (const name of weights.names()) assert.deepEqual(shapes.get(name), weights.shape(name), name);
  } finally {
    await weights.close();
  }
});
