// Folders of frame images in frame order: the project's own (named by frame index) and the user's (any
// numbering that sorts: ffmpeg's 0001.png from 1, frame_2.png before frame_10.png).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../native-models/src/errors';

/** Frames in order: frame k's file, or undefined where a frame is missing (not propagated yet). */
export interface FrameSequence {
  dir: string;
  files: Array<string | undefined>;
}

const IMAGE = /\.(png|jpe?g)$/i;

/** The folder's entry names; a UserError naming the folder when it is missing, not a folder or unreadable. */
function readFolder(dir: string): string[] {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!stat) throw new UserError('the frames folder does not exist', dir);
  if (!stat.isDirectory()) throw new UserError('not a folder of frames', dir);
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'EACCES' || code === 'EPERM' ? 'cannot read the frames folder (permission denied); allow reading it or copy the frames elsewhere' : `cannot read the frames folder (${code})`, dir);
  }
}

/** A project folder (`NNNNN.png`, the number is the frame index; gaps are frames not made yet). */
export function indexedFrames(dir: string): FrameSequence {
  const files: Array<string | undefined> = [];
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const name of names) {
    const m = /^(\d+)\.png$/.exec(name);
    if (m) files[Number(m[1])] = path.join(dir, name);
  }
  return { dir, files: Array.from(files) };
}

/** A folder the user brings: every PNG or JPEG in natural order (numbers compared as numbers), frame 0 first; `others` are the names of its other (not hidden) entries. */
export function orderedFrames(dir: string): FrameSequence & { others: string[] } {
  const entries = readFolder(dir).filter((n) => !n.startsWith('.'));
  const names = entries.filter((n) => IMAGE.test(n));
  names.sort((a, b) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' }) || (a < b ? -1 : 1));
  return { dir, files: names.map((n) => path.join(dir, n)), others: entries.filter((n) => !IMAGE.test(n)) };
}

/** "0001.png" for messages: the file's name, or "(missing)" where a frame has none. */
export function frameName(seq: FrameSequence, k: number): string {
  const f = seq.files[k];
  return f ? path.basename(f) : '(missing)';
}
