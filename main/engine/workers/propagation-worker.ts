// The propagation worker process: ffmpeg decode/export and (as they land) native flow and propagation.
// Parameters arrive over IPC, so every job validates them before touching the disk.
import { z } from 'zod';
import { serveJobs } from '../jobs/worker-runtime';
import { createProject } from '../project/create';
import { parseProject, readProjectFile } from '../project/project-file';
import { exportProject } from '../project/export-project';
import { adaptiveKeyframes, frameDifferences } from '../project/keyframe-suggest';
import { projectPaths } from '../project/paths';
import { crop } from '../../../preload/project-schema';
import { propagateProject } from '../propagation/propagate-project';
import { measureFlicker } from '../editor/flicker-measure';
import { UserError } from '../../../native-models/src/errors';

function parse<T>(schema: z.ZodType<T>, params: unknown, job: string): T {
  const r = schema.safeParse(params);
  if (!r.success) throw new UserError(`bad parameters for ${job}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/**
 * The document a job works on: the editor sends its snapshot (the project as shown, saved or not: jobs
 * never need the project saved, and never write it); without one the saved file is read.
 */
const snapshot = z.unknown().optional();

async function projectOf(p: { projectFile: string; project?: unknown }) {
  return p.project === undefined ? readProjectFile(p.projectFile) : parseProject(p.project, p.projectFile);
}

export const jobParams = {
  createProject: z.object({
    projectFile: z.string().min(1), video: z.string().min(1),
    mode: z.enum(['short-side', 'long-side']).optional(), size: z.number().int().optional(), crop: crop.nullable().optional(),
    allowTruncated: z.boolean().optional(), fps: z.string().max(32).optional(), allowGaps: z.boolean().optional(),
  }),
  exportProject: z.object({
    projectFile: z.string().min(1), out: z.string().min(1), format: z.enum(['mp4', 'webm', 'gif', 'prores', 'png']).optional(),
    allowIncomplete: z.boolean().optional(), sideBySide: z.boolean().optional(), overwrite: z.boolean().optional(),
    range: z.object({ start: z.number().int(), end: z.number().int() }).optional(), startNumber: z.number().int().min(0).optional(),
    project: snapshot,
  }),
  propagate: z.object({ projectFile: z.string().min(1), segmentId: z.string().max(64).optional(), workers: z.number().int().min(1).max(64).optional(), project: snapshot }),
  measureFlicker: z.object({ projectFile: z.string().min(1), project: snapshot }),
  suggestKeyframes: z.object({ projectFile: z.string().min(1), min: z.number().int(), max: z.number().int(), project: snapshot }),
};

serveJobs({
  async createProject(params, { progress, cancel }) {
    const p = parse(jobParams.createProject, params, 'createProject');
    const project = await createProject(p.projectFile, p.video, { mode: p.mode, size: p.size, crop: p.crop ?? null, allowTruncated: p.allowTruncated, fps: p.fps, allowGaps: p.allowGaps, cancel, onProgress: progress });
    return { frames: project.frames.count };
  },
  async exportProject(params, { progress, cancel }) {
    const p = parse(jobParams.exportProject, params, 'exportProject');
    const { project: _snapshot, ...options } = p;
    return exportProject(p.projectFile, await projectOf(p), { ...options, cancel, onProgress: progress });
  },
  async propagate(params, { progress, cancel }) {
    const p = parse(jobParams.propagate, params, 'propagate');
    return propagateProject(p.projectFile, await projectOf(p), { segmentId: p.segmentId, workers: p.workers, cancel, onProgress: progress });
  },
  async measureFlicker(params, { progress, cancel }) {
    const p = parse(jobParams.measureFlicker, params, 'measureFlicker');
    return measureFlicker(p.projectFile, await projectOf(p), { cancel, onProgress: progress });
  },
  async suggestKeyframes(params, { progress, cancel }) {
    const p = parse(jobParams.suggestKeyframes, params, 'suggestKeyframes');
    const project = await projectOf(p);
    const diffs = await frameDifferences(projectPaths(p.projectFile).thumbsDir, project.frames.count, { cancel, onProgress: progress });
    return { frames: adaptiveKeyframes(diffs, p.min, p.max), differences: diffs };
  },
});
