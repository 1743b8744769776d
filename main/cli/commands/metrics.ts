// `rerender metrics`: temporal consistency of a result, the warp error of ALGORITHM.md §7, per
// frame pair and mean, for a project's output or any folder of frames.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { readRgb } from '../../engine/media/image-files';
import { measureWarpError } from '../../engine/metrics/warp-error';
import { frameFileName, projectPaths } from '../../engine/project/paths';
import { readProjectFile } from '../../engine/project/project-file';
import { openProjectFlows } from '../../engine/propagation/propagate-project';
import { computeFlow, type FlowPair } from '../../../native-models/src/flow';

/** Frames and, for a project, the project file (whose flow cache is then used). */
interface FrameSource {
  framesDir: string;
  projectFile?: string;
}

function resolveTarget(arg: string, role: 'output' | 'source'): FrameSource {
  if (!fs.existsSync(arg)) throw new UserError('no such project file or frames folder', arg);
  if (fs.statSync(arg).isDirectory()) return { framesDir: path.resolve(arg) };
  const paths = projectPaths(arg);
  return role === 'output' ? { framesDir: paths.outputDir } : { framesDir: paths.framesDir, projectFile: paths.file };
}

export const metricsCommand: Command = {
  name: 'metrics',
  summary: 'warp error (temporal consistency) of a project output or a frames folder',
  usage: `
usage: rerender metrics <project-file | frames-dir> [--source <project-file | frames-dir>] [--json]
                        [--first <i>] [--last <j>]

Warp error (ALGORITHM.md §7): for each pair of consecutive output frames i, i+1, the mean squared
difference between frame i+1 and frame i warped by the SOURCE video's flow i+1→i, over the pixels
the source's forward-backward check marks visible, with values scaled to [0, 1]. Prints each pair
and the mean (lower is steadier).

For a project file the output frames are its propagated output and, unless --source says
otherwise, the source is the project's decoded frames (flows are cached in the project).
A frames folder holds NNNNN.png files; it needs --source.

  --first, --last   only pairs inside frames first..last (a segment)
  --json            one JSON object: { ok, mean, pairs: [{ index, mse, visible }] }
`,
  async run(args, ctx) {
    const target = args.positional[0];
    if (!target) throw new UserError('missing the project file or frames folder (rerender metrics <project | dir>)');
    const output = resolveTarget(target, 'output');
    const sourceArg = args.string('source');
    if (!sourceArg && fs.statSync(target).isDirectory()) throw new UserError('a frames folder needs --source <project-file | frames-dir> (the video whose motion is measured)');
    const source = sourceArg ? resolveTarget(sourceArg, 'source') : resolveTarget(target, 'source');
    if (!fs.existsSync(output.framesDir)) throw new UserError('no output frames yet (propagate first)', output.framesDir);
    if (!fs.existsSync(source.framesDir)) throw new UserError('no source frames (decode the video first)', source.framesDir);

    let sourceFlows: (i: number) => Promise<FlowPair>;
    if (source.projectFile) {
      // The project's own flow cache, under the same key propagation uses, so nothing is recomputed.
      const cache = await openProjectFlows(source.projectFile, await readProjectFile(source.projectFile));
      sourceFlows = (i) => cache.pair(i);
    } else {
      sourceFlows = async (i) => computeFlow(await readRgb(path.join(source.framesDir, frameFileName(i))), await readRgb(path.join(source.framesDir, frameFileName(i + 1))));
    }
    const report = await measureWarpError({
      outputDir: output.framesDir,
      sourceDir: source.framesDir,
      sourceFlows,
      first: args.int('first'),
      last: args.int('last'),
      progress: (f, message) => ctx.err(`${(f * 100).toFixed(0).padStart(3)} % ${message ?? ''}`),
    });
    if (report.pairs.length === 0) throw new UserError('no two consecutive output frames to compare', output.framesDir);
    if (ctx.json) {
      ctx.out(JSON.stringify({ ok: true, metric: 'warp-error', range: '[0, 1]', mean: report.mean, pairs: report.pairs }));
      return;
    }
    for (const p of report.pairs) ctx.out(`${frameFileName(p.index, '').slice(0, -1)}→${frameFileName(p.index + 1, '').slice(0, -1)}  warp error ${p.mse.toFixed(5)}  (${(p.visible * 100).toFixed(1)} % visible)`);
    ctx.out(`mean warp error ${report.mean.toFixed(5)} over ${report.pairs.length} pairs (values in [0, 1])`);
  },
};
