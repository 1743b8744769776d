// Specification of the CLIP tokenizer: every prompt of the fixture's tokenizer case gives exactly the
// expected ids; long prompts are cut with a warning; a tokenizer is found in a models folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClipTokenizer, findTokenizer, resolveTokenizer } from '../../native-models/src/tokenizer';
import { UserError } from '../../native-models/src/errors';
import { SD_TINY } from '../helpers/fixtures';
import { describeFailure } from '../../main/engine/editor/editor-jobs';

const fixtures = SD_TINY;
const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8'));
const tokenizerCase = manifest.cases.find((c: { kind: string }) => c.kind === 'tokenizer');
const tokenizerDir = path.dirname(path.join(fixtures, manifest.models.tokenizer.vocab));

test('given every prompt of the fixture tokenizer case, then BPE ids and 77-token input ids match exactly', async () => {
  const tokenizer = await ClipTokenizer.load(tokenizerDir);
  const data = JSON.parse(fs.readFileSync(path.join(fixtures, tokenizerCase.file), 'utf8'));
  const maxLength: number = tokenizerCase.params.max_length;
  assert.equal(tokenizer.bos, tokenizerCase.params.bos);
  assert.equal(tokenizer.eos, tokenizerCase.params.eos);
  assert.equal(tokenizer.pad, tokenizerCase.params.pad);
  assert.equal(data.cases.length, tokenizerCase.count);
  for (const c of data.cases) {
    const result = tokenizer.tokenize(c.prompt, maxLength);
    assert.deepEqual(result.bpeIds, c.bpe_ids, `bpe ids of ${JSON.stringify(c.prompt)}`);
    assert.deepEqual(result.inputIds, c.input_ids, `input ids of ${JSON.stringify(c.prompt)}`);
    assert.equal(result.truncated, c.bpe_ids.length > maxLength - 2);
  }
});

test('given a prompt longer than 75 tokens, then it is cut and the warning names the dropped words', async () => {
  const tokenizer = await ClipTokenizer.load(tokenizerDir);
  const result = tokenizer.tokenize(`${'cat '.repeat(75)}dog house`);
  assert.equal(result.inputIds.length, 77);
  assert.ok(result.truncated);
  assert.match(result.warning ?? '', /77 tokens long; only the first 75 are used\. Dropped: "dog house"/);
  assert.equal(tokenizer.tokenize('a cat').warning, undefined);
});

test('given curly quotes, ligatures, full-width letters and HTML entities, then they tokenize like their plain forms', async () => {
  const tokenizer = await ClipTokenizer.load(tokenizerDir);
  assert.deepEqual(tokenizer.encode('\u201cCaf\u00e9\u201d \u2018n\u2019 \ufb01sh \uff21\uff22\uff23 &amp; &#x41;&#66;'), tokenizer.encode('"café" \'n\' fish abc & ab'));
  assert.deepEqual(tokenizer.encode('rock &amp;amp; roll'), tokenizer.encode('rock & roll'));
});

test('given BPE ids, then decode gives back the normalised text', async () => {
  const tokenizer = await ClipTokenizer.load(tokenizerDir);
  const prompt = 'Café crème, 8k — 🐱 a dog';
  assert.equal(tokenizer.decode(tokenizer.encode(prompt)).replace(/ /g, ''), ClipTokenizer.normalise(prompt).replace(/ /g, ''));
});

test('given a models folder with a diffusers pipeline inside, then findTokenizer returns its tokenizer folder', async () => {
  const models = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-test-'));
  try {
    assert.equal(await findTokenizer(models), undefined);
    await assert.rejects(resolveTokenizer({ modelsDir: models }), (err: unknown) => err instanceof UserError && /no CLIP tokenizer found/.test(err.message) && /--tokenizer/.test(err.message));
    const tok = path.join(models, 'diffusers', 'my-model', 'tokenizer');
    fs.mkdirSync(tok, { recursive: true });
    for (const f of ['vocab.json', 'merges.txt']) fs.copyFileSync(path.join(tokenizerDir, f), path.join(tok, f));
    fs.mkdirSync(path.join(models, 'checkpoints'));
    assert.equal(await findTokenizer(models), tok);
    assert.equal(await resolveTokenizer({ modelsDir: models }), tok);
    assert.equal(await resolveTokenizer({ model: fixtures, modelsDir: models }), path.join(fixtures, 'tokenizer'));
    assert.equal(await resolveTokenizer({ override: tokenizerDir }), tokenizerDir);
    await assert.rejects(resolveTokenizer({ override: models }), /not a tokenizer folder/);
  } finally {
    fs.rmSync(models, { recursive: true, force: true });
  }
});

test('given a folder without merges.txt, then loading names the folder and the missing file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-bad-'));
  try {
    fs.copyFileSync(path.join(tokenizerDir, 'vocab.json'), path.join(dir, 'vocab.json'));
    await assert.rejects(ClipTokenizer.load(dir), (err: unknown) => err instanceof UserError && err.message.includes(dir) && /merges\.txt/.test(err.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('given a diffusers folder without tokenizer/ and none in the models folder, then the error says the folder has none (not that single files carry none), and the editor words it without the command line', async () => {
  const models = fs.mkdtempSync(path.join(os.tmpdir(), 'tok-test-'));
  try {
    const folder = path.join(models, 'diffusers', 'no-tokenizer');
    fs.mkdirSync(folder, { recursive: true });
    const err = await resolveTokenizer({ model: folder, modelsDir: models }).catch((e: unknown) => e);
    assert.ok(err instanceof UserError);
    assert.match(err.message, /no CLIP tokenizer found: the model folder no-tokenizer has no tokenizer\/ and the models folder holds none/);
    assert.doesNotMatch(err.message, /single-file/);
    const single = await resolveTokenizer({ model: path.join(fixtures, 'tiny-sd15.safetensors'), modelsDir: models }).catch((e: unknown) => e);
    assert.match((single as Error).message, /single-file checkpoints carry none/);
    const shown = describeFailure(err, 'render');
    assert.equal(shown.message, 'no CLIP tokenizer found: the model folder no-tokenizer has no tokenizer/ and the models folder holds none');
    assert.match(shown.fix ?? '', /Models…/);
    assert.doesNotMatch(`${shown.message} ${shown.fix}`, /rerender |--tokenizer|download-tokenizer/, 'the editor names no command-line commands or flags');
  } finally {
    fs.rmSync(models, { recursive: true, force: true });
  }
});
