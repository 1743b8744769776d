// `rerender metrics`: temporal consistency of a result, the warp error of docs/METHOD.md §7, per
// frame pair and mean, for a project's output or any folder of frames.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from '../command';
import { UserError } from '../../../native-models/src/errors';
import { readRgb } from '../../engine/media/image-files';
import { measureWarpError } from '../../engine/metrics/warp-error';
import { projectPaths } from '../../engine/project/paths';
import { indexedFrames, orderedFrames, type FrameSequence } from '../../engine/media/frames-folder';
import { ensureFrameCache } from '../../engine/project/source-video';
import { readProjectFile } from '../../engine/project/project-file';
import { currentOutputFrames } from '../../engine/project/output-keys';
import { openProjectFlows } from '../../engine/propagation/propagate-project';
import { computeFlow, type FlowPair } from '../../../native-models/src/flow';
import { count } from '../../../preload/plural';

/** Frames in order and, for a project, the project file (whose flow cache is then used). */
interface FrameSource {
  frames: FrameSequence;
  projectFile?: string;
}

async function resolveTarget(arg: string, role: 'output' | 'source'): Promise<FrameSource> {
  const stat = fs.statSync(arg, { throwIfNoEntry: false });
  if (!stat) throw new UserError('no such project file or frames folder', arg);
  if (stat.isDirectory()) return { frames: orderedFrames(path.resolve(arg)) };
  const paths = projectPaths(arg);
  if (role === 'output') return { frames: currentOutputFrames(paths.file, await readProjectFile(arg)) };
  await ensureFrameCache(arg, await readProjectFile(arg)); // decoded again if the cache was deleted
  return { frames: indexedFrames(paths.framesDir), projectFile: paths.file };
}

export const metricsCommand: Command = {
  name: 'metrics',
  positionals: 1,
  summary: 'warp error (temporal consistency) of a project output or a frames folder',
  usage: `
usage: rerender metrics <project-file | frames-dir> [--source <project-file | frames-dir>] [--json]
                        [--first <i>] [--last <j>]

Warp error: for each pair of consecutive output frames i, i+1, the mean squared
difference between frame i+1 and frame i warped by the SOURCE video's flow i+1→i, over the pixels
the source's forward-backward check marks visible, with values scaled to [0, 1]. Prints each pair
and the mean (lower is steadier).

For a project file the output frames are its propagated output and, unless --source says
otherwise, the source is the project's decoded frames (flows are cached in the project).
A frames folder holds PNG or JPEG frames in any numbering that sorts (ffmpeg's 0001.png from 1,
frame_2.png before frame_10.png); frame k of the output pairs with frame k of the source, and each
line names the files it paired. A frames folder needs --source.

  --first, --last   only pairs inside frames first..last (a segment)
  --json            one JSON object: { ok, mean, pairs: [{ index, mse, visible, files: { output, source } }] }
`,
  async run(args, ctx) {
    const target = args.positional[0];
    if (!target) throw new UserError('missing the project file or frames folder (rerender metrics <project | dir>)');
    const output = await resolveTarget(target, 'output');
    const sourceArg = args.string('source');
    if (!sourceArg && fs.statSync(target).isDirectory()) throw new UserError('a frames folder needs --source <project-file | frames-dir> (the video whose motion is measured)');
    const source = await resolveTarget(sourceArg ?? target, 'source');
    if (!output.frames.files.some(Boolean)) throw new UserError('no output frames yet (propagate first)', output.frames.dir);
    if (!source.frames.files.some(Boolean)) throw new UserError('no source frames', source.frames.dir);

    let sourceFlows: (i: number) => Promise<FlowPair>;
    if (source.projectFile) {
      // The project's own flow cache, under the same key propagation uses, so nothing is recomputed.
      const cache = await openProjectFlows(source.projectFile, await readProjectFile(source.projectFile));
      sourceFlows = (i) => cache.pair(i);
    } else {
      sourceFlows = async (k) => computeFlow(await readRgb(source.frames.files[k]!), await readRgb(source.frames.files[k + 1]!));
    }
    const report = await measureWarpError({
      output: output.frames,
      source: source.frames,
      sourceFlows,
      first: args.int('first'),
      last: args.int('last'),
      progress: (f, message) => ctx.err(`${(f * 100).toFixed(0).padStart(3)} % ${message ?? ''}`),
    });
    if (report.pairs.length === 0) throw new UserError('no two consecutive output frames to compare', output.frames.dir);
    if (ctx.json) {
      ctx.out(JSON.stringify({ ok: true, metric: 'warp-error', range: '[0, 1]', mean: report.mean, pairs: report.pairs }));
      return;
    }
    for (const p of report.pairs) ctx.out(`${p.files!.output.join('→')} (source ${p.files!.source.join('→')})  warp error ${p.mse.toFixed(5)}  (${(p.visible * 100).toFixed(1)} % visible)`);
    ctx.out(`mean warp error ${report.mean.toFixed(5)} over ${count(report.pairs.length, 'pair')} (values in [0, 1])`);
  },
};
