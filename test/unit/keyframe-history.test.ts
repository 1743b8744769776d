// A keyframe's history keeps where each earlier image came from, so the inspector labels an imported or
// painted one as such (not "seed 0"), and picking it back makes the keyframe that kind again; a render
// brings its own seed back. Entries of older projects (no source) still read and pick as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editActions } from '../../main/engine/editor/edit-actions';
import { updateKeyframe } from '../../main/engine/project/keyframes';
import { keyframe as keyframeSchema } from '../../preload/project-schema';
import { sampleProject } from '../helpers/project';

const ctx = { projectFile: '/tmp/clip.rerender' };

test('given an imported keyframe, when it is rendered with diffusion instead and the import is picked back, then the history says imported and the keyframe is imported again; picking the render back brings its seed', async () => {
  let p = sampleProject(48, [0, 10]);
  const id = p.keyframes[0].id;
  p = updateKeyframe(p, id, (k) => ({ ...k, source: 'imported', image: 'clip.assets/mine.png', status: 'done', revision: 1 }));
  p = await editActions.useDiffusion.perform(p, { action: 'useDiffusion', id }, ctx);
  assert.deepEqual(p.keyframes[0].history.map((h) => [h.image, h.source]), [['clip.assets/mine.png', 'imported']]);
  // A render lands (as keyframe-commit leaves it), seed 1234.
  p = updateKeyframe(p, id, (k) => ({ ...k, image: 'clip.cache/keyframes/r2.png', status: 'done', revision: 3, overrides: { ...k.overrides, seed: 1234 } }));
  p = await editActions.pickKeyframeHistory.perform(p, { action: 'pickKeyframeHistory', id, index: 0 }, ctx);
  let k = p.keyframes[0];
  assert.deepEqual([k.source, k.image, k.status], ['imported', 'clip.assets/mine.png', 'done'], 'the imported image is back, as imported');
  assert.deepEqual(k.history.map((h) => [h.image, h.seed, h.source]), [['clip.cache/keyframes/r2.png', 1234, 'diffusion']], 'the render went to the history with its seed');
  p = await editActions.pickKeyframeHistory.perform(p, { action: 'pickKeyframeHistory', id, index: 0 }, ctx);
  k = p.keyframes[0];
  assert.deepEqual([k.source, k.image, k.overrides.seed], ['diffusion', 'clip.cache/keyframes/r2.png', 1234], 'the render is back with its seed');
  assert.deepEqual(k.history.map((h) => h.source), ['imported']);
  assert.equal(keyframeSchema.safeParse(k).success, true);
});

test('given a history entry of an older project (no source), when picked on a diffusion keyframe, then it is a render with its seed, as before', async () => {
  let p = sampleProject(48, [0, 10]);
  const id = p.keyframes[0].id;
  p = updateKeyframe(p, id, (k) => ({ ...k, image: 'clip.cache/keyframes/new.png', status: 'done', revision: 2, history: [{ image: 'clip.cache/keyframes/old.png', seed: 99, createdAt: '2026-01-01T00:00:00Z' }] }));
  assert.equal(keyframeSchema.safeParse(p.keyframes[0]).success, true, 'an entry without a source still reads');
  p = await editActions.pickKeyframeHistory.perform(p, { action: 'pickKeyframeHistory', id, index: 0 }, ctx);
  assert.deepEqual([p.keyframes[0].source, p.keyframes[0].image, p.keyframes[0].overrides.seed], ['diffusion', 'clip.cache/keyframes/old.png', 99]);
});
