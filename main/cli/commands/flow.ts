// `rerender flow`: dense optical flow between two images, or between every consecutive pair of
// frames in a folder, written as Middlebury .flo files.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext, ParsedArgs } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { readRgb, writePng } from '../../engine/media/image-files';
import { frameFileName } from '../../engine/project/paths';
import { computeFlow, computeForwardFlow, occlusionMask, type ComputeFlowOptions, type FlowPreset } from '../../../native-models/src/flow';
import { writeFlo } from '../../../native-models/src/flo';
import type { FlowField } from '../../../native-models/src/image';

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
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError('not a folder', dir);
  const names = fs.readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.png')).sort();
  if (names.length < 2) throw new UserError(`needs at least two PNG frames, found ${names.length}`, dir);
  await fs.promises.mkdir(outDir, { recursive: true });
  const options = flowOptions(args);
  let previous = await readRgb(path.join(dir, names[0]));
  for (let i = 0; i + 1 < names.length; i++) {
    const next = await readRgb(path.join(dir, names[i + 1]));
    if (next.width !== previous.width || next.height !== previous.height) {
      throw new UserError(`frame size changes from ${previous.width}×${previous.height} to ${next.width}×${next.height}`, path.join(dir, names[i + 1]));
    }
    await writeFlo(path.join(outDir, frameFileName(i, 'flo')), await computeForwardFlow(previous, next, options));
    ctx.err(`flow ${i + 1}/${names.length - 1}: ${names[i]} → ${names[i + 1]}`);
    previous = next;
  }
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, pairs: names.length - 1, out: outDir }));
  else ctx.out(`${names.length - 1} flows written to ${outDir}`);
}

export const flowCommand: Command = {
  name: 'flow',
  summary: 'dense optical flow between two images or consecutive frames of a folder (.flo files)',
  usage: `
usage: rerender flow <a.png> <b.png> --out <fwd.flo> [--backward <bwd.flo>] [--occlusion <mask.png>]
       rerender flow --frames <dir> --out <dir>

The first form writes the flow a→b (pixel p of a moves to p + flow(p) in b); --backward also
writes b→a, and --occlusion a PNG mask of the pixels of b not visible in a (white = occluded).
The second form reads the PNG frames of a folder in name order and writes NNNNN.flo for each
pair i→i+1 (0-based), all in one process. Files use the Middlebury .flo format.

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
