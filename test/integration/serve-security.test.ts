// Serve mode's guards on a real server: loopback only, nothing without the session token (HTTP and
// WebSocket), Host and Origin checked, media and renderer files confined, the bridge validating calls.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { startServer, SESSION_COOKIE, type RunningServer } from '../../main/server/serve';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { projectPaths } from '../../main/engine/project/paths';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

function get(port: number, rawPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function openSocket(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function ask(ws: WebSocket, msg: unknown): Promise<any> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data))));
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

describe('serve mode security', () => {
  let editor: Editor;
  let server: RunningServer;
  let cookie: string;
  let rendererDir: string;

  before(async () => {
    const dir = tempDir('rerender-serve-');
    const file = path.join(dir, 'clip.rerender');
    await writeProjectFile(file, sampleProject(20, [0, 10]));
    fs.mkdirSync(projectPaths(file).framesDir, { recursive: true });
    fs.writeFileSync(path.join(projectPaths(file).framesDir, '00000.png'), 'png bytes');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    rendererDir = path.join(dir, 'renderer');
    fs.mkdirSync(rendererDir);
    fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
    fs.writeFileSync(path.join(rendererDir, 'app.js'), 'console.log(1)');
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
    await editor.handlers['project.open']({ file });
    server = await startServer({ editor, rendererDir });
    cookie = `${SESSION_COOKIE}=${server.token}`;
  });

  after(async () => {
    editor.dispose();
    await server.close();
  });

  test('given the server, then it listens on 127.0.0.1 only and not on other interfaces', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // no other interface on this machine
    await assert.rejects(new Promise((resolve, reject) => {
      const req = http.get({ host: external.address, port: server.port, path: '/', timeout: 2000 }, resolve);
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
    }));
  });

  test('given no token or a wrong one, when anything is requested, then the answer is 401', async () => {
    for (const p of ['/', '/index.html', '/app.js', '/media/frames/00000.png']) {
      assert.equal((await get(server.port, p)).status, 401, p);
      assert.equal((await get(server.port, p, { cookie: `${SESSION_COOKIE}=wrong` })).status, 401, p);
    }
    assert.equal((await get(server.port, '/?token=wrong')).status, 401);
  });

  test('given the link with the token, then it is traded for an HttpOnly SameSite cookie and the page is served with a CSP', async () => {
    const first = await get(server.port, `/?token=${server.token}`);
    assert.equal(first.status, 303);
    assert.equal(first.headers.location, '/');
    assert.match(String(first.headers['set-cookie']), /HttpOnly/);
    assert.match(String(first.headers['set-cookie']), /SameSite=Strict/);
    const page = await get(server.port, '/', { cookie });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal((await get(server.port, '/media/frames/00000.png', { cookie })).body, 'png bytes');
  });

  test('given the token link with a path that reads as another host, then the exchange redirects to / only (no open redirect)', async () => {
    for (const p of ['/.//evil.example/', '//evil.example/', '/%2F%2Fevil.example/', '/\\evil.example/', '/app.js', '/media/frames/00000.png']) {
      const r = await get(server.port, `${p}?token=${server.token}&next=//evil.example`);
      assert.equal(r.status, 303, p);
      assert.equal(r.headers.location, '/', p);
    }
  });

  test('given a foreign Host header (DNS rebinding) or a write method, then the request is refused', async () => {
    assert.equal((await get(server.port, '/', { cookie, host: `evil.example:${server.port}` })).status, 403);
    assert.equal((await get(server.port, '/', { cookie }, 'POST')).status, 405);
  });

  test('given traversal in media or renderer paths, then nothing outside is served', async () => {
    for (const p of ['/media/project/..%2Fsecret.txt', '/media/project/%2e%2e/secret.txt', '/media/frames/..%2F..%2Fsecret.txt', '/..%2Fsecret.txt', '/%2e%2e/secret.txt', '/media/project/..%5Csecret.txt', '/../secret.txt', '/media/../secret.txt']) {
      const r = await get(server.port, p, { cookie });
      assert.ok(r.status === 403 || r.status === 404, `${p} → ${r.status}`);
      assert.ok(!r.body.includes('secret'), p);
    }
  });

  test('given a WebSocket without the token or from another origin, then the upgrade is refused', async () => {
    const ws = `ws://127.0.0.1:${server.port}/bridge`;
    await assert.rejects(openSocket(ws, {}), /401/);
    await assert.rejects(openSocket(ws, { cookie: `${SESSION_COOKIE}=nope` }), /401/);
    await assert.rejects(openSocket(ws, { cookie, origin: 'https://evil.example' }), /401/);
    await assert.rejects(openSocket(`ws://127.0.0.1:${server.port}/other`, { cookie }), /401/);
  });

  test('given an authorised bridge, then calls are validated: good ones answer, bad ones are refused with a reason', async () => {
    const ws = await openSocket(`ws://127.0.0.1:${server.port}/bridge`, { cookie, origin: `http://127.0.0.1:${server.port}` });
    try {
      const state = await ask(ws, { id: 1, name: 'project.state', params: {} });
      assert.equal(state.id, 1);
      assert.equal(state.reply.ok, true);
      assert.deepEqual(state.reply.value.project.keyframes.map((k: { frame: number }) => k.frame), [0, 10]);
      const unknown = await ask(ws, { id: 2, name: 'fs.read', params: {} });
      assert.match(unknown.reply.error.message, /unknown call/);
      const bad = await ask(ws, { id: 3, name: 'project.edit', params: { action: 'addKeyframe', frame: 'x' } });
      assert.match(bad.reply.error.message, /bad parameters/);
      const junk = await ask(ws, 'not json');
      assert.match(junk.reply.error.message, /malformed/);
      const outside = await ask(ws, { id: 4, name: 'project.edit', params: { action: 'addKeyframe', frame: 999 } });
      assert.match(outside.reply.error.message, /outside the video/);
    } finally {
      ws.close();
    }
  });
});
