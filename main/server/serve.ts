// Serve mode: the editor's renderer in a browser on loopback, with the same API over a WebSocket bridge.
// Bound to 127.0.0.1 only; a random per-session token (given once in the URL, then an HttpOnly cookie)
// guards every HTTP and WebSocket request; Host and Origin are checked against DNS rebinding.
import http from 'node:http';
import fs from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Editor } from '../engine/editor/editor-api';
import { events } from '../../preload/api';
import { MediaError, confinedFile, contentTypeOf, rendererCsp, resolveMediaFile, urlSegments } from '../engine/editor/media-files';
import { attachBridge } from './ws-bridge';

export const SESSION_COOKIE = 'rerender_session';
const LOOPBACK = '127.0.0.1';

export interface ServeOptions {
  editor: Editor;
  rendererDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Fixed token (tests); normally random. */
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function sameSecret(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a), y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function startServer(opts: ServeOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  let port = 0;
  const allowedHosts = () => [`${LOOPBACK}:${port}`, `localhost:${port}`];

  const authorised = (req: http.IncomingMessage, url: URL): boolean => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    return sameSecret(cookieValue(req.headers.cookie, SESSION_COOKIE), token) || sameSecret(bearer, token) || sameSecret(url.searchParams.get('token') ?? undefined, token);
  };

  const refuse = (res: http.ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(message + '\n');
  };

  const sendFile = (req: http.IncomingMessage, res: http.ServerResponse, file: string, headers: Record<string, string>) => {
    const stat = fs.statSync(file);
    res.writeHead(200, { 'content-type': contentTypeOf(file), 'content-length': String(stat.size), 'x-content-type-options': 'nosniff', ...headers });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}`);
    if (!allowedHosts().includes(req.headers.host ?? '')) return refuse(res, 403, 'forbidden host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    if (!authorised(req, url)) return refuse(res, 401, 'this editor session needs the link with its token, as printed by `rerender serve`');
    if (url.searchParams.has('token')) {
      // Trade the token in the URL for a cookie once, so it does not stay in the address bar or history.
      // Always to `/`: echoing the path back would make `/.//evil.example/?token=…` an open redirect.
      res.writeHead(303, { location: '/', 'set-cookie': `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` });
      return void res.end();
    }
    try {
      const segments = url.pathname === '/' ? ['index.html'] : urlSegments(url.pathname);
      if (segments[0] === 'media') {
        const file = opts.editor.session.file;
        if (!file) return refuse(res, 404, 'no project is open');
        return sendFile(req, res, resolveMediaFile(file, url.pathname.replace(/^\/media\//, ''), opts.editor.session.project()), { 'cache-control': 'private, max-age=3600' });
      }
      const file = confinedFile(opts.rendererDir, segments);
      const html = file.endsWith('.html');
      // Scripts carry the policy too: a worker's policy is the one its own script arrived with.
      const csp = rendererCsp(`'self' ws://${req.headers.host}`);
      sendFile(req, res, file, html
        ? { 'cache-control': 'no-store', 'content-security-policy': csp, 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' }
        : { 'cache-control': 'no-cache', ...(file.endsWith('.js') ? { 'content-security-policy': csp } : {}) });
    } catch (err) {
      if (err instanceof MediaError) return refuse(res, err.status, err.status === 403 ? 'forbidden' : 'not found');
      refuse(res, 500, 'internal error');
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    // From here the socket is ours, not the HTTP server's: a peer that resets it (before or after the
    // refusal below) must not become an uncaught 'error' that takes the server down.
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}`);
    const origin = req.headers.origin;
    const okOrigin = origin === undefined || allowedHosts().some((h) => origin === `http://${h}`);
    if (url.pathname !== '/bridge' || !allowedHosts().includes(req.headers.host ?? '') || !okOrigin || !authorised(req, url)) {
      if (socket.writable) socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => attachBridge(ws, opts.editor, Object.keys(events) as Array<keyof typeof events>));
  });

  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new Error(`port ${opts.port} is in use; choose another with --port, or leave it out to pick a free one`) : err));
    server.listen(opts.port ?? 0, LOOPBACK, () => {
      port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${LOOPBACK}:${port}/?token=${token}`,
        port,
        token,
        close: () => new Promise<void>((done) => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}
