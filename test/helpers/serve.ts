// Starts `rerender serve` (the built CLI, as a user runs it) and Debian's Chromium for browser tests
// and the timeline bench.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { binPath } from './cli';

export interface ServeProcess { url: string; origin: string; child: ChildProcess; stop(): Promise<void> }

export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [binPath, 'serve', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        origin: new URL(url).origin,
        child,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGINT');
        }),
      });
    });
    child.once('exit', (code) => reject(new Error(`rerender serve exited with ${code}: ${stderr}`)));
  });
}

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Where browser tests leave screenshots (gitignored). */
export const testOutputDir = path.join(__dirname, '..', '..', 'test-output');
