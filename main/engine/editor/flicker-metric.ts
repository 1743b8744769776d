// The flicker view's data: per-frame warp error recorded by propagation in the project cache
// (`<cache>/metrics/warp-error.json`: { "values": [number | null, ...] }, one entry per frame).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { projectPaths } from '../project/paths';

const metricFile = z.object({ values: z.array(z.number().nullable()) });

export function flickerMetricPath(projectFile: string): string {
  return path.join(projectPaths(projectFile).cacheDir, 'metrics', 'warp-error.json');
}

export function readFlickerMetric(projectFile: string, frameCount: number): { available: false; reason: string } | { available: true; values: number[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(flickerMetricPath(projectFile), 'utf8'));
  } catch {
    return { available: false, reason: 'no warp-error metric yet: propagate to measure flicker' };
  }
  const parsed = metricFile.safeParse(doc);
  if (!parsed.success) return { available: false, reason: 'the warp-error metric file is damaged; propagate again to rebuild it' };
  // Frames without a measurement (keyframes, not yet propagated) read as 0 so the strip stays aligned.
  const values = Array.from({ length: frameCount }, (_, i) => parsed.data.values[i] ?? 0);
  return { available: true, values };
}
