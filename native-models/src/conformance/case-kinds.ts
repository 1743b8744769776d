// One runner per case kind of the conformance format: which graphs to run on which inputs, and which
// results to compare with which expected outputs.
import fs from 'node:fs';
import path from 'node:path';
import * as ort from '../runtime/onnxruntime';
import { crossFrameLayers, looseLayers, strictLayers } from '../graphs';
import { unetConfig } from '../graphs/config';
import { ClipTokenizer } from '../tokenizer';
import type { Component } from '../weights/model-weights';
import type { CaseContext } from './case-context';
import { maxAbsDiff, tokenizerDir } from './manifest';
import { runSchedulerCase } from './scheduler-case';

type Feeds = Record<string, ort.Tensor>;

/** Feeds every case input whose name is also a graph input. */
async function feedsFor(ctx: CaseContext, session: ort.InferenceSession, extra: Feeds = {}): Promise<Feeds> {
  const feeds: Feeds = { ...extra };
  for (const name of session.inputNames) {
    if (!(name in feeds) && name in ctx.spec.inputs) feeds[name] = await ctx.input(name);
  }
  return feeds;
}

/** Compares every graph output that the case also lists, under the same name. */
async function compareOutputs(ctx: CaseContext, results: Feeds, rename: (graphOutput: string) => string = (n) => n): Promise<void> {
  for (const [name, tensor] of Object.entries(results)) {
    const caseName = rename(name);
    if (caseName in ctx.spec.outputs) await ctx.compare(caseName, tensor.data as Float32Array);
  }
}

async function runModel(ctx: CaseContext, component: Component, graph: Parameters<CaseContext['session']>[1], extra?: Feeds): Promise<Feeds> {
  const session = await ctx.session(component, graph);
  return session.run(await feedsFor(ctx, session, extra));
}

/** Concatenates two [B, N, C] token tensors along the token axis, per batch element. */
function concatTokens(a: ort.Tensor, b: ort.Tensor): ort.Tensor {
  const [batch, n1, c] = a.dims;
  const n2 = b.dims[1];
  const out = new Float32Array(batch * (n1 + n2) * c);
  const da = a.data as Float32Array;
  const db = b.data as Float32Array;
  for (let i = 0; i < batch; i++) {
    out.set(da.subarray(i * n1 * c, (i + 1) * n1 * c), i * (n1 + n2) * c);
    out.set(db.subarray(i * n2 * c, (i + 1) * n2 * c), i * (n1 + n2) * c + n1 * c);
  }
  return new ort.Tensor('float32', out, [batch, n1 + n2, c]);
}

/** Record runs on the first and previous frames, then strict and loose injection on the current one. */
async function runCrossFrame(ctx: CaseContext): Promise<void> {
  const unet = await ctx.weights('unet');
  const layers = crossFrameLayers(unetConfig(unet.config), unet);
  const params = ctx.spec.params ?? {};
  const strict = (params.strict_layers as number[] | undefined) ?? strictLayers(layers);
  const loose = (params.loose_layers as number[] | undefined) ?? looseLayers(layers);
  const recordName = (run: string) => (n: string) => (n === 'noise_pred' ? `noise_pred_${run}` : n.replace('recorded_tokens.', `record_${run}.`));

  const recorded: Record<string, Feeds> = {};
  for (const [run, input] of [['first', 'sample_first'], ['prev', 'sample_prev'], ['current_plain', 'sample_current']]) {
    const out = await runModel(ctx, 'unet', { part: 'unet', variant: { record: true } }, { sample: await ctx.input(input) });
    await compareOutputs(ctx, out, recordName(run));
    recorded[run] = out;
  }
  for (const [run, inject] of [['strict', strict], ['loose', loose]] as const) {
    const references: Feeds = {};
    for (const i of inject) references[`reference_tokens.${i}`] = concatTokens(recorded.first[`recorded_tokens.${i}`], recorded.prev[`recorded_tokens.${i}`]);
    const out = await runModel(ctx, 'unet', { part: 'unet', variant: { record: true, inject } }, { sample: await ctx.input('sample_current'), ...references });
    await compareOutputs(ctx, out, recordName(run));
  }
}

/** ControlNet residuals at the case's conditioning scale, then the UNet using them. */
async function runControlNet(ctx: CaseContext): Promise<void> {
  const scale = Number(ctx.spec.params?.conditioning_scale ?? 1);
  const residuals = await runModel(ctx, 'controlnet', { part: 'controlnet' }, { conditioning_scale: new ort.Tensor('float32', Float32Array.of(scale), [1]) });
  await compareOutputs(ctx, residuals);
  await compareOutputs(ctx, await runModel(ctx, 'unet', { part: 'unet', variant: { controlNet: true } }, residuals));
}

async function runTokenizer(ctx: CaseContext): Promise<void> {
  const tokenizer = await ClipTokenizer.load(tokenizerDir(ctx.manifest));
  const data = JSON.parse(await fs.promises.readFile(path.join(ctx.manifest.dir, ctx.spec.file), 'utf8')) as { max_length?: number; cases: Array<{ prompt: string; input_ids: number[]; bpe_ids: number[] }> };
  data.cases.forEach((c, i) => {
    const got = tokenizer.tokenize(c.prompt, data.max_length ?? 77);
    ctx.report(`input_ids[${i}]`, maxAbsDiff(c.input_ids, got.inputIds));
    ctx.report(`bpe_ids[${i}]`, maxAbsDiff(c.bpe_ids, got.bpeIds));
  });
}

/** Merged weights, keyed "<component>.<diffusers name>", against the LoRA-merged weight source. */
async function runLoraMerge(ctx: CaseContext): Promise<void> {
  for (const name of Object.keys(ctx.spec.outputs)) {
    const dot = name.indexOf('.');
    const component = name.slice(0, dot) as Component;
    const weights = await ctx.weights(component);
    await ctx.compare(name, weights.get(name.slice(dot + 1)).data);
  }
}

export async function runCaseKind(ctx: CaseContext): Promise<void> {
  switch (ctx.spec.kind) {
    case 'text_encoder': return compareOutputs(ctx, await runModel(ctx, 'text_encoder', { part: 'text_encoder' }));
    case 'unet': return compareOutputs(ctx, await runModel(ctx, 'unet', { part: 'unet' }));
    case 'controlnet_unet': return runControlNet(ctx);
    case 'unet_crossframe': return runCrossFrame(ctx);
    case 'vae_encode': return compareOutputs(ctx, await runModel(ctx, 'vae', { part: 'vae_encoder' }));
    case 'vae_decode': return compareOutputs(ctx, await runModel(ctx, 'vae', { part: 'vae_decoder' }));
    case 'tokenizer': return runTokenizer(ctx);
    case 'scheduler_ddim': return runSchedulerCase(ctx);
    case 'lora_merge': return runLoraMerge(ctx);
    default: throw new Error(`unknown case kind "${ctx.spec.kind}"`);
  }
}
