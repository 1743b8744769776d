// Waiting for an editor job to finish, as the jobs panel sees it.
import type { Editor } from '../../main/engine/editor/editor-api';
import { jobEnded, type JobState } from '../../preload/api';

export function finished(editor: Editor, jobId: string): Promise<JobState> {
  const now = (editor.handlers['jobs.list']({}) as JobState[]).find((j) => j.id === jobId);
  if (now && jobEnded(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const off = editor.on('job.updated', (j) => {
      if (j.id === jobId && jobEnded(j)) { off(); resolve(j); }
    });
  });
}
