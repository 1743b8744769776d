// The flicker view's data: per-frame warp error measured by the propagation worker (metrics/flicker-measure.ts)
// and saved under the key of what it measured (`flickerMeasureKey`: the output frames as they are now,
// the flows, the measure). Reading it is a lookup of the current key: a measurement of other output is
// never shown as this output's.
import fs from 'node:fs';
import { z } from 'zod';
import type { Project } from '../../../preload/project-schema';
import { flickerMeasureKey, flickerMeasurePath, measuresDir } from '../project/output-keys';

export const flickerMetricFile = z.object({ values: z.array(z.number().nullable()) });

export function readFlickerMetric(projectFile: string, p: Project): { available: false; reason: string } | { available: true; values: number[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(flickerMeasurePath(projectFile, flickerMeasureKey(projectFile, p)), 'utf8'));
  } catch {
    const measuredBefore = fs.existsSync(measuresDir(projectFile)) && fs.readdirSync(measuresDir(projectFile)).some((n) => n.endsWith('.json'));
    return { available: false, reason: measuredBefore ? 'the output changed since flicker was last measured: measure it again' : 'no warp-error metric yet: propagate, then measure flicker' };
  }
  const parsed = flickerMetricFile.safeParse(doc);
  if (!parsed.success) return { available: false, reason: 'the warp-error metric file is damaged; measure flicker again to rebuild it' };
  // Frames without a measurement (keyframes, not yet propagated) read as 0 so the strip stays aligned.
  const values = Array.from({ length: p.frames.count }, (_, i) => parsed.data.values[i] ?? 0);
  return { available: true, values };
}
