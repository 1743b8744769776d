// `rerender serve` survives its clients: raw TCP peers that reset the connection after an upgrade
// request (with or without the token), and token holders that send a frame with a reserved opcode or
// a message over the size limit, are dropped; the server and every other client carry on.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { startServe, type ServeProcess } from '../helpers/serve';
import { tempDir } from '../helpers/media';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { sampleProject } from '../helpers/project';

/** A raw TCP client: connect, write the bytes, and resolve once they are flushed. */
function rawClient(port: number, bytes: Buffer | string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes, () => resolve(socket)));
    socket.on('error', () => undefined); // the server may answer with a reset; that is the point
    socket.once('error', reject);
  });
}

/** Reads until the server closes the connection (or it resets); resolves with what came back. */
function untilClosed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (d) => { got += d.toString('latin1'); });
    socket.once('close', () => resolve(got));
  });
}

function upgradeRequest(port: number, extra: string[] = []): string {
  return [
    'GET /bridge HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A masked client frame with the given first byte (FIN + opcode) and payload. */
function frame(firstByte: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  const len = payload.length;
  const header = len < 126 ? Buffer.from([firstByte, 0x80 | len]) : Buffer.from([firstByte, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([header, mask, masked]);
}

/** A frame header that announces a 64-bit length (here 128 MiB, over the 64 MiB limit), no payload yet. */
function oversizedHeader(): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x81; // FIN + text
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(128n * 1024n * 1024n, 2);
  header.set([1, 2, 3, 4], 10);
  return header;
}

async function upgraded(port: number, cookie: string): Promise<net.Socket> {
  const socket = await rawClient(port, upgradeRequest(port, [`Cookie: ${cookie}`, `Origin: http://127.0.0.1:${port}`]));
  await new Promise<void>((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (got.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(`upgrade refused: ${got.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
  });
  return socket;
}

function openBridge(port: number, cookie: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/bridge`, { headers: { cookie, origin: `http://127.0.0.1:${port}` } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, name: string): Promise<any> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(String(data));
      if (msg.id !== id) return;
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ id, name, params: {} }));
  });
}

describe('serve mode survives misbehaving clients', () => {
  let serve: ServeProcess;
  let port: number;
  let cookie: string;
  let bystander: WebSocket;
  let exitCode: number | null = null;

  before(async () => {
    const dir = tempDir('rerender-serve-clients-');
    const file = path.join(dir, 'clip.rerender');
    await writeProjectFile(file, sampleProject(20, [0, 10]));
    serve = await startServe(['--project', file, '--settings', path.join(dir, 'settings.json')]);
    serve.child.once('exit', (code) => { exitCode = code; });
    const url = new URL(serve.url);
    port = Number(url.port);
    cookie = `rerender_session=${url.searchParams.get('token')}`;
    bystander = await openBridge(port, cookie);
    assert.equal((await call(bystander, 1, 'project.state')).reply.ok, true);
    fs.writeFileSync(path.join(dir, 'marker'), '');
  });

  after(async () => {
    bystander?.terminate();
    await serve?.stop();
  });

  const stillServing = async (id: number) => {
    assert.equal(exitCode, null, 'the server process exited');
    assert.equal((await call(bystander, id, 'project.state')).reply.ok, true, 'a connected client still gets answers');
    const fresh = await openBridge(port, cookie);
    try {
      assert.equal((await call(fresh, id + 1, 'project.state')).reply.ok, true, 'a new client is served');
    } finally {
      fresh.close();
    }
  };

  test('given 60 upgrade requests without the token, each followed by a TCP reset, then the server carries on', async () => {
    for (let i = 0; i < 60; i++) {
      const socket = await rawClient(port, upgradeRequest(port));
      socket.resetAndDestroy();
    }
    // And a few that wait for the refusal, to be sure the refusal path itself is still taken.
    const socket = await rawClient(port, upgradeRequest(port));
    assert.match(await untilClosed(socket), /^HTTP\/1\.1 401/);
    await stillServing(10);
  });

  test('given 30 upgrades with the token, each reset right after the handshake, then the server carries on', async () => {
    for (let i = 0; i < 30; i++) {
      const socket = await upgraded(port, cookie);
      socket.resetAndDestroy();
    }
    await stillServing(20);
  });

  test('given a frame with a reserved opcode, then that client is dropped and the others carry on', async () => {
    for (const opcode of [0x83, 0x8b, 0xc1]) { // reserved data opcode, reserved control opcode, RSV1 set without an extension
      const socket = await upgraded(port, cookie);
      const closed = untilClosed(socket);
      socket.write(frame(opcode, Buffer.from('hello')));
      await closed;
    }
    await stillServing(30);
  });

  test('given a message over the size limit, then that client is dropped and the others carry on', async () => {
    const socket = await upgraded(port, cookie);
    const closed = untilClosed(socket);
    socket.write(oversizedHeader());
    await closed;
    await stillServing(40);
  });

  test('given a client that resets in the middle of a frame or while a reply is on its way, then the server carries on', async () => {
    for (let i = 0; i < 20; i++) {
      const socket = await upgraded(port, cookie);
      const message = Buffer.from(JSON.stringify({ id: i, name: 'project.state', params: {} }));
      const whole = frame(0x81, message);
      socket.write(i % 2 ? whole : whole.subarray(0, whole.length >> 1), () => socket.resetAndDestroy());
    }
    await stillServing(50);
  });
});
