// A text file given as a checkpoint, as a new user might: `render --model`, `models import` and `models list`
// each say it is not a .safetensors file in one line that names the file once, without the huge length its
// first 8 bytes read as; that figure is kept for the details (RERENDER_DEBUG, the editor's log).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { copySampleProject } from '../helpers/fixtures';


function assertOneLine(stderr: string, file: string): string {
  const lines = stderr.trim().split('\n').filter((l) => !/^warning/.test(l));
  assert.equal(lines.length, 1, stderr);
  const line = lines[0];
  assert.equal(line.split(file).length - 1, 1, `names the file once: ${line}`);
  assert.match(line, /is not a \.safetensors file \(its header is not valid\)$/);
  assert.doesNotMatch(line, /claims|\d{6,}/, `no figure from a text's bytes: ${line}`);
  return line;
}

test('given a text file named .safetensors, when chosen as checkpoint, imported or listed, then each says it is not a .safetensors file, naming it once', () => {
  const dir = tempDir('rerender-not-safetensors-');
  copySampleProject(dir);
  const text = path.join(dir, 'notes.safetensors');
  fs.writeFileSync(text, 'these are my notes about the shot, not weights\n');
  const env = { HOME: dir };

  const render = rerender(['render', path.join(dir, 'sample.rerender'), '--frame', '30', '--model', text], { env });
  assert.equal(render.code, 1, render.stderr);
  assert.match(assertOneLine(render.stderr, text), /cannot be used as the checkpoint: is not/);

  const models = path.join(dir, 'models');
  const imported = rerender(['models', 'import', text, '--models-dir', models], { env });
  assert.equal(imported.code, 1, imported.stderr);
  assertOneLine(imported.stderr, text);
  const debug = rerender(['models', 'import', text, '--models-dir', models], { env: { ...env, RERENDER_DEBUG: '1' } });
  assert.match(debug.stderr, /details: its header claims \d+ bytes but the file has only \d+ after the length/);

  fs.mkdirSync(models, { recursive: true });
  fs.copyFileSync(text, path.join(models, 'notes.safetensors'));
  const list = rerender(['models', 'list', '--models-dir', models], { env });
  assert.equal(list.code, 0, list.stderr);
  const row = list.stdout.split('\n').find((l) => l.includes('notes.safetensors')) ?? '';
  assert.match(row, /cannot be used: is not a \.safetensors file \(its header is not valid\)/);
  assert.doesNotMatch(row, /claims|\d{6,}|\//, `the row names the file by its name only: ${row}`);
});

test('given a model named as `models list` prints it or as the editor shows it, when `render --model` gets that name, then it is found in the models folder; a name found nowhere names both places looked at', () => {
  const dir = tempDir('rerender-model-by-name-');
  copySampleProject(dir);
  const models = path.join(dir, 'models');
  fs.mkdirSync(path.join(models, 'checkpoints'), { recursive: true });
  const installed = path.join(models, 'checkpoints', 'notes.safetensors');
  fs.writeFileSync(installed, 'these are my notes about the shot, not weights\n');
  const env = { HOME: dir };
  const project = path.join(dir, 'sample.rerender');
  // The file found is checked as any chosen checkpoint is: being refused here shows it was found.
  for (const name of ['notes.safetensors', 'checkpoints/notes.safetensors']) {
    const r = rerender(['render', project, '--frame', '0', '--model', name, '--models-dir', models], { env, cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(assertOneLine(r.stderr, installed), /cannot be used as the checkpoint: is not/);
  }
  const missing = rerender(['render', project, '--frame', '0', '--model', 'nothing-here', '--models-dir', models], { env, cwd: dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no checkpoint "nothing-here": neither .*nothing-here exists nor a model of that name in the models folder .*models/);
  assert.ok(missing.stderr.includes(path.join(dir, 'nothing-here')) && missing.stderr.includes(models), missing.stderr);
});
