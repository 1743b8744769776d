// Exporting a project: picks each frame's best image (propagated output, keyframe image, or the source
// frame where the user allows it) and hands them to the encoder.
import fs from 'node:fs';
import path from 'node:path';
import type { Project } from '../../../preload/project-schema';
import { frameFileName, projectPaths } from './paths';
import { resolveInProject } from './keyframe-images';
import { resolveSourcePath } from './create';
import { exportFrames, formatFromPath, type ExportFormat } from '../media/export';
import { UserError, type CancelToken, type ProgressFn } from '../../../native-models/src/errors';

export interface ProjectExportOptions {
  out: string;
  format?: ExportFormat;
  /** Take missing frames from the source instead of failing. */
  allowIncomplete?: boolean;
  range?: { start: number; end: number };
  sideBySide?: boolean;
  cancel?: CancelToken;
  onProgress?: ProgressFn;
}

/** The image that stands for frame i in the output, or undefined when it has not been made yet. */
export function resultFrameFile(projectFile: string, p: Project, index: number): string | undefined {
  const out = path.join(projectPaths(projectFile).outputDir, frameFileName(index));
  if (fs.existsSync(out)) return out;
  const k = p.keyframes.find((x) => x.frame === index);
  if (k?.image && k.status === 'done') {
    const img = resolveInProject(projectFile, k.image);
    if (fs.existsSync(img)) return img;
  }
  return undefined;
}

function describeFrames(frames: number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < frames.length; ) {
    let j = i;
    while (j + 1 < frames.length && frames[j + 1] === frames[j] + 1) j++;
    runs.push(i === j ? `${frames[i]}` : `${frames[i]}-${frames[j]}`);
    i = j + 1;
  }
  return runs.length > 8 ? `${runs.slice(0, 8).join(', ')} and ${runs.length - 8} more runs` : runs.join(', ');
}

export async function exportProject(projectFile: string, p: Project, opts: ProjectExportOptions): Promise<{ out: string; frames: number; fromSource: number }> {
  const format = opts.format ?? formatFromPath(opts.out);
  if (!format) throw new UserError('cannot tell the export format from the file name; use .mp4, .webm, .gif, a folder for PNG frames, or --format', opts.out);
  const start = opts.range?.start ?? 0;
  const end = opts.range?.end ?? p.frames.count - 1;
  if (start < 0 || end >= p.frames.count || start > end) throw new UserError(`the range ${start}-${end} is outside the video (frames 0 to ${p.frames.count - 1})`);
  const frames = Array.from({ length: end - start + 1 }, (_, i) => start + i);
  const paths = projectPaths(projectFile);
  const sourceFile = (i: number) => path.join(paths.framesDir, frameFileName(i));
  const chosen = new Map<number, string>();
  const missing: number[] = [];
  for (const i of frames) {
    const f = resultFrameFile(projectFile, p, i);
    if (f) chosen.set(i, f); else missing.push(i);
  }
  if (missing.length && !opts.allowIncomplete) {
    throw new UserError(`${missing.length} of ${frames.length} frames are not rendered yet (frames ${describeFrames(missing)}); propagate first, or export with --allow-incomplete to use the source frames there`);
  }
  for (const i of missing) {
    if (!fs.existsSync(sourceFile(i))) throw new UserError(`source frame ${i} is missing from the frame cache; open the project again to rebuild it`, paths.framesDir);
    chosen.set(i, sourceFile(i));
  }
  const source = resolveSourcePath(projectFile, p);
  const result = await exportFrames({
    out: opts.out, format, width: p.working.width, height: p.working.height, fps: p.frames.fps, frames,
    frameFile: (i) => chosen.get(i)!,
    sourceFrameFile: opts.sideBySide ? sourceFile : undefined,
    audioFrom: p.source.hasAudio && fs.existsSync(source) ? source : undefined,
    cancel: opts.cancel, onProgress: opts.onProgress,
  });
  return { ...result, fromSource: missing.length };
}
