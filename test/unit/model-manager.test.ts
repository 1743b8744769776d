// Specification of the models folder: listing by kind, atomic import, and downloads from a loopback
// HTTP server with progress, resume after an interrupted transfer, redirects and checksum verification.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { downloadModel, downloadTokenizer, importModel, listModels, resolveModelsDir } from '../../native-models/src/model-manager';
import { checkDownloadUrl, downloadFile, partialPathFor } from '../../native-models/src/model-download';
import { CancelToken, CancelledError, UserError } from '../../native-models/src/errors';
import { SD_TINY } from '../helpers/fixtures';
import { identityOnnxModel } from '../helpers/onnx-writer';
import { sampleProject } from '../helpers/project';
import { projectModelFiles } from '../../main/engine/render/keyframe-commit';

const fixtures = SD_TINY;
const lora = fs.readFileSync(path.join(fixtures, 'tiny-lora.safetensors'));
const loraSha = crypto.createHash('sha256').update(lora).digest('hex');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'models-test-'));
let dirCount = 0;
const freshDir = () => path.join(root, `models-${dirCount++}`);

/** What the test server does for one path; `cutAfter` closes the connection mid-body once. */
interface Route { body: Buffer; cutAfter?: number; ignoreRange?: boolean; status?: number; redirect?: string; stall?: boolean }
const routes = new Map<string, Route>();
const seenRanges: Array<string | undefined> = [];

