// "Change models" in the editor runs the check render runs (issue 18): a checkpoint that turned into an
// inpainting model after the models folder was listed is refused at its row in one line naming the file,
// and the project keeps what it had. Debian Chromium against the real engine through `rerender serve`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { makeVideo, tempDir } from '../helpers/media';
import { rerender } from '../helpers/cli';
import { openEditorPage, type EditorPage } from '../helpers/editor-page';
import { SD_TINY } from '../helpers/fixtures';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../native-models/src/weights/safetensors';
import { readProjectFile } from '../../main/engine/project/project-file';

/** The tiny single-file checkpoint with a 9-channel UNet input (an inpainting model's shape). */
async function writeInpaintingCheckpoint(file: string): Promise<void> {
  const st = await SafetensorsFile.open(path.join(SD_TINY, 'tiny-sd15.safetensors'));
  const tensors: Record<string, TensorToWrite> = {};
  try {
    for (const [key, t] of st.tensors) tensors[key] = { dtype: t.dtype, shape: t.shape, data: await st.readRaw(key) };
  } finally {
    await st.close();
  }
  const w = tensors['model.diffusion_model.input_blocks.0.0.weight'];
  tensors['model.diffusion_model.input_blocks.0.0.weight'] = { dtype: 'F32', shape: [w.shape[0], 9, 3, 3], data: new Float32Array(w.shape[0] * 81) };
  await writeSafetensors(file, tensors);
}

describe('Change models in Chromium (serve mode)', () => {
  let dir: string;
  let editor: EditorPage;
  let page: Page;

  before(async () => {
    dir = tempDir('rerender-e2e-models-');
    const video = makeVideo(dir, 'clip', { width: 128, height: 72, frames: 12, fps: 24 });
    const made = rerender(['new', path.join(dir, 'clip.rerender'), '--video', video, '--short-side', '64', '--json']);
    assert.equal(made.code, 0, made.stderr);
    fs.mkdirSync(path.join(dir, 'models'));
    fs.copyFileSync(path.join(SD_TINY, 'tiny-sd15.safetensors'), path.join(dir, 'models', 'painting.safetensors'));
    // The first test loads the page itself.
    editor = await openEditorPage({ project: path.join(dir, 'clip.rerender'), settingsFile: path.join(dir, 'settings.json'), settings: { modelsFolder: path.join(dir, 'models') }, noGoto: true });
    page = editor.page;
  });

  after(async () => {
    await editor?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('given a checkpoint listed as usable that became an inpainting model on disk, when used as the checkpoint, then its row says why in one line naming the file and the project keeps no checkpoint', async () => {
    await page.goto(editor.serve.url);
    await page.waitForSelector('[data-testid=preview-canvas][data-drawn-frame="0"]');
    await page.locator('nav.toolbar button[data-action="file.models"]').click();
    const models = page.getByTestId('models-dialog');
    const use = models.locator('tr[data-model="painting.safetensors"]').getByRole('button', { name: 'Use as checkpoint' });
    await use.waitFor();
    const file = path.join(dir, 'models', 'painting.safetensors');
    const replacement = path.join(dir, 'inpainting.tmp');
    await writeInpaintingCheckpoint(replacement);
    fs.renameSync(replacement, file); // changed after the list was read
    await use.click();
    const refusal = models.locator('[data-testid=model-refusal][data-role=checkpoint]');
    await refusal.waitFor();
    const text = (await refusal.textContent()) ?? '';
    assert.equal(text.split('\n').length, 1, text);
    assert.ok(text.includes(file), `names the file: ${text}`);
    assert.match(text, /cannot be used as the checkpoint: its UNet takes 9 input channels \(an inpainting model/);
    assert.doesNotMatch(text, /internal error|onnx|at .*\.ts:/i);
    assert.match((await models.getByTestId('project-models').textContent()) ?? '', /Checkpoint:none chosen/);
    await models.getByRole('button', { name: 'Close' }).click();
    assert.equal((await readProjectFile(path.join(dir, 'clip.rerender'))).models.checkpoint, null);
  });

  test('given a file that is not a model, when imported in the model manager, then the manager stays open and says why, naming the file once', async () => {
    const bad = path.join(dir, 'notes.safetensors');
    fs.writeFileSync(bad, 'not a model');
    await page.locator('nav.toolbar button[data-action="file.models"]').click();
    const models = page.getByTestId('models-dialog');
    await models.getByRole('button', { name: 'Import model…' }).click();
    await page.getByTestId('path-dialog').locator('input').fill(bad);
    await page.getByTestId('path-dialog').getByRole('button', { name: 'OK' }).click();
    const status = models.locator('[data-testid=import-status][data-status=failed]');
    await status.waitFor();
    const text = (await status.textContent()) ?? '';
    assert.match(text, /notes\.safetensors failed: .*cannot be used: is not a \.safetensors file \(its header is not valid\)/);
    assert.doesNotMatch(text, /claims|\d{6,}/, `no figure from the text's bytes: ${text}`);
    assert.ok(text.split(bad).length - 1 <= 1 && text.split(path.basename(bad)).length - 1 === 1, `the file named once: ${text}`);
    assert.doesNotMatch((await page.locator('footer.status').textContent()) ?? '', /importing/, 'the status bar does not claim it is still importing');
    await models.getByRole('button', { name: 'Close' }).click();
  });
});
