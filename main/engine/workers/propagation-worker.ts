// The propagation worker process: ffmpeg decode/export and (as they land) native flow and propagation.
// Parameters arrive over IPC: serveWorkerJobs validates them (jobs/job-registry.ts) before a job touches the disk.
import { serveWorkerJobs } from '../jobs/worker-runtime';
import { createProject } from '../project/create';
import { parseProject, readProjectFile } from '../project/project-file';
import { exportProject } from '../project/export-project';
import { adaptiveKeyframes, frameDifferences } from '../project/keyframe-suggest';
import { projectPaths } from '../project/paths';
import { propagateProject } from '../propagation/propagate-project';
import { measureFlicker } from '../metrics/flicker-measure';

async function projectOf(p: { projectFile: string; project?: unknown }) {
  return p.project === undefined ? readProjectFile(p.projectFile) : parseProject(p.project, p.projectFile);
}

serveWorkerJobs('propagation', {
  async createProject(p, { progress, cancel }) {
    const project = await createProject(p.projectFile, p.video, { mode: p.mode, size: p.size, crop: p.crop ?? null, allowTruncated: p.allowTruncated, fps: p.fps, allowGaps: p.allowGaps, cancel, onProgress: progress });
    return { frames: project.frames.count };
  },
  async exportProject(p, { progress, cancel }) {
    const { project: _snapshot, ...options } = p;
    return exportProject(p.projectFile, await projectOf(p), { ...options, cancel, onProgress: progress });
  },
  async propagate(p, { progress, cancel }) {
    return propagateProject(p.projectFile, await projectOf(p), { segmentId: p.segmentId, workers: p.workers, cancel, onProgress: progress });
  },
  async measureFlicker(p, { progress, cancel }) {
    return measureFlicker(p.projectFile, await projectOf(p), { cancel, onProgress: progress });
  },
  async suggestKeyframes(p, { progress, cancel }) {
    const project = await projectOf(p);
    const diffs = await frameDifferences(projectPaths(p.projectFile).thumbsDir, project.frames.count, { cancel, onProgress: progress });
    return { frames: adaptiveKeyframes(diffs, p.min, p.max), differences: diffs };
  },
});
