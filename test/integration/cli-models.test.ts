// `rerender models` end to end, as a user drives it: list an empty folder, import a LoRA, list it as JSON,
// and see a clear error for a file that is not a usable model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rerender } from '../helpers/cli';
import { SD_TINY } from '../helpers/fixtures';

const fixtures = SD_TINY;

test('given an empty models folder, when a LoRA is imported, then list shows it by kind', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-models-'));
  try {
    const env = { RERENDER_MODELS: dir };
    assert.equal(rerender(['models', 'list', '--json'], { env }).json().models.length, 0);
    const imported = rerender(['models', 'import', path.join(fixtures, 'tiny-lora.safetensors'), '--json'], { env });
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(imported.json().kind, 'lora');
    const listed = rerender(['models', 'list', '--models-dir', dir, '--json']).json();
    assert.deepEqual(listed.models.map((m: { kind: string; name: string }) => [m.kind, m.name]), [['lora', 'tiny-lora.safetensors']]);
    const text = rerender(['models', 'list'], { env });
    assert.match(text.stdout, /^lora +tiny-lora\.safetensors +LoRA/m);
    const bad = rerender(['models', 'import', path.join(fixtures, 'manifest.json')], { env });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /manifest\.json: is not a model file/);
    assert.match(rerender(['models', '--help']).stdout, /usage: rerender models list/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
