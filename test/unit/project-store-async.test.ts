// The project store (main/engine/project/project-store.ts): an edit that takes time to prepare (an image
// copied into the assets) and a job's result committed while it prepares both arrive, in either order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ProjectStore } from '../../main/engine/project/project-store';
import { applyKeyframeResults, writeKeyframeResult } from '../../main/engine/render/keyframe-commit';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';

test('given an edit that takes time to prepare, when a job\'s result is committed while it prepares, then both arrive: the edit is prepared again from the new document', async () => {
  const file = path.join(tempDir('rerender-store-async-'), 'clip.rerender');
  await ProjectStore.create(file, sampleProject(30, [0, 10, 20]));
  const store = await ProjectStore.open(file);
  try {
    const base = store.snapshot();
    const k = base.project.keyframes[0];
    const image = { width: 4, height: 4, channels: 3, data: new Uint8Array(48).fill(9) };
    const result = await writeKeyframeResult(file, k, image, { mode: base.project.mode, seed: 9, settingsKey: 'test', dependsOn: [] });
    let prepared = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const edit = store.applyAsync(async (p) => {
      prepared++;
      if (prepared === 1) await gate; // an image being copied into the assets
      return { label: 'Change export settings', project: { ...p, export: { ...p.export, sideBySide: true } } };
    });
    store.commit('Render keyframe', base, (current, from) => applyKeyframeResults(file, current, [result], [], from));
    release();
    assert.equal(await edit, true);
    assert.equal(prepared, 2);
    assert.equal(store.project.export.sideBySide, true);
    assert.equal(store.project.keyframes[0].image, result.image, 'the result committed meanwhile is not lost');
  } finally { store.close(); }
});

