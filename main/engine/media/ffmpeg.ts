// Finding and running ffmpeg/ffprobe: RERENDER_FFMPEG, else the optional ffmpeg-static, else PATH.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Duplex, Readable, Writable } from 'node:stream';
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
    const p: unknown = require('ffmpeg-static');
    return typeof p === 'string' && fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** Locates ffmpeg and ffprobe once per process (README.md "Requirements" says where it looks). */
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

/**
 * The tools end with us. Node cannot ask the kernel to kill a child when its parent dies, so on POSIX the
 * tool runs under a tiny shell watchdog: it holds one end of a pipe whose other end only this process has;
 * when this process exits in any way (kill -9 included), the pipe closes, `read` returns and the watchdog
 * kills the tool. Stopping a tool on purpose closes the same pipe.
 */
const WATCHDOG = [
  'exec 4<&0',
  '"$@" <&4 4<&- 3<&- &',
  'tool=$!',
  'exec 4<&-',
  '{ read _ <&3; kill -KILL $tool; } >/dev/null 2>&1 </dev/null &',
  'watch=$!',
  'exec 3<&-',
  'wait $tool; status=$?',
  'kill $watch 2>/dev/null',
  'exit $status',
].join('\n');

interface GuardedChild {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  /** Kills the tool now (cancel, or an error on our side). */
  stop(): void;
}

/** Spawns a tool with piped stdin, stdout and stderr that cannot outlive this process. */
function spawnGuarded(exe: string, args: string[], cwd?: string): GuardedChild {
  if (process.platform === 'win32') {
    const child = spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, cwd });
    return { child, stop: () => child.kill('SIGKILL') };
  }
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'rerender-tool', exe, ...args], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], cwd });
  const lifeline = child.stdio[3] as Duplex;
  lifeline.on('error', () => undefined);
  child.once('exit', () => lifeline.destroy());
  return { child: child as unknown as ChildProcessByStdio<Writable, Readable, Readable>, stop: () => lifeline.destroy() };
}

/** Exit code of a tool the watchdog killed (128 + SIGKILL), as the shell reports it. */
const KILLED = 137;

export interface RunOptions {
  cancel?: CancelToken;
  /** Called with each complete line of stdout (e.g. `-progress pipe:1` output). */
  onStdoutLine?: (line: string) => void;
  /** Data written to stdin (then closed). */
  input?: Buffer;
  /** Working folder of the tool (for outputs named inside a filter graph). */
  cwd?: string;
}

export interface RunResult { stdout: string; stderr: string }

/** Runs a tool to completion; rejects with the tool's last stderr lines, or CancelledError on cancel. */
export function runTool(exe: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const { child, stop } = spawnGuarded(exe, args, opts.cwd);
    let stdout = '';
    let stderr = '';
    let partial = '';
    let cancelled = false;
    opts.cancel?.onCancel(() => { cancelled = true; stop(); });
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
      if (code === 127 && /not found|No such file/i.test(stderr)) return reject(new UserError(`cannot run ${path.basename(exe)}: not found`, exe));
      reject(new ToolError(path.basename(exe), code === KILLED ? null : code, code === KILLED ? 'SIGKILL' : signal, stderr));
    });
    child.stdin.on('error', () => undefined); // the tool may exit before reading all input
    if (opts.input) child.stdin.end(opts.input); else child.stdin.end();
  });
}

/** A tool exited with an error; `detail` holds its last meaningful stderr line. */
export class ToolError extends Error {
  readonly detail: string;
  constructor(tool: string, code: number | null, readonly signal: NodeJS.Signals | null, stderr: string) {
    const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('frame=') && !/^(built with|configuration:|lib\w+\s)/.test(l));
    const detail = lines.slice(-3).join(' | ') || 'no error output';
    super(`${tool} failed (${signal ?? `exit code ${code}`}): ${detail}`);
    this.detail = detail;
    this.name = 'ToolError';
  }
}

/**
 * What went wrong, in one plain line, from a failed ffmpeg run's words (which stay in `detail`, for the
 * log): `doing` says whether a file was being decoded or an export written, so the line speaks of that side.
 */
export function toolProblem(err: ToolError, doing: 'decoding' | 'exporting'): string {
  const d = err.detail;
  if (/No space left on device/i.test(d)) return 'the disk is full';
  if (/Permission denied/i.test(d)) return doing === 'decoding' ? 'the file cannot be read (permission denied)' : 'the destination cannot be written (permission denied)';
  if (/No such file or directory/i.test(d)) return doing === 'decoding' ? 'the file is not there any more (moved or deleted?)' : 'the destination folder is not there';
  if (/(Decoder|decoder) .*not found|Unknown decoder|unsupported codec|Unsupported codec/i.test(d)) return 'its video codec cannot be decoded by this ffmpeg; convert it to H.264 MP4 first';
  if (/(Encoder|encoder) .*not found|Unknown encoder/i.test(d)) return 'this ffmpeg has no encoder for that format; choose another format';
  if (/Invalid NAL|Invalid data found|moov atom not found|corrupt|error while decoding|Error splitting the input|missing picture|Cannot determine format|truncat|End of file/i.test(d)) {
    return doing === 'decoding' ? 'its video data is damaged or incomplete, and no frames could be read from it; use an intact copy of the file' : 'a frame it was given could not be read (damaged); propagate or decode again, then export';
  }
  return doing === 'decoding' ? `ffmpeg could not decode it (${err.signal ? 'stopped by a signal' : 'ffmpeg failed'}); the log has ffmpeg's words` : 'ffmpeg could not write it; the log has ffmpeg\'s words';
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
