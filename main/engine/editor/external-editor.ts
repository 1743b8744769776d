// The round trip to a paint program (the EbSynth workflow): "Edit in external editor" copies a keyframe's
// image (or, for an empty keyframe, its source frame) to a working file in the project's assets, opens it
// in the program the user chose (an executable and an argument list, started without a shell; in Electron
// the system's default app when none is chosen), and watches the file: each save comes back as a new
// revision of that keyframe (painted, undoable, the previous image kept in its history).
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { z } from 'zod';
import type { EditorSession } from './session';
import { projectPaths, frameFileName } from '../project/paths';
import { checkProjectFolders, resolveInProject } from '../project/confinement';
import { UserError } from '../../../native-models/src/errors';
import { isAppBundle } from './file-browser';

/** Stands for the image's path in the arguments; without it the path is the last argument. */
export const FILE_PLACEHOLDER = '{file}';

export const externalEditorSetting = z.object({
  /** Absolute path of the program (a bare name is looked up on PATH when the setting is made). */
  program: z.string().min(1).max(4096),
  args: z.array(z.string().max(4096)).max(32),
});
export type ExternalEditorSetting = z.infer<typeof externalEditorSetting>;

function isExecutableFile(file: string, platform: NodeJS.Platform = process.platform): boolean {
  try {
    const s = fs.statSync(file);
    // A macOS application bundle is a folder the system starts as one program (`open -a`).
    if (s.isDirectory()) return isAppBundle(path.basename(file), platform) && fs.statSync(path.join(file, 'Contents'), { throwIfNoEntry: false })?.isDirectory() === true;
    if (!s.isFile()) return false;
    if (platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a program and its arguments as the user gave them: an absolute path to an executable file, or a
 * bare name found on PATH (stored as the absolute path found); arguments are separate strings, never
 * parsed by a shell. On macOS an application bundle (`/Applications/Krita.app`) counts as a program.
 * The checked setting, or a UserError saying what is wrong.
 */
export function validateExternalEditor(program: string, args: readonly string[], platform: NodeJS.Platform = process.platform): ExternalEditorSetting {
  const p = program.trim();
  if (!p) throw new UserError('choose the paint program: its path, e.g. /usr/bin/gimp');
  if (/[\0\r\n]/.test(p) || args.some((a) => /\0/.test(a))) throw new UserError('the program and its arguments cannot contain NUL characters or line breaks');
  if (args.length > 32) throw new UserError(`at most 32 arguments (got ${args.length})`);
  let resolved: string | undefined;
  if (path.isAbsolute(p)) {
    if (!isExecutableFile(p, platform)) throw new UserError(`${p} is not a program that can be run (no such file, a folder${platform === 'darwin' ? ' that is not an application bundle' : ''}, or not executable)`);
    resolved = p;
  } else if (/[\\/]/.test(p) || /\s/.test(p)) {
    throw new UserError(`"${p}" is neither an absolute path nor a program name: give the program's full path, and its arguments one per line (they are never run through a shell)`);
  } else {
    const exts = platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : [''];
    for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
      const hit = exts.map((e) => path.join(dir, p + e)).find((f) => isExecutableFile(f, platform));
      if (hit) { resolved = hit; break; }
    }
    if (!resolved) throw new UserError(`no program "${p}" on the PATH: give its full path`);
  }
  return externalEditorSetting.parse({ program: resolved, args: [...args] });
}

/** The argument list for one file: the placeholder replaced, or the file appended. */
export function argumentsFor(setting: ExternalEditorSetting, file: string): string[] {
  return setting.args.includes(FILE_PLACEHOLDER) ? setting.args.map((a) => (a === FILE_PLACEHOLDER ? file : a)) : [...setting.args, file];
}

/**
 * What is run to open `file`: the program with its arguments, or for a macOS application bundle the
 * system's `open -a <bundle> <file>` (a bundle is not executable itself), its other arguments after `--args`.
 */
export function launchCommand(setting: ExternalEditorSetting, file: string, platform: NodeJS.Platform = process.platform): { command: string; args: string[] } {
  if (isAppBundle(path.basename(setting.program), platform)) {
    const rest = argumentsFor(setting, file).filter((a) => a !== file);
    return { command: '/usr/bin/open', args: ['-a', setting.program, file, ...(rest.length ? ['--args', ...rest] : [])] };
  }
  return { command: setting.program, args: argumentsFor(setting, file) };
}

/** Starts the program on the file, detached (it outlives nothing of ours), without a shell. */
function startProgram(setting: ExternalEditorSetting, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const { command, args } = launchCommand(setting, file);
    const child = spawn(command, args, { shell: false, detached: true, stdio: 'ignore', windowsHide: false });
    child.once('error', (err) => reject(new UserError(`could not start ${setting.program}: ${err.message}`, setting.program)));
    child.once('spawn', () => { child.unref(); resolve(); });
  });
}

