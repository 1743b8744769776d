// A private Redis for a test: Debian's redis-server on a free loopback port, in its own temp folder, with
// the append-only file on (so a restart keeps every job), stopped when the test ends. Never a fixed port,
// never the system service.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './media';

export const REDIS_SERVER = process.env.RERENDER_REDIS_SERVER ?? 'redis-server';

/** Why the Redis tests cannot run here, or undefined when redis-server is installed. */
export function redisMissing(): string | undefined {
  const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${REDIS_SERVER} is not installed (apt-get install redis-server; .ci/run does)`;
}

export interface TestRedis {
  port: number;
  dir: string;
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  /** The URL without the password. */
  urlWithoutPassword: string;
  /** Stops the server (SIGTERM: it writes its data and exits) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string, password?: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', '',
    '--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'yes', '--logfile', '',
    '--maxmemory-policy', 'noeviction',
  ];
  if (password) args.push('--requirepass', password);
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (d: Buffer) => {
      log += d.toString();
      if (/Ready to accept connections/.test(log)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${log.slice(-2000)}`)));
    child.once('error', reject);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startRedis(opts: { password?: string } = {}): Promise<TestRedis> {
  const dir = tempDir('rerender-redis-');
  let port = 0;
  let child: ChildProcess | undefined;
  // Another program may take the free port between the check and the start: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, opts.password);
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  const server: TestRedis = {
    port, dir,
    url: `redis://${auth}127.0.0.1:${port}`,
    urlWithoutPassword: `redis://127.0.0.1:${port}`,
    async restart() {
      await stopChild(child!);
      child = await launch(port, dir, opts.password);
    },
    async stop() {
      await stopChild(child!);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** The AOF files of a test Redis (to show the jobs were persisted). */
export function aofFiles(r: TestRedis): string[] {
  const d = path.join(r.dir, 'appendonlydir');
  return fs.existsSync(d) ? fs.readdirSync(d) : [];
}
