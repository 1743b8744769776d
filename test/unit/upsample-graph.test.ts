// The VAE decoder's upsampler built as four 2×2 phase convs (graphs/blocks.ts upsample) against what it
// stands for, a nearest 2× resize then the 3×3 conv, on random weights and an odd-sized input, on both
// CPU optimisation levels the runtime uses (the VAE's NCHWc layout and the default).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from '../../native-models/src/runtime/onnxruntime';
import { upsample } from '../../native-models/src/graphs/blocks';
import { conv } from '../../native-models/src/graphs/ops';
import { GraphBuilder } from '../../native-models/src/onnx/graph';
import { encodeModel } from '../../native-models/src/onnx/model';
import { createSessionOn } from '../../native-models/src/runtime/providers';

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return (s / 2147483648) * 2 - 1; });
}

const [OUT, IN, H, W] = [16, 8, 5, 7];
const tensors: Record<string, { shape: number[]; data: Float32Array }> = {
  'up.conv.weight': { shape: [OUT, IN, 3, 3], data: random(OUT * IN * 9, 1) },
  'up.conv.bias': { shape: [OUT], data: random(OUT, 2) },
};
const weights = { has: (n: string) => n in tensors, get: (n: string) => tensors[n] };

for (const convolutionLayout of [false, true]) {
  test(`given a 3×3 upsampler and a ${H}×${W} input, when built in phase form${convolutionLayout ? ' (NCHWc layout)' : ''}, then it matches nearest 2× resize + conv within float rounding`, async () => {
    const g = new GraphBuilder('upsample', { precision: 'fp32' });
    const x = g.input('x', 'float32', [1, IN, H, W]);
    g.output(upsample(g, weights, 'up', x), 'phases', [1, OUT, 2 * H, 2 * W]);
    const resized = g.op('Resize', [x, '', g.floats([1, 1, 2, 2], [4], 'float32')], { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } });
    g.output(conv(g, weights, 'up.conv', resized), 'reference', [1, OUT, 2 * H, 2 * W]);
    const session = await createSessionOn(encodeModel(g.toModel()).toBytes(), 'cpu', { convolutionLayout });
    try {
      const r = await session.run({ x: new ort.Tensor('float32', random(IN * H * W, 3), [1, IN, H, W]) });
      assert.deepEqual(r.phases.dims, [1, OUT, 2 * H, 2 * W]);
      const a = r.phases.data as Float32Array, b = r.reference.data as Float32Array;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst < 1e-5, `largest difference ${worst}`);
    } finally {
      await session.release();
    }
  });
}
