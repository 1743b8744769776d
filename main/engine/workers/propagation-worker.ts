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
import { applyRequest } from '../render/render-project';
import { parseRedisUrl } from '../../farm/connection';
import { propagateOnFarm } from '../../farm/submit';
import { renderSnapshotOnFarm } from '../../farm/submit-render';

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
  // The editor's jobs on the render farm: this process submits and follows them (the work runs on the farm).
  // A Redis that can lose jobs (no append-only file) is reported with the result, for the job's note.
  async propagateOnFarm(p, { progress, cancel, workers }) {
    const warnings: string[] = [];
    const r = await propagateOnFarm(p.projectFile, { connection: parseRedisUrl(p.farmUrl), project: await projectOf(p), segmentId: p.segmentId, cancel, onProgress: progress, onWorkers: workers, onWarning: (w) => warnings.push(w) });
    return { ...r, warnings };
  },
  async renderOnFarm(p, { progress, cancel, workers }) {
    const { project: _snapshot, farmUrl, ids, ...rest } = p;
    const request = { ...rest, target: ids ? { ids } : 'all' as const };
    const snapshot = applyRequest(parseProject(p.project, p.projectFile), request);
    const warnings: string[] = [];
    const summary = await renderSnapshotOnFarm(request, snapshot, { connection: parseRedisUrl(farmUrl), cancel, onProgress: progress, onWorkers: workers, onWarning: (w) => warnings.push(w) });
    return { ...summary, farm: { ...summary.farm, warnings } };
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
