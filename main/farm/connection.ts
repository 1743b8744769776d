// The render farm's Redis: one URL (redis:// or rediss:// for TLS, with user and password) turned into
// connection options, and a first contact that explains what went wrong in the user's words.
import fs from 'node:fs';
import net from 'node:net';
import IORedis, { type RedisOptions } from 'ioredis';
import { UserError } from '../../native-models/src/errors';

/** Where the farm's Redis is, as parsed from its URL. The password is never printed. */
export interface FarmConnection {
  /** host:port, for messages (no credentials). */
  where: string;
  /** The URL with the password hidden, for messages and `farm status`. */
  safeUrl: string;
  options: RedisOptions;
  /** Where the password came from (for messages), and whether the environment is read at all (the command line). */
  passwordFrom?: 'url' | 'env';
  readsEnv?: boolean;
}

/** The password for a farm URL that has none, from the environment: a command line is visible to every user (ps). */
export const PASSWORD_ENV = 'RERENDER_REDIS_PASSWORD';

/**
 * Parses `redis://[user][:password@]host[:port][/db]` or `rediss://…` (TLS; `?ca=FILE` trusts a private
 * certificate authority, `?servername=NAME` checks the certificate for another name). A URL without a
 * password takes `env.RERENDER_REDIS_PASSWORD` where that is set (the command line's way to keep it out
 * of the process list); the editor passes no environment, its URL is in its settings file.
 */
export function parseRedisUrl(url: string, env?: Record<string, string | undefined>): FarmConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`"${url}" is not a Redis URL; write it as redis://host:6379 (or rediss:// for TLS)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UserError(`the farm URL must start with redis:// or rediss:// (TLS), not ${u.protocol}//`);
  }
  if (!u.hostname) throw new UserError('the farm URL names no host; write it as redis://host:6379');
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) throw new UserError(`the database in the farm URL must be a number (redis://host:6379/0), not "${dbText}"`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
  const where = `${u.hostname}:${port}`;
  const options: RedisOptions = { host, port, db: dbText ? Number(dbText) : 0 };
  if (u.username) options.username = decodeURIComponent(u.username);
  let passwordFrom: FarmConnection['passwordFrom'];
  if (u.password) { options.password = decodeURIComponent(u.password); passwordFrom = 'url'; }
  else if (env?.[PASSWORD_ENV]) { options.password = env[PASSWORD_ENV]; passwordFrom = 'env'; }
  for (const key of u.searchParams.keys()) {
    if (key !== 'ca' && key !== 'servername') throw new UserError(`unknown option "${key}" in the farm URL (known: ca, servername)`);
  }
  if (u.protocol === 'rediss:') {
    // A host given as an IP address is checked against the certificate's IP entries (SNI takes names only).
    const servername = u.searchParams.get('servername') ?? (net.isIP(host) ? undefined : host);
    const tls: NonNullable<RedisOptions['tls']> = servername ? { servername } : {};
    const ca = u.searchParams.get('ca');
    if (ca) {
      try {
        tls.ca = fs.readFileSync(ca);
      } catch (err) {
        throw new UserError(`cannot read the certificate authority named in the farm URL: ${(err as Error).message}`, ca);
      }
    }
    options.tls = tls;
  } else if (u.searchParams.size) {
    throw new UserError('ca= and servername= only apply to TLS: write the URL as rediss://…');
  }
  const safe = new URL(url);
  if (safe.password) safe.password = '***';
  return { where, safeUrl: safe.toString(), options, passwordFrom, readsEnv: env !== undefined };
}

/** Options for long-lived BullMQ clients: they wait through a Redis restart instead of failing. */
export function bullConnection(c: FarmConnection): RedisOptions {
  return { ...c.options, maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(200 * times, 2000) };
}

