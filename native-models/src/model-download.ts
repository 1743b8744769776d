// Downloads one file over HTTP(S) into a folder, resuming an interrupted transfer with a Range request
// and verifying its SHA-256; only ever called because the user asked for that URL.
// Transport rules (SECURITY.md): https, or plain http only with a SHA-256 to check the file against (or to
// this machine's loopback, where no one sits between); a redirect must obey the same rules, may never go
// from https down to http, and may not leave http(s) at all (file:, ftp:, data: …).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { CancelledError, UserError, type CancelToken, type ProgressFn } from './errors';

export interface DownloadOptions {
  /** Expected SHA-256 (hex) of the whole file; the file is kept only when it matches. */
  sha256?: string;
  onProgress?: ProgressFn;
  cancel?: CancelToken;
  /** Redirects to follow (Hugging Face and similar hosts redirect to a CDN). */
  maxRedirects?: number;
}

/** The unfinished download beside its target; kept on failure or cancel so the next try resumes. */
export function partialPathFor(target: string): string {
  return `${target}.partial`;
}

/** A file name for a URL: the last path segment, stripped of query and anything unsafe. */
export function fileNameFromUrl(url: string): string {
  let name = '';
  try { name = decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? ''); } catch { /* fall through */ }
  name = name.replace(/[^\w.\-+ ]/g, '_').replace(/^\.+/, '');
  return name || 'download';
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** A --sha256 value: 64 hexadecimal digits (either case); anything else is refused before any transfer. */
export function checkSha256(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!SHA256_HEX.test(v)) throw new UserError(`--sha256 expects the file's SHA-256 as 64 hexadecimal digits, got ${JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value)} (${v.length} characters)`);
  return v.toLowerCase();
}

function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Whether `next` may be fetched: the first URL (`from` undefined) or a redirect's target from `from`.
 * Throws a UserError saying why not.
 */
export function checkDownloadUrl(next: URL, from: URL | undefined, sha256: string | undefined): void {
  const where = from ? `the server redirected to ${next.toString()}, ` : '';
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new UserError(`${where}${next.protocol} is refused: models are downloaded over https only (or http with --sha256)`, (from ?? next).toString());
  }
  if (from?.protocol === 'https:' && next.protocol === 'http:') {
    throw new UserError(`${where}a downgrade from https to plain http; refused (ask the host for an https link)`, from.toString());
  }
  if (next.protocol === 'http:' && !sha256 && !isLoopback(next)) {
    throw new UserError(`${where}plain http can be altered on the way; use an https link, or give the file's --sha256 to check it against`, (from ?? next).toString());
  }
}

async function hashFilePrefix(file: string, hash: crypto.Hash): Promise<void> {
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
}

function request(url: URL, headers: Record<string, string>, cancel?: CancelToken): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { headers: { 'user-agent': 'rerender-model-manager', ...headers } }, resolve);
    req.on('error', (err) => reject(new UserError(`download failed: ${err.message}`, url.toString())));
    cancel?.onCancel(() => req.destroy(new CancelledError()));
  });
}

/**
 * Downloads `url` to `target` (atomic: `<target>.partial`, then rename). An existing partial file is
 * resumed with `Range: bytes=<size>-`; a server that ignores ranges restarts it. Returns the SHA-256.
 */
export async function downloadFile(url: string, target: string, opts: DownloadOptions = {}): Promise<{ sha256: string; bytes: number }> {
  const sha256 = checkSha256(opts.sha256);
  let current: URL;
  try { current = new URL(url); } catch { throw new UserError(`"${url}" is not a URL`); }
  checkDownloadUrl(current, undefined, sha256);
  const partial = partialPathFor(target);
  await fs.promises.mkdir(path.dirname(target), { recursive: true });
  let have = (await fs.promises.stat(partial).catch(() => undefined))?.size ?? 0;
  let redirects = opts.maxRedirects ?? 5;
  let response: http.IncomingMessage;
  for (;;) {
    opts.cancel?.throwIfCancelled();
    response = await request(current, have > 0 ? { range: `bytes=${have}-` } : {}, opts.cancel);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      if (redirects-- <= 0) throw new UserError('download failed: too many redirects', url);
      let next: URL;
      try { next = new URL(response.headers.location, current); } catch { throw new UserError(`download failed: the server redirected to ${JSON.stringify(response.headers.location.slice(0, 200))}, which is not a URL`, current.toString()); }
      checkDownloadUrl(next, current, sha256);
      current = next;
      continue;
    }
    break;
  }
  const status = response.statusCode ?? 0;
  let total: number | undefined;
  if (status === 416 && have > 0) {
    // Nothing left to send: the partial file is already complete.
    response.resume();
    total = have;
  } else if (status === 206) {
    const m = /\/(\d+)$/.exec(String(response.headers['content-range'] ?? ''));
    total = m ? Number(m[1]) : undefined;
  } else if (status === 200) {
    have = 0; // the server ignored the range: start over
    const length = Number(response.headers['content-length']);
    total = Number.isFinite(length) && response.headers['content-length'] !== undefined ? length : undefined;
  } else {
    response.resume();
    throw new UserError(`download failed: the server answered HTTP ${status}`, url);
  }

  const hash = crypto.createHash('sha256');
  if (have > 0) await hashFilePrefix(partial, hash);
  if (status !== 416) {
    const out = fs.createWriteStream(partial, { flags: have > 0 ? 'a' : 'w' });
    let received = have;
    try {
      await new Promise<void>((resolve, reject) => {
        response.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          received += chunk.length;
          if (!out.write(chunk)) { response.pause(); out.once('drain', () => response.resume()); }
          if (total) opts.onProgress?.(Math.min(1, received / total), `${(received / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`);
        });
        response.on('end', () => out.end(resolve));
        response.on('error', reject);
        response.on('aborted', () => reject(new UserError('download interrupted; run it again to resume', url)));
        out.on('error', reject);
      });
    } catch (err) {
      // Flush what arrived so the next attempt resumes from it.
      await new Promise<void>((resolve) => { out.once('error', () => resolve()); out.end(() => resolve()); });
      if (opts.cancel?.cancelled) throw new CancelledError();
      throw err instanceof UserError || err instanceof CancelledError ? err : new UserError(`download interrupted (${(err as Error).message}); run it again to resume`, url);
    }
  }
  const bytes = (await fs.promises.stat(partial)).size;
  if (total !== undefined && bytes !== total) throw new UserError(`download incomplete (${bytes} of ${total} bytes); run it again to resume`, url);
  const digest = hash.digest('hex');
  if (sha256 && digest !== sha256) {
    await fs.promises.rm(partial, { force: true });
    throw new UserError(`checksum mismatch: expected SHA-256 ${sha256}, got ${digest}; the file was deleted`, url);
  }
  await fs.promises.rename(partial, target);
  opts.onProgress?.(1, 'downloaded');
  return { sha256: digest, bytes };
}
