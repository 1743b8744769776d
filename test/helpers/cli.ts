// Runs the built `rerender` CLI (the package bin) as a user would.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export const binPath = path.join(__dirname, '..', '..', 'main', 'cli', 'rerender-bin.cjs');

export interface CliResult { code: number; stdout: string; stderr: string; json(): any }

export function rerender(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: 300_000 });
  return {
    code: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    json() {
      const line = r.stdout.trim().split('\n').pop() ?? '';
      return JSON.parse(line);
    },
  };
}
