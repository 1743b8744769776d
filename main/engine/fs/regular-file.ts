// Every input file is checked to be a regular file before it is opened: a FIFO blocks a reader forever,
// a device never ends, a folder is not an image.
import fs from 'node:fs';
import { UserError } from '../../../native-models/src/errors';

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'a special file';
}

/** The file's stat when it is a regular file; otherwise a UserError saying what it is, naming `what`. */
export function requireRegularFile(file: string, what: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' || code === 'ENOTDIR' ? `the ${what} does not exist` : `cannot read the ${what} (${code})`, file);
  }
  if (!stat.isFile()) throw new UserError(`the ${what} is ${kindOf(stat)}, not a regular file; choose a file`, file);
  return stat;
}

/** Whether `file` exists as a regular file (a FIFO or folder of that name counts as absent). */
export function isRegularFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
