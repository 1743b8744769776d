// Images dropped on the browser editor: a browser sends the file's bytes, not its path, so they are
// written to a temporary file inside the project's assets folder under a name we choose, imported as a
// keyframe image (validated, resized and copied like any import), and the temporary file is removed.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PICK_FILTERS } from '../../../preload/api';
import { projectPaths } from '../project/paths';
import { UserError } from '../../../native-models/src/errors';

/** Runs `use` with the upload as a file in the project's assets folder; the file is removed afterwards. */
export async function withUploadedImage<T>(projectFile: string, name: string, base64: string, use: (file: string) => Promise<T>): Promise<T> {
  const ext = path.extname(name).slice(1).toLowerCase();
  if (!PICK_FILTERS.image[0].extensions.includes(ext)) {
    throw new UserError(`"${name}" is not an image the editor imports (${PICK_FILTERS.image[0].extensions.join(', ')})`);
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new UserError(`the dropped file "${name}" arrived damaged (not base64)`);
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length === 0) throw new UserError(`the dropped file "${name}" is empty (0 bytes)`);
  const dir = projectPaths(projectFile).assetsDir;
  await fsp.mkdir(dir, { recursive: true });
  // Our own name (never the browser's), with the extension sharp needs no hint from.
  const file = path.join(dir, `.upload-${randomBytes(8).toString('hex')}.${ext}`);
  await fsp.writeFile(file, bytes, { flag: 'wx' });
  try {
    return await use(file);
  } finally {
    await fsp.rm(file, { force: true });
  }
}
