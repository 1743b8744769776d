// Strict command-line parsing: a mistyped option or a stray argument is an error that names it (and the
// option meant, when one is close), nothing runs; every option a command reads is one it accepts; and
// `rerender serve <project>` opens that project, like every other command takes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { rerender } from '../helpers/cli';
import { startServe } from '../helpers/serve';
import { tempDir } from '../helpers/media';
import { sampleProject } from '../helpers/project';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { commands } from '../../main/cli/commands';
import { acceptedOptions } from '../../main/cli/command';

test('given a mistyped option, when any command runs, then it fails naming the option and the one meant, and the project is untouched', async () => {
  const dir = tempDir('rerender-cli-strict-');
  const file = path.join(dir, 'clip.rerender');
  await writeProjectFile(file, sampleProject(20, [0, 10]));
  const before = fs.readFileSync(file, 'utf8');
  const r = rerender(['render', file, '--promt', 'a watercolour']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown option --promt for rerender render \(did you mean --prompt\?\)/);
  assert.equal(fs.readFileSync(file, 'utf8'), before);
  const json = rerender(['keyframes', file, '--evry', '5', '--json']);
  assert.equal(json.code, 1);
  assert.match(json.json().error, /unknown option --evry .*did you mean --every/);
});

test('given a stray argument, then the command fails naming it and how many it takes', async () => {
  const dir = tempDir('rerender-cli-strict-');
  const file = path.join(dir, 'clip.rerender');
  await writeProjectFile(file, sampleProject(20, [0, 10]));
  const r = rerender(['info', file, 'other.rerender']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unexpected argument "other\.rerender": rerender info takes 1 argument besides its options/);
  assert.equal(rerender(['info', file]).code, 0, 'the same command without it runs');
});

test('given a value outside the project schema\'s range, then the command says the schema\'s range', async () => {
  const dir = tempDir('rerender-cli-strict-');
  const file = path.join(dir, 'clip.rerender');
  await writeProjectFile(file, sampleProject(20, [0, 10]));
  assert.match(rerender(['render', file, '--steps', '0']).stderr, /--steps must be from 1 to 1000, got 0/);
  assert.match(rerender(['render', file, '--strength', '1.5']).stderr, /--strength \(the denoising strength\) must be from 0 to 1, got 1\.5/);
});

test('every option a command reads is one its usage names (the usage is the list of options)', () => {
  const dir = path.join(__dirname, '..', '..', 'main', 'cli', 'commands');
  const accepted = new Set(commands.flatMap((c) => [...acceptedOptions(c)]));
  const unlisted = fs.readdirSync(dir).flatMap((f) => {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    return [...text.matchAll(/\.(?:string|int|number|flag|requireString)\('([a-z0-9-]+)'\)|options\.(?:get|has)\('([a-z0-9-]+)'\)/g)]
      .map((m) => m[1] ?? m[2]).filter((o) => !accepted.has(o)).map((o) => `${f}: --${o}`);
  });
  assert.deepEqual(unlisted, []);
});

test('every option a command\'s usage names is one it reads (a mention of another command\'s option would be accepted and ignored)', () => {
  const dir = path.join(__dirname, '..', '..', 'main', 'cli', 'commands');
  const text = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  const files = fs.readdirSync(dir);
  const reads = (source: string) => new Set([...source.matchAll(/\.(?:string|int|number|flag|requireString)\('([a-z0-9-]+)'\)|options\.(?:get|has)\('([a-z0-9-]+)'\)|name === '([a-z0-9-]+)'/g)].map((m) => m[1] ?? m[2] ?? m[3]));
  const ignored = commands.flatMap((c) => {
    const home = files.find((f) => text(f).includes(`name: '${c.name}'`));
    if (!home) return [`${c.name}: no file defines it`];
    // The command's file and the command files it borrows from (fresco runs render's option reading).
    const sources = [home, ...[...text(home).matchAll(/from '\.\/([a-z-]+)'/g)].map((m) => `${m[1]}.ts`)];
    const read = reads(sources.map(text).join('\n'));
    return [...acceptedOptions(c)].filter((o) => o !== 'json' && o !== 'help' && !read.has(o)).map((o) => `${c.name}: --${o}`);
  });
  assert.deepEqual(ignored, []);
});

test('given `rerender propagate --allow-incomplete` (an export option), then it is refused, not ignored', () => {
  const r = rerender(['propagate', 'missing.rerender', '--allow-incomplete']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown option --allow-incomplete for rerender propagate/);
});

test('given `rerender serve <project>`, then the editor opens that project', async () => {
  const dir = tempDir('rerender-cli-serve-');
  const file = path.join(dir, 'clip.rerender');
  await writeProjectFile(file, sampleProject(20, [0, 10]));
  const serve = await startServe([file, '--settings', path.join(dir, 'settings.json')]);
  try {
    const url = new URL(serve.url);
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${url.port}/bridge`, { headers: { cookie: `rerender_session=${url.searchParams.get('token')}`, origin: url.origin } });
      s.once('open', () => resolve(s));
      s.once('error', reject);
    });
    const reply = await new Promise<any>((resolve) => {
      ws.on('message', (data) => { const msg = JSON.parse(String(data)); if (msg.id === 1) resolve(msg.reply); });
      ws.send(JSON.stringify({ id: 1, name: 'project.state', params: {} }));
    });
    ws.terminate();
    assert.equal(reply.ok, true);
    assert.equal(path.resolve(reply.value.file), path.resolve(file));
  } finally {
    await serve.stop();
  }
});
