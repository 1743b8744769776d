// A small UNet config no fixture has (3 blocks, odd widths) with random weights, for graph tests.
import { syntheticWeights, unetParameterShapes } from '../../native-models/src/graphs/synthetic-weights';

export const smallUNetConfig = {
  in_channels: 4, out_channels: 4, block_out_channels: [8, 16, 16], layers_per_block: 1,
  down_block_types: ['CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'DownBlock2D'],
  up_block_types: ['UpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D'],
  norm_num_groups: 4, attention_head_dim: 2, cross_attention_dim: 12,
};

export const smallUNetWeights = () => syntheticWeights(smallUNetConfig, unetParameterShapes(smallUNetConfig));
