// Finding and running ffmpeg/ffprobe: RERENDER_FFMPEG, else the optional ffmpeg-static, else PATH.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CancelToken, CancelledError, UserError } from '../../../native-models/src/errors';

export interface Tools { ffmpeg: string; ffprobe: string | undefined }

let cachedTools: Tools | undefined;

function onPath(name: string): string | undefined {
  const exe = process.platform === 'win32' ? `${name}.exe` : name;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, exe);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function ffmpegStatic(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const p: unknown = require('ffmpeg-static');
    return typeof p === 'string' && fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Locates ffmpeg and ffprobe once per process (ARCHITECTURE.md "Install and run"). */
export function findTools(): Tools {
  if (cachedTools) return cachedTools;
  const override = process.env.RERENDER_FFMPEG;
  if (override && !fs.existsSync(override)) throw new UserError('RERENDER_FFMPEG points to a file that does not exist', override);
  const ffmpeg = override || ffmpegStatic() || onPath('ffmpeg');
  if (!ffmpeg) throw new UserError('ffmpeg was not found: install it (e.g. `apt-get install ffmpeg`) or set RERENDER_FFMPEG to its path');
  // ffprobe: beside the chosen ffmpeg first (same build), else on PATH, else we parse ffmpeg's own output.
  const sibling = path.join(path.dirname(ffmpeg), process.platform === 'win32' ? 'ffprobe.exe' : 'ffprobe');
  const ffprobe = process.env.RERENDER_FFPROBE || (fs.existsSync(sibling) ? sibling : onPath('ffprobe'));
  cachedTools = { ffmpeg, ffprobe };
  return cachedTools;
}

export interface RunOptions {
  cancel?: CancelToken;
  /** Called with each complete line of stdout (e.g. `-progress pipe:1` output). */
  onStdoutLine?: (line: string) => void;
  /** Data written to stdin (then closed); for streaming use `runStreaming`. */
  input?: Buffer;
}

export interface RunResult { stdout: string; stderr: string }

/** Runs a tool to completion; rejects with the tool's last stderr lines, or CancelledError on cancel. */
export function runTool(exe: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    let partial = '';
    let cancelled = false;
    opts.cancel?.onCancel(() => { cancelled = true; child.kill('SIGKILL'); });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (opts.onStdoutLine) {
        partial += chunk;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.onStdoutLine(l.trim());
      } else {
        stdout += chunk;
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000); // keep the tail: errors come last
    });
    child.on('error', (err) => reject(new UserError(`cannot run ${path.basename(exe)}: ${err.message}`, exe)));
    child.on('close', (code, signal) => {
      if (cancelled) return reject(new CancelledError());
      if (code === 0) return resolve({ stdout, stderr });
      reject(new ToolError(path.basename(exe), code, signal, stderr));
    });
    child.stdin.on('error', () => undefined); // the tool may exit before reading all input
    if (opts.input) child.stdin.end(opts.input); else child.stdin.end();
  });
}

/** A tool exited with an error; `detail` holds its last meaningful stderr line. */
export class ToolError extends Error {
  readonly detail: string;
  constructor(tool: string, code: number | null, signal: NodeJS.Signals | null, stderr: string) {
    const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('frame=') && !/^(built with|configuration:|lib\w+\s)/.test(l));
    const detail = lines.slice(-3).join(' | ') || 'no error output';
    super(`${tool} failed (${signal ?? `exit code ${code}`}): ${detail}`);
    this.detail = detail;
    this.name = 'ToolError';
  }
}

/** Whether an encoder is available in this ffmpeg build (checked once). */
const encoderCache = new Map<string, boolean>();
export function hasEncoder(name: string): boolean {
  if (!encoderCache.has(name)) {
    const r = spawnSync(findTools().ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8' });
    encoderCache.set(name, new RegExp(`\\s${name}\\s`).test(r.stdout ?? ''));
  }
  return encoderCache.get(name)!;
}
