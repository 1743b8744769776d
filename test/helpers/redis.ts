// A private Redis for a test: Debian's redis-server on a free loopback port, in its own temp folder, with
// the append-only file on (so a restart keeps every job), stopped when the test ends. Never a fixed port,
// never the system service.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { tempDir } from './media';

export const REDIS_SERVER = process.env.RERENDER_REDIS_SERVER ?? 'redis-server';

/** Why a TLS Redis cannot run here (no openssl, or a redis-server built without TLS), or undefined. */
export function redisTlsMissing(): string | undefined {
  const missing = redisMissing();
  if (missing) return missing;
  if (spawnSync('openssl', ['version'], { encoding: 'utf8' }).status !== 0) return 'openssl is not installed (it makes the test certificates)';
  // A build without TLS rejects the directive itself; one with TLS fails later, on the missing files.
  const r = spawnSync(REDIS_SERVER, ['--port', '0', '--tls-port', '0', '--tls-cert-file', '/nonexistent', '--tls-key-file', '/nonexistent', '--save', ''], { encoding: 'utf8', timeout: 10_000 });
  const out = `${r.stdout}${r.stderr}`;
  if (/Bad directive|wrong number of arguments/i.test(out) && /tls/i.test(out)) return `${REDIS_SERVER} was built without TLS (it does not know --tls-port)`;
  return undefined;
}

/** Makes a private certificate authority and a server certificate for 127.0.0.1 in `dir` (openssl). */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const run = (args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=rerender test CA']);
  run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf']);
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key') };
}

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
  /** TLS servers: the private CA's certificate file. */
  ca?: string;
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

function launch(port: number, dir: string, password?: string, tls?: { ca: string; cert: string; key: string }, appendonly = true): Promise<ChildProcess> {
  const args = [
    ...(tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)]),
    '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--save', '',
    '--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', 'always', '--protected-mode', 'yes', '--logfile', '',
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

/**
 * `tls`: TLS only (no plain port), with a private CA whose file the URL names (`?ca=`), as `TestRedis.ca`.
 * `appendonly: false` starts it without the append-only file (what the farm warns about).
 */
export async function startRedis(opts: { password?: string; tls?: boolean; appendonly?: boolean } = {}): Promise<TestRedis> {
  const dir = tempDir('rerender-redis-');
  const certs = opts.tls ? makeCertificates(dir) : undefined;
  let port = 0;
  let child: ChildProcess | undefined;
  // Another program may take the free port between the check and the start: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir, opts.password, certs, opts.appendonly ?? true);
    } catch (err) {
      if (attempt >= 4) throw err;
    }
  }
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  const scheme = certs ? 'rediss' : 'redis';
  const ca = certs ? `?ca=${encodeURIComponent(certs.ca)}` : '';
  const server: TestRedis = {
    port, dir, ca: certs?.ca,
    url: `${scheme}://${auth}127.0.0.1:${port}${ca}`,
    urlWithoutPassword: `${scheme}://127.0.0.1:${port}${ca}`,
    async restart() {
      await stopChild(child!);
      child = await launch(port, dir, opts.password, certs, opts.appendonly ?? true);
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