const server = http.createServer((req, res) => {
  const route = routes.get((req.url ?? '').split('?')[0]);
  seenRanges.push(req.headers.range);
  if (!route) { res.writeHead(404).end(); return; }
  if (route.redirect) { res.writeHead(302, { location: route.redirect }).end(); return; }
  if (route.status) { res.writeHead(route.status).end(); return; }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (m && !route.ignoreRange) {
    start = Number(m[1]);
    if (start >= route.body.length) { res.writeHead(416, { 'content-range': `bytes */${route.body.length}` }).end(); return; }
    res.writeHead(206, { 'content-length': route.body.length - start, 'content-range': `bytes ${start}-${route.body.length - 1}/${route.body.length}` });
  } else {
    res.writeHead(200, { 'content-length': route.body.length });
  }
  if (route.stall) { res.write(route.body.subarray(start, start + 1000)); return; }
  if (route.cutAfter !== undefined) {
    const cut = route.cutAfter;
    route.cutAfter = undefined;
    res.write(route.body.subarray(start, cut), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(route.body.subarray(start));
});

const ready = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
after(() => {
  server.closeAllConnections();
  server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

test('given the fixture folders as models folders, then list finds every model by kind', async () => {
  const models = await listModels(fixtures);
  const byName = new Map(models.map((m) => [m.name, m]));
  assert.equal(byName.get('tiny-sd15.safetensors')?.kind, 'checkpoint');
  assert.equal(byName.get('tiny-controlnet.safetensors')?.kind, 'controlnet');
  assert.equal(byName.get('tiny-lora.safetensors')?.kind, 'lora');
  assert.equal(byName.get('controlnet')?.kind, 'controlnet');
  assert.equal(byName.get('tokenizer')?.kind, 'tokenizer');
  // A diffusers pipeline folder is one entry, not searched inside.
  assert.deepEqual((await listModels(path.dirname(fixtures))).filter((m) => m.name === 'sd-tiny').map((m) => m.kind), ['diffusers']);
  assert.deepEqual(await listModels(path.join(root, 'does-not-exist')), []);
});

test('given no choice, then the models folder comes from RERENDER_MODELS, else the home default', () => {
  assert.equal(resolveModelsDir('/x/models', { RERENDER_MODELS: '/env' }), path.resolve('/x/models'));
  assert.equal(resolveModelsDir(undefined, { RERENDER_MODELS: '/env' }), path.resolve('/env'));
  assert.equal(resolveModelsDir(undefined, {}, '/home/u'), path.resolve('/home/u/.rerender/models'));
});

test('given a LoRA file and a diffusers folder, when imported, then they land in their kind folders and list shows them', async () => {
  const dir = freshDir();
  const progress: number[] = [];
  const imported = await importModel(dir, path.join(fixtures, 'tiny-lora.safetensors'), { onProgress: (f) => progress.push(f) });
  assert.equal(imported.path, path.join(dir, 'loras', 'tiny-lora.safetensors'));
  assert.deepEqual(fs.readFileSync(imported.path), lora);
  assert.equal(progress.at(-1), 1);
  const folder = await importModel(dir, path.join(fixtures, 'vae'), { name: 'my-vae' });
  assert.equal(folder.kind, 'vae');
  assert.ok(fs.existsSync(path.join(dir, 'vaes', 'my-vae', 'config.json')));
  assert.deepEqual((await listModels(dir)).map((m) => [m.kind, m.name]), [['lora', 'tiny-lora.safetensors'], ['vae', 'my-vae']]);
  await assert.rejects(importModel(dir, path.join(fixtures, 'tiny-lora.safetensors')), /already installed/);
  assert.ok(!fs.readdirSync(path.join(dir, 'loras')).some((f) => f.startsWith('.importing')));
});

test('given a file that is not a usable model, then import refuses it with the reason', async () => {
  const bad = path.join(root, 'model.ckpt');
  fs.writeFileSync(bad, 'pickle');
  await assert.rejects(importModel(freshDir(), bad), (err: unknown) => err instanceof UserError && /pickle/.test(err.message) && err.message.includes(bad));
  await assert.rejects(importModel(freshDir(), path.join(fixtures, 'README.md')), /not a model file/);
});

test('given a text file named .onnx, a folder whose model_index.json is {} or one without the vae, then import refuses each in one line naming it and what is wrong; a real ONNX model and a whole pipeline folder import', async () => {
  const fake = path.join(root, 'fake.onnx');
  fs.writeFileSync(fake, 'hello\n');
  const oneLine = (re: RegExp, file: string) => (err: unknown) => err instanceof UserError && re.test(err.message) && err.message.startsWith(`${file}: `) && !err.message.includes('\n');
  await assert.rejects(importModel(freshDir(), fake), oneLine(/cannot be used: not an ONNX model/, fake));
  const truncated = path.join(root, 'truncated.onnx');
  fs.writeFileSync(truncated, identityOnnxModel().subarray(0, 20));
  await assert.rejects(importModel(freshDir(), truncated), oneLine(/not a complete ONNX model/, truncated));
  const emptyIndex = path.join(root, 'fakediffusers');
  fs.mkdirSync(emptyIndex);
  fs.writeFileSync(path.join(emptyIndex, 'model_index.json'), '{}');
  await assert.rejects(importModel(freshDir(), emptyIndex), oneLine(/cannot be used: its model_index.json names no pipeline class/, emptyIndex));
  const other = path.join(root, 'other-pipeline');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'model_index.json'), JSON.stringify({ _class_name: 'AudioLDMPipeline' }));
  await assert.rejects(importModel(freshDir(), other), oneLine(/names AudioLDMPipeline, not a Stable Diffusion pipeline/, other));
  const noVae = path.join(root, 'no-vae');
  fs.cpSync(fixtures, noVae, { recursive: true });
  fs.rmSync(path.join(noVae, 'vae', 'diffusion_pytorch_model.safetensors'));
  await assert.rejects(importModel(freshDir(), noVae), oneLine(/lacks the vae\/ component a render needs/, noVae));
  // A project that already holds such a folder (chosen before this check, or edited since) is refused by the same check at render.
  const project = { ...sampleProject(), models: { ...sampleProject().models, checkpoint: emptyIndex } };
  await assert.rejects(projectModelFiles(path.join(root, 'clip.rerender'), project, freshDir()), (err: unknown) =>
    oneLine(/cannot be used as the checkpoint: its model_index.json names no pipeline class/, emptyIndex)(err) && !/tokenizer/.test((err as Error).message));
  const listed = await listModels(root);
  assert.match(listed.find((m) => m.name === 'fake.onnx')?.problem ?? '', /not an ONNX model/, 'a models folder holding one lists it with its problem');

  const dir = freshDir();
  const real = path.join(root, 'identity.onnx');
  fs.writeFileSync(real, identityOnnxModel());
  assert.equal((await importModel(dir, real)).kind, 'onnx');
  assert.equal((await importModel(dir, fixtures)).kind, 'diffusers');
  assert.deepEqual((await listModels(dir)).map((m) => [m.kind, m.problem]), [['diffusers', undefined], ['onnx', undefined]]);
});

test('given a URL and its SHA-256, when downloaded, then the model is installed by kind with progress reported', async () => {
  const base = await ready;
  routes.set('/files/tiny-lora.safetensors', { body: lora });
  const dir = freshDir();
  const progress: number[] = [];
  const model = await downloadModel(dir, `${base}/files/tiny-lora.safetensors?download=1`, { sha256: loraSha.toUpperCase(), onProgress: (f) => progress.push(f) });
  assert.equal(model.kind, 'lora');
  assert.equal(model.sha256, loraSha);
  assert.equal(model.path, path.join(dir, 'loras', 'tiny-lora.safetensors'));
  assert.deepEqual(fs.readFileSync(model.path), lora);
  await assert.rejects(downloadModel(dir, `${base}/files/tiny-lora.safetensors`), /already installed/);
  assert.ok(progress.length > 1 && progress.every((p, i) => i === 0 || p >= progress[i - 1]));
  assert.equal(progress.at(-1), 1);
});

test('given a transfer cut off midway, when downloaded again, then it resumes with a Range request and verifies the whole file', async () => {
  const base = await ready;
  const cut = 100_000;
  routes.set('/cut/lora.safetensors', { body: lora, cutAfter: cut });
  const target = path.join(freshDir(), 'lora.safetensors');
  await assert.rejects(downloadFile(`${base}/cut/lora.safetensors`, target, { sha256: loraSha }), (err: unknown) => err instanceof UserError && /resume/.test(err.message));
  const kept = fs.statSync(partialPathFor(target)).size;
  assert.ok(kept > 0 && kept <= cut, `partial file keeps what arrived (${kept})`);
  assert.ok(!fs.existsSync(target));
  seenRanges.length = 0;
  const result = await downloadFile(`${base}/cut/lora.safetensors`, target, { sha256: loraSha });
  assert.deepEqual(seenRanges, [`bytes=${kept}-`]);
  assert.equal(result.sha256, loraSha);
  assert.deepEqual(fs.readFileSync(target), lora);
  assert.ok(!fs.existsSync(partialPathFor(target)));
});

test('given a server that ignores Range, then a stale partial file is replaced, not appended to', async () => {
  const base = await ready;
  routes.set('/norange/lora.safetensors', { body: lora, ignoreRange: true });
  const target = path.join(freshDir(), 'lora.safetensors');
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(partialPathFor(target), Buffer.alloc(5000, 7));
  const result = await downloadFile(`${base}/norange/lora.safetensors`, target, { sha256: loraSha });
  assert.equal(result.bytes, lora.length);
  assert.deepEqual(fs.readFileSync(target), lora);
});

test('given a wrong SHA-256, then the download fails, says so, and keeps nothing', async () => {
  const base = await ready;
  routes.set('/files/tiny-lora.safetensors', { body: lora });
  const dir = freshDir();
  await assert.rejects(downloadModel(dir, `${base}/files/tiny-lora.safetensors`, { sha256: '0'.repeat(64) }), (err: unknown) => err instanceof UserError && /checksum mismatch/.test(err.message) && err.message.includes(loraSha));
  assert.deepEqual(await listModels(dir), []);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'downloads')), []);
});

