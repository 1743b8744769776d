// URLs of a project's media as the renderer loads them: the layout from the contract, plus a project key
// (so caches never mix two projects' frame 12) and a revision for files that change (renders, output).
import { mediaPaths, type ProjectState } from '../preload/api';

const keys = new Map<string, string>();

/** A short stable key of the project file path (FNV-1a), the same whenever that project is open. */
function projectKey(file: string): string {
  let key = keys.get(file);
  if (!key) {
    let h = 0x811c9dc5;
    for (let i = 0; i < file.length; i++) h = Math.imul(h ^ file.charCodeAt(i), 0x01000193);
    key = (h >>> 0).toString(36);
    keys.set(file, key);
  }
  return key;
}

type Media = { kind: 'frame' | 'thumb' | 'output' | 'output-stale' | 'coverage'; frame: number } | { kind: 'file'; path: string } | { kind: 'keyframe'; path: string; revision: number };

export function mediaUrl(state: ProjectState, media: Media): string {
  const p = projectKey(state.file);
  switch (media.kind) {
    // Decoded frames and thumbnails change only when the frame cache is rebuilt (then framesReady flips).
    case 'frame': return `${mediaPaths.frame(media.frame)}?p=${p}&f=${state.framesReady ? 1 : 0}`;
    case 'thumb': return `${mediaPaths.thumb(media.frame)}?p=${p}&f=${state.framesReady ? 1 : 0}`;
    case 'output': return `${mediaPaths.output(media.frame)}?p=${p}&v=${state.mediaRevision}`;
    case 'coverage': return `${mediaPaths.coverage(media.frame)}?p=${p}&v=${state.mediaRevision}`;
    case 'output-stale': return `${mediaPaths.staleOutput(media.frame)}?p=${p}&v=${state.mediaRevision}`;
    case 'file': return `${mediaPaths.projectFile(media.path)}?p=${p}&v=${state.mediaRevision}`;
    // A keyframe's image changes only with its revision: other media changing (propagation) keeps it cached.
    case 'keyframe': return `${mediaPaths.projectFile(media.path)}?p=${p}&k=${media.revision}`;
  }
}
