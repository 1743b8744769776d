// "Use earlier render" on the anchor, then a later keyframe: the picked image's caches went when the
// anchor was regenerated (one cache per keyframe), so the later keyframe is constrained by an analysis of
// the picked image (as for an imported one) instead of failing with "caches … missing; render it again".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { keyframeAt } from '../../main/engine/project/keyframes';
import { projectPaths } from '../../main/engine/project/paths';
import { ProjectStore } from '../../main/engine/project/project-store';
import { applyEdit } from '../../main/engine/editor/edit-actions';
import { renderKeyframes } from '../../main/engine/render/render-project';
import { readRecord } from '../../main/engine/render/render-records';
import { FIXTURES, graphCache, writeSceneProject } from './keyframe-render-scene';
import { ModelRuntime as Runtime } from '../../native-models/src/runtime/model-runtime';

let work: string;
let projectFile: string;
let runtime: Runtime;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'rerender-render-history-'));
  projectFile = path.join(work, 'scene.rerender');
  runtime = new Runtime({ cacheDir: graphCache('keyframe-render-history'), providers: ['cpu'] });
  await writeSceneProject(projectFile, { checkpoint: FIXTURES, controlnet: FIXTURES }, 'rerender', 4, [0, 3]);
});

after(async () => {
  await runtime.releaseAll();
  fs.rmSync(work, { recursive: true, force: true });
});

test('given the anchor regenerated and its earlier render picked from the history, when the later keyframe is rendered, then it renders against the picked image, which stays the anchor\'s image', async () => {
  const base = { projectFile, runtime, modelsDir: work };
  await renderKeyframes({ ...base, target: 'all' });
  await renderKeyframes({ ...base, target: { frame: 0 }, overrides: { seed: 5 } });
  const picked = await ProjectStore.with(projectFile, async (store) => {
    await store.applyAsync((p) => applyEdit(p, { action: 'pickKeyframeHistory', id: keyframeAt(p, 0)!.id, index: 0 }, { projectFile }));
    await store.save();
    return keyframeAt(store.project, 0)!;
  });
  assert.equal(picked.status, 'done');

  const later = await renderKeyframes({ ...base, target: { frame: 3 } });
  assert.deepEqual(later.rendered.map((r) => r.frame), [3]);
  const p = await ProjectStore.with(projectFile, async (store) => store.project);
  const anchor = keyframeAt(p, 0)!;
  assert.equal(anchor.image, picked.image, 'the picked image stays the anchor\'s');
  assert.equal(anchor.status, 'done');
  const k3 = keyframeAt(p, 3)!;
  assert.equal(k3.status, 'done');
  const dependsOn = readRecord(projectFile, k3)!.dependsOn.find((d) => d.role === 'anchor')!;
  assert.equal(dependsOn.revision, anchor.revision, 'rendered against the anchor as picked');
  const caches = fs.readdirSync(path.join(projectPaths(projectFile).keyframesDir, anchor.id)).filter((n) => n.startsWith('cache-'));
  assert.equal(caches.length, 1, 'one cache per keyframe');
  assert.ok(caches[0].startsWith('cache-analysis-'), `the picked image was analysed: ${caches[0]}`);
});
