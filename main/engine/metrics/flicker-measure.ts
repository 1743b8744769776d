// Measuring flicker for the timeline's flicker view: the warp error (docs/METHOD.md §7) of every pair of
// consecutive output frames along the source's motion, saved per frame in the project cache under the
// key of what was measured (`flickerMeasureKey`, taken before measuring). Runs in the propagation worker
// (native flow); the editor only looks the saved values up (flicker-metric.ts).
import fs from 'node:fs';
import path from 'node:path';
import { openProjectFlows } from '../propagation/propagate-project';
import { currentOutputFrames, flickerMeasureKey, flickerMeasurePath } from '../project/output-keys';
import type { Project } from '../../../preload/project-schema';
import { measureWarpError } from './warp-error';
import { indexedFrames } from '../media/frames-folder';
import { projectPaths } from '../project/paths';
import { writeFileAtomic } from '../fs/atomic';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';

/** Measures and saves the per-frame warp error; value i is the error of arriving at frame i from i-1. */
export async function measureFlicker(projectFile: string, project: Project, opts: { cancel?: CancelToken; onProgress?: ProgressFn } = {}): Promise<{ mean: number; pairs: number }> {
  const paths = projectPaths(projectFile);
  const key = flickerMeasureKey(projectFile, project);
  const output = currentOutputFrames(projectFile, project);
  if (!output.files.some((f, i) => f && !project.keyframes.some((k) => k.frame === i))) throw new UserError('nothing is propagated yet: propagate first, then measure flicker', paths.outputDir);
  // The project's own flow cache, shared with propagation and rendering (one key, no thrashing).
  const flows = await openProjectFlows(projectFile, project);
  const report = await measureWarpError({ output, source: indexedFrames(paths.framesDir), sourceFlows: (i) => flows.pair(i), cancel: opts.cancel, progress: opts.onProgress });
  const values: Array<number | null> = [];
  for (const p of report.pairs) values[p.index + 1] = p.mse;
  const file = flickerMeasurePath(projectFile, key);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify({ values: Array.from(values, (v) => v ?? null) }));
  // The one file of the layout before keyed measurements says nothing about what it measured: it goes.
  await fs.promises.rm(path.join(paths.cacheDir, 'metrics', 'warp-error.json'), { force: true });
  return { mean: report.mean, pairs: report.pairs.length };
}