interface Watch {
  file: string;
  watcher: fs.FSWatcher;
  /** The working file's size and time when last copied or imported: a change event that leaves it so is no save. */
  last: string;
  /** The keyframe's image the working file holds (null: its source frame); another one after an undo or an import. */
  image: string | null;
  timer?: NodeJS.Timeout;
  importing: Promise<void>;
}

/** How long a file must be quiet before it is read (programs write in several steps). */
const SETTLE_MS = 300;

export class ExternalEdits {
  /** By keyframe id, for the open project only. */
  private watches = new Map<string, Watch>();
  private projectFile: string | undefined;

  constructor(
    private readonly session: EditorSession,
    private readonly setting: () => ExternalEditorSetting | null,
    /** The system's default app for a file (Electron's shell.openPath); absent in serve mode. */
    private readonly openPath?: (file: string) => Promise<void>,
    /** Told when a save came back or could not be used (the UI shows it). */
    private readonly report: (message: string, ok: boolean) => void = () => undefined,
  ) {
    // A closed or switched project ends its watches.
    session.on('project.changed', (s) => { if (!s || s.file !== this.projectFile) this.stopAll(); });
  }

  /** Opens keyframe `id`'s image in the chosen program and watches it; returns the working file and the program used. */
  async edit(id: string): Promise<{ file: string; program: string }> {
    const projectFile = this.session.file;
    if (!projectFile) throw new UserError('open a project first');
    const setting = this.setting();
    if (!setting && !this.openPath) throw new UserError('choose your paint program first (External editor… in the inspector): its path, and its arguments if it needs any');
    const p = this.session.project();
    const k = p.keyframes.find((x) => x.id === id);
    if (!k) throw new UserError('that keyframe no longer exists');
    const paths = projectPaths(projectFile);
    checkProjectFolders(projectFile);
    const dir = path.join(paths.assetsDir, 'external');
    await fs.promises.mkdir(dir, { recursive: true });
    const file = path.join(dir, `keyframe-${k.id}.png`);
    if (this.projectFile !== projectFile) this.stopAll();
    this.projectFile = projectFile;
    // Start from the image in use, or paint over the source frame of an empty keyframe; a file already
    // watched is refreshed when the keyframe's image is no longer the one it holds (after an undo, an
    // import or a render), so the program always opens what the keyframe shows.
    const w = this.watches.get(id);
    if (!w || w.image !== k.image) {
      const from = k.image ? resolveInProject(projectFile, k.image) : path.join(paths.framesDir, frameFileName(k.frame));
      await fs.promises.copyFile(from, file);
      if (w) Object.assign(w, { last: this.stamp(file), image: k.image });
      else this.watch(id, file, k.image);
    }
    if (setting) await startProgram(setting, file);
    else await this.openPath!(file);
    return { file, program: setting ? setting.program : 'the default app for PNG images' };
  }

  private stamp(file: string): string {
    try { const s = fs.statSync(file); return `${s.size}:${s.mtimeMs}`; } catch { return ''; }
  }

  private watch(id: string, file: string, image: string | null): void {
    const name = path.basename(file);
    // The folder, not the file: programs often save by writing a new file and renaming it over the old.
    const watcher = fs.watch(path.dirname(file), (_event, changed) => {
      if (changed && changed.toString() !== name) return;
      const w = this.watches.get(id);
      if (!w) return;
      clearTimeout(w.timer);
      w.timer = setTimeout(() => { w.importing = w.importing.then(() => this.reload(id, w)); }, SETTLE_MS);
    });
    watcher.on('error', () => this.stop(id));
    this.watches.set(id, { file, watcher, last: this.stamp(file), image, importing: Promise.resolve() });
  }

  /** A save came: import it as the keyframe's new image (painted), unless nothing changed. */
  private async reload(id: string, w: Watch): Promise<void> {
    const now = this.stamp(w.file);
    if (!now || now === w.last) return;
    const k = this.session.file === this.projectFile ? this.session.project().keyframes.find((x) => x.id === id) : undefined;
    if (!k) return this.stop(id);
    try {
      await this.session.edit({ action: 'importKeyframeImage', frame: k.frame, image: w.file, painted: true });
      w.last = now;
      w.image = this.session.project().keyframes.find((x) => x.id === id)?.image ?? null; // the working file is that image now
      this.report(`the keyframe at frame ${k.frame} has the image saved in the external editor (undo returns to the one before)`, true);
    } catch (err) {
      // Half-written files fail to decode; the program's next write triggers another try.
      this.report(`the image saved in the external editor could not be used for the keyframe at frame ${k.frame}: ${(err as Error).message}`, false);
    }
  }

  private stop(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    clearTimeout(w.timer);
    w.watcher.close();
    this.watches.delete(id);
  }

  stopAll(): void {
    for (const id of [...this.watches.keys()]) this.stop(id);
  }
}