/** What a Redis error means for the user, or undefined when it is not one we can explain. */
export function explainRedisError(c: FarmConnection, err: unknown): UserError | undefined {
  const message = String((err as Error)?.message ?? err);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (/NOAUTH|Authentication required/i.test(message)) {
    return new UserError(`Redis at ${c.where} requires a password: put it in the URL redis://:PASSWORD@${c.where}${c.readsEnv ? ` or in ${PASSWORD_ENV} (kept out of the process list)` : ''}`);
  }
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    return new UserError(`Redis at ${c.where} refused the user or password ${c.passwordFrom === 'env' ? `in ${PASSWORD_ENV}` : 'in the URL'}`);
  }
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) return new UserError(`cannot reach Redis at ${c.where} (connection refused): is redis-server running there?`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`cannot find the Redis host ${c.where} (${code})`);
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timed out/i.test(message)) return new UserError(`Redis at ${c.where} did not answer in time`);
  if (/certificate|SSL|TLS|EPROTO|wrong version number/i.test(message)) return new UserError(`TLS with Redis at ${c.where} failed: ${message}`);
  return undefined;
}

/** What the first contact found that the user should know but that does not stop the farm. */
export interface FarmCheck {
  /** One line each, in the user's words (the password never in them). */
  warnings: string[];
}

/**
 * The warning for a Redis whose persistence loses BullMQ's jobs on a restart, from its `INFO persistence`
 * text (undefined when the append-only file is on). Snapshots alone (RDB) keep only what was there at
 * the last save, so jobs submitted or finished since come back wrong or not at all.
 */
export function persistenceWarning(c: FarmConnection, info: string): string | undefined {
  const aof = /^aof_enabled:(\d+)/m.exec(info);
  if (!aof) return `cannot tell whether Redis at ${c.where} keeps an append-only file (INFO persistence has no aof_enabled): if it does not, submitted jobs are lost when it restarts`;
  if (aof[1] !== '0') return undefined;
  return `Redis at ${c.where} keeps no append-only file (appendonly no): jobs submitted since its last snapshot are lost if it restarts; set "appendonly yes" in its redis.conf (at once: redis-cli CONFIG SET appendonly yes, then CONFIG REWRITE)`;
}

/**
 * Contacts Redis once (connect, authenticate, PING) and throws a UserError that says what is wrong:
 * no server, a password needed, a wrong password, TLS trouble. Run before starting a worker or a submission.
 * Returns the warnings about a Redis that works but can lose jobs (no append-only file).
 */
export async function checkFarmConnection(c: FarmConnection, timeoutMs = 10_000): Promise<FarmCheck> {
  const client = new IORedis({ ...c.options, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: timeoutMs });
  let first: unknown; // the server's own reason (NOAUTH, WRONGPASS) comes as an event before "Connection is closed"
  client.on('error', (err) => { first ??= err; });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw explainRedisError(c, first) ?? explainRedisError(c, err) ?? new UserError(`cannot use Redis at ${c.where}: ${(err as Error).message}`);
  }
  try {
    const warnings: string[] = [];
    let info: string | undefined;
    try {
      info = await client.info('persistence');
    } catch (err) {
      // A managed Redis may refuse INFO to this user: the farm still works, the risk is only unknown.
      warnings.push(`cannot tell whether Redis at ${c.where} keeps an append-only file (INFO refused: ${(err as Error).message}): if it does not, submitted jobs are lost when it restarts`);
    }
    const w = info === undefined ? undefined : persistenceWarning(c, info);
    if (w) warnings.push(w);
    return { warnings };
  } finally {
    client.disconnect();
  }
}

/** Every key matching `pattern` (SCAN, never KEYS: a busy farm's Redis stays responsive). */
export async function scanKeys(client: IORedis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/**
 * The farm URL to store when the user edits the one shown to them: a password given as *** (the shown
 * form) is the stored URL's password, when the rest of the address is the same server.
 */
export function keepStoredPassword(edited: string, stored: string | null): string {
  let e: URL, s: URL;
  try {
    e = new URL(edited);
    if (!stored || e.password !== '***') return edited;
    s = new URL(stored);
  } catch {
    return edited; // parseRedisUrl says what is wrong with it
  }
  if (e.protocol !== s.protocol || e.host !== s.host || e.username !== s.username) {
    throw new UserError('the farm URL says *** as its password, which is the hidden form of the stored one: type the password for the new server');
  }
  e.password = s.password;
  return e.toString();
}
