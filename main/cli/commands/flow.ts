// `rerender flow`: dense optical flow between two images, or between every consecutive pair of
// frames in a folder, written as Middlebury .flo files.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext, ParsedArgs } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { readRgb, writePng } from '../../engine/media/image-files';
import { frameFileName } from '../../engine/project/paths';
import { listImageSequence } from '../../engine/media/image-sequence';
import { computeFlow, computeForwardFlow, occlusionMask, type ComputeFlowOptions, type FlowPreset } from '../../../native-models/src/flow';
import { writeFlo } from '../../../native-models/src/flo';
import type { FlowField } from '../../../native-models/src/image';
import { count } from '../../../preload/plural';

const PRESETS: readonly FlowPreset[] = ['fast', 'balanced', 'accurate'];

function flowOptions(args: ParsedArgs): ComputeFlowOptions {
  const preset = args.string('preset') ?? 'balanced';
  if (!PRESETS.includes(preset as FlowPreset)) throw new UserError(`--preset must be one of ${PRESETS.join(', ')}, got "${preset}"`);
  const threads = args.int('threads');
  if (threads !== undefined && threads < 1) throw new UserError('--threads must be at least 1');
  return { preset: preset as FlowPreset, threads };
}

function meanMagnitude(flow: FlowField): number {
  let sum = 0;
  for (let i = 0; i < flow.data.length; i += 2) sum += Math.hypot(flow.data[i], flow.data[i + 1]);
  return sum / (flow.data.length / 2);
}

async function flowOfTwoImages(args: ParsedArgs, ctx: CommandContext): Promise<void> {
  const [fileA, fileB] = args.positional;
  if (!fileA || !fileB) throw new UserError('give two images (rerender flow <a.png> <b.png> --out <fwd.flo>) or --frames <dir>');
  const out = args.requireString('out');
  const backwardFile = args.string('backward');
  const occlusionFile = args.string('occlusion');
  const [a, b] = await Promise.all([readRgb(fileA), readRgb(fileB)]);
  if (a.width !== b.width || a.height !== b.height) {
    throw new UserError(`the images differ in size (${a.width}×${a.height} vs ${b.width}×${b.height})`, fileB);
  }
  const options = flowOptions(args);
  const started = performance.now();
  const needBoth = backwardFile !== undefined || occlusionFile !== undefined;
  const pair = needBoth ? await computeFlow(a, b, options) : { forward: await computeForwardFlow(a, b, options), backward: undefined };
  const ms = performance.now() - started;
  await writeFlo(out, pair.forward);
  if (backwardFile && pair.backward) await writeFlo(backwardFile, pair.backward);
  let occludedShare: number | undefined;
  if (occlusionFile && pair.backward) {
    const mask = await occlusionMask({ forward: pair.forward, backward: pair.backward });
    await writePng(occlusionFile, mask);
    occludedShare = mask.data.reduce((n, v) => n + (v ? 1 : 0), 0) / mask.data.length;
  }
  const summary = { ok: true, width: a.width, height: a.height, ms: Math.round(ms), meanMagnitude: meanMagnitude(pair.forward), forward: out, backward: backwardFile, occlusion: occlusionFile, occluded: occludedShare };
  if (ctx.json) ctx.out(JSON.stringify(summary));
  else ctx.out(`${out}: ${a.width}×${a.height}, mean motion ${summary.meanMagnitude.toFixed(2)} px, ${summary.ms} ms${occludedShare !== undefined ? `, ${(occludedShare * 100).toFixed(1)} % occluded` : ''}`);
}

async function flowOfFolder(args: ParsedArgs, ctx: CommandContext): Promise<void> {
  const dir = args.requireString('frames');
  const outDir = args.requireString('out');
  // Read as `rerender new` reads an image sequence (any numbering, ffmpeg's 0001.png from 1; files without
  // a frame number or of another sequence refused, named): consecutive frames are paired in number order.
  const frames = listImageSequence(dir).files;
  if (frames.length < 2) throw new UserError(`needs at least two PNG or JPEG frames, found ${frames.length}`, dir);
  await fs.promises.mkdir(outDir, { recursive: true });
  const options = flowOptions(args);
  const pairs: Array<{ from: string; to: string; flow: string }> = [];
  let previous = await readRgb(frames[0]);
  for (let i = 0; i + 1 < frames.length; i++) {
    const next = await readRgb(frames[i + 1]);
    if (next.width !== previous.width || next.height !== previous.height) {
      throw new UserError(`frame size changes from ${previous.width}×${previous.height} to ${next.width}×${next.height}`, frames[i + 1]);
    }
    const flow = path.join(outDir, frameFileName(i, 'flo'));
    await writeFlo(flow, await computeForwardFlow(previous, next, options));
    pairs.push({ from: path.basename(frames[i]), to: path.basename(frames[i + 1]), flow: path.basename(flow) });
    ctx.err(`flow ${i + 1}/${frames.length - 1}: ${pairs[i].from} → ${pairs[i].to} = ${pairs[i].flow}`);
    previous = next;
  }
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, pairs: pairs.length, out: outDir, paired: pairs }));
  else ctx.out(`${count(pairs.length, 'flow')} written to ${outDir}: ${pairs[0].flow} is ${pairs[0].from} → ${pairs[0].to}, ${pairs[pairs.length - 1].flow} is ${pairs[pairs.length - 1].from} → ${pairs[pairs.length - 1].to}`);
}

export const flowCommand: Command = {
  name: 'flow',
  positionals: 2,
  summary: 'dense optical flow between two images or consecutive frames of a folder (.flo files)',
  usage: `
usage: rerender flow <a.png> <b.png> --out <fwd.flo> [--backward <bwd.flo>] [--occlusion <mask.png>]
       rerender flow --frames <dir> --out <dir>

The first form writes the flow a→b (pixel p of a moves to p + flow(p) in b); --backward also
writes b→a, and --occlusion a PNG mask of the pixels of b not visible in a (white = occluded).
The second form reads the PNG or JPEG frames of a folder in any numbering that sorts (ffmpeg's
0001.png from 1, frame_2.png before frame_10.png) and writes NNNNN.flo for each consecutive pair
(0-based, in that order), naming the files it paired. Files use the Middlebury .flo format.

  --preset fast|balanced|accurate   speed/accuracy trade-off (default balanced)
  --threads <n>                     worker threads (default: every core)
  --json                            one JSON object with the result
`,
  async run(args, ctx) {
    if (args.string('frames') !== undefined) {
      if (args.positional.length) throw new UserError('give either two images or --frames <dir>, not both');
      await flowOfFolder(args, ctx);
    } else {
      await flowOfTwoImages(args, ctx);
    }
  },
};