test('given a redirect, a 404 and a file that is not a model, then each ends as the user would expect', async () => {
  const base = await ready;
  routes.set('/files/tiny-lora.safetensors', { body: lora });
  routes.set('/moved/tiny-lora.safetensors', { body: lora, redirect: `${base}/files/tiny-lora.safetensors` });
  routes.set('/junk.safetensors', { body: crypto.randomBytes(3000) });
  const dir = freshDir();
  assert.equal((await downloadModel(dir, `${base}/moved/tiny-lora.safetensors`)).kind, 'lora');
  await assert.rejects(downloadModel(freshDir(), `${base}/missing.safetensors`), /HTTP 404/);
  await assert.rejects(downloadModel(dir, `${base}/junk.safetensors`), /not a usable model.*deleted/);
  await assert.rejects(downloadModel(dir, 'ftp://example.invalid/x'), /ftp: is refused: models are downloaded over https only/);
});

test('given plain http to another machine without --sha256, then the download is refused before any connection; https or a checksum is asked for', async () => {
  const dir = freshDir();
  await assert.rejects(downloadModel(dir, 'http://example.invalid/model.safetensors'), (err: unknown) => err instanceof UserError && /plain http can be altered.*https link.*--sha256/.test(err.message));
  assert.equal(fs.existsSync(dir), false, 'nothing was created');
});

