// Weight loading figures: header parse, lazy per-tensor F16 -> F32 reads over a checkpoint-sized file,
// peak RSS (should stay far below the file size), fp16 conversion, kohya LoRA merge and tokenizer speed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../native-models/src/weights/safetensors';
import { float32ToHalf, halfToFloat32 } from '../../native-models/src/weights/half';
import { applyLoraPatches, type LoraPatch } from '../../native-models/src/weights/lora';
import { ClipTokenizer } from '../../native-models/src/tokenizer';
import { SD_TINY } from '../helpers/fixtures';

const gb = Number(process.env.BENCH_WEIGHTS_GB ?? 1.7); // SD1.5 UNet in fp16 is ~1.7 GB
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weights-bench-'));
const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
let peakRss = 0;
const sampleRss = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
const timer = setInterval(sampleRss, 20);

function time<T>(label: string, fn: () => T): T {
  const t0 = performance.now();
  const r = fn();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return r;
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  // A checkpoint-like file: many 1280-wide tensors (the biggest SD1.5 UNet weights are 1280×1280×3×3).
  const tensorElems = 1280 * 1280 * 9;
  const count = Math.max(1, Math.round((gb * 2 ** 30) / (tensorElems * 2)));
  const file = path.join(dir, 'big.safetensors');
  const chunk = float32ToHalf(Float32Array.from({ length: tensorElems }, (_, i) => Math.sin(i) * 0.05));
  const tensors: Record<string, TensorToWrite> = {};
  for (let i = 0; i < count; i++) tensors[`model.diffusion_model.block.${i}.weight`] = { dtype: 'F16', shape: [1280, 1280, 3, 3], data: chunk };
  await writeSafetensors(file, tensors);
  const bytes = fs.statSync(file).size;
  console.log(`file: ${count} F16 tensors, ${mb(bytes)}`);

  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  const t0 = performance.now();
  const st = await SafetensorsFile.open(file);
  console.log(`open + header validation: ${(performance.now() - t0).toFixed(1)} ms`);
  const t1 = performance.now();
  let sum = 0;
  for (const name of st.tensors.keys()) {
    const w = st.readFloat32Sync(name);
    sum += w[0];
    sampleRss();
  }
  const seconds = (performance.now() - t1) / 1000;
  console.log(`read all tensors F16 -> F32 one at a time: ${seconds.toFixed(2)} s (${(bytes / 2 ** 30 / seconds).toFixed(2)} GiB/s of file), checksum ${sum.toFixed(3)}`);
  console.log(`peak RSS growth while reading: ${mb(peakRss - rssBefore)} (file ${mb(bytes)}, one F32 tensor ${mb(tensorElems * 4)})`);
  await st.close();

  const f32 = halfToFloat32(chunk);
  halfToFloat32(chunk); // warm-up: first calls pay for compilation and page faults
  const half = time(`float32ToHalf of ${(tensorElems / 1e6).toFixed(1)} M values`, () => float32ToHalf(f32));
  time(`halfToFloat32 of ${(tensorElems / 1e6).toFixed(1)} M values`, () => halfToFloat32(half));

  // A rank-32 kohya LoRA module on the largest linear (1280 -> 1280) and conv (1280×1280×3×3) shapes.
  const loraFile = path.join(dir, 'lora.safetensors');
  const r = 32;
  const rand = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.3) * 0.01);
  await writeSafetensors(loraFile, {
    'lin.lora_down.weight': { dtype: 'F32', shape: [r, 1280], data: rand(r * 1280) },
    'lin.lora_up.weight': { dtype: 'F32', shape: [1280, r], data: rand(1280 * r) },
    'conv.lora_down.weight': { dtype: 'F32', shape: [r, 1280, 3, 3], data: rand(r * 1280 * 9) },
    'conv.lora_up.weight': { dtype: 'F32', shape: [1280, r, 1, 1], data: rand(1280 * r) },
  });
  const lora = await SafetensorsFile.open(loraFile);
  const patch = (key: string): LoraPatch => ({ lora, multiplier: 0.8, module: { key, down: `${key}.lora_down.weight`, up: `${key}.lora_up.weight`, rank: r, alpha: r / 2 } });
  const linear = rand(1280 * 1280);
  const conv = rand(1280 * 1280 * 9);
  time('LoRA merge rank 32 into 1280×1280 linear', () => applyLoraPatches(linear, [1280, 1280], [patch('lin')]));
  time('LoRA merge rank 32 into 1280×1280×3×3 conv', () => applyLoraPatches(conv, [1280, 1280, 3, 3], [patch('conv')]));
  await lora.close();

  const fixtures = path.join(SD_TINY, 'tokenizer');
  if (fs.existsSync(fixtures)) {
    const t0 = performance.now();
    const tokenizer = await ClipTokenizer.load(fixtures);
    console.log(`tokenizer load (vocab.json + merges.txt): ${(performance.now() - t0).toFixed(1)} ms`);
    const prompt = 'a watercolor painting of a lighthouse at sunset, soft light, masterpiece, best quality, 8k';
    const t = performance.now();
    for (let i = 0; i < 1000; i++) tokenizer.tokenize(`${prompt} ${i}`);
    console.log(`tokenize: ${((performance.now() - t) / 1000).toFixed(3)} ms per prompt (warm cache)`);
  }
}

main().finally(() => {
  clearInterval(timer);
  fs.rmSync(dir, { recursive: true, force: true });
});