test('given a --sha256 that is not 64 hex digits, then it is refused with the reason before anything is fetched', async () => {
  const base = await ready;
  routes.set('/files/tiny-lora.safetensors', { body: lora });
  const asked = seenRanges.length;
  for (const bad of ['abc', 'g'.repeat(64), loraSha.slice(1), loraSha + '0', `sha256:${loraSha}`, '']) {
    const dir = freshDir();
    await assert.rejects(downloadModel(dir, `${base}/files/tiny-lora.safetensors`, { sha256: bad }), (err: unknown) => err instanceof UserError && /--sha256 expects the file's SHA-256 as 64 hexadecimal digits/.test(err.message), bad);
    await assert.rejects(downloadFile(`${base}/files/tiny-lora.safetensors`, path.join(dir, 'x'), { sha256: bad }), /64 hexadecimal digits/, bad);
    assert.equal(fs.existsSync(dir), false, bad);
  }
  assert.equal(seenRanges.length, asked, 'no request reached the server');
});

test('given redirects to another protocol, to plain http elsewhere, or to no URL at all, then each is refused with a clear error', async () => {
  const base = await ready;
  routes.set('/to-file', { body: lora, redirect: 'file:///etc/passwd' });
  routes.set('/to-data', { body: lora, redirect: 'data:text/plain,hello' });
  routes.set('/to-http-elsewhere', { body: lora, redirect: 'http://example.invalid/tiny-lora.safetensors' });
  routes.set('/to-nothing', { body: lora, redirect: 'http://[::1' });
  await assert.rejects(downloadModel(freshDir(), `${base}/to-file`), (err: unknown) => err instanceof UserError && /redirected to file:\/\/\/etc\/passwd, file: is refused/.test(err.message));
  await assert.rejects(downloadModel(freshDir(), `${base}/to-data`), (err: unknown) => err instanceof UserError && /data: is refused/.test(err.message));
  await assert.rejects(downloadModel(freshDir(), `${base}/to-http-elsewhere`), (err: unknown) => err instanceof UserError && /redirected to http:\/\/example\.invalid.*plain http/.test(err.message));
  await assert.rejects(downloadModel(freshDir(), `${base}/to-nothing`), (err: unknown) => err instanceof UserError && /which is not a URL/.test(err.message));
});

test('given an https URL, then a redirect down to http is refused even with a checksum; https to https and http with a checksum to https are followed', () => {
  const https = new URL('https://models.example/a.safetensors');
  assert.throws(() => checkDownloadUrl(new URL('http://cdn.example/a'), https, loraSha), (err: unknown) => err instanceof UserError && /downgrade from https to plain http/.test(err.message));
  assert.throws(() => checkDownloadUrl(new URL('http://127.0.0.1/a'), https, undefined), /downgrade/);
  assert.doesNotThrow(() => checkDownloadUrl(new URL('https://cdn.example/a'), https, undefined));
  assert.doesNotThrow(() => checkDownloadUrl(new URL('https://cdn.example/a'), new URL('http://models.example/a'), loraSha));
  assert.doesNotThrow(() => checkDownloadUrl(new URL('http://mirror.example/a'), undefined, loraSha));
  assert.throws(() => checkDownloadUrl(new URL('http://mirror.example/a'), undefined, undefined), /plain http/);
});

test('given a download the user cancels, then it stops with CancelledError and keeps the partial file', async () => {
  const base = await ready;
  routes.set('/slow/lora.safetensors', { body: lora, stall: true });
  const target = path.join(freshDir(), 'lora.safetensors');
  const cancel = new CancelToken();
  const pending = downloadFile(`${base}/slow/lora.safetensors`, target, { cancel, onProgress: () => cancel.cancel() });
  await assert.rejects(pending, (err: unknown) => err instanceof CancelledError);
  assert.ok(fs.existsSync(partialPathFor(target)));
});

test('given the user asks for the tokenizer, then vocab.json and merges.txt are fetched into tokenizers/', async () => {
  const base = await ready;
  for (const f of ['vocab.json', 'merges.txt']) routes.set(`/tok/${f}`, { body: fs.readFileSync(path.join(fixtures, 'tokenizer', f)) });
  const dir = freshDir();
  const folder = await downloadTokenizer(dir, { baseUrl: `${base}/tok` });
  assert.equal(folder, path.join(dir, 'tokenizers', 'clip-vit-large-patch14'));
  assert.deepEqual((await listModels(dir)).map((m) => m.kind), ['tokenizer']);
});
