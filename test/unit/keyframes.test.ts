// Keyframe edits, segments and automatic suggestion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addKeyframe, applySuggestedKeyframes, moveKeyframe, removeKeyframes, segmentsOf, setKeyframeFrames, effectiveRenderParams } from '../../main/engine/project/keyframes';
import { uniformKeyframes, adaptiveKeyframes } from '../../main/engine/project/keyframe-suggest';
import { sampleProject } from '../helpers/project';

test('given keyframes, when adding, moving and removing, then frames stay sorted and unique', () => {
  let p = sampleProject(50, [0, 10, 20]);
  p = addKeyframe(p, 5);
  assert.deepEqual(p.keyframes.map((k) => k.frame), [0, 5, 10, 20]);
  const id = p.keyframes[1].id;
  p = moveKeyframe(p, id, 30);
  assert.deepEqual(p.keyframes.map((k) => k.frame), [0, 10, 20, 30]);
  assert.equal(p.keyframes[3].id, id, 'a moved keyframe keeps its identity');
  assert.throws(() => moveKeyframe(p, id, 10), /already has a keyframe/);
  assert.throws(() => addKeyframe(p, 50), /outside the video/);
  p = removeKeyframes(p, [id]);
  assert.deepEqual(p.keyframes.map((k) => k.frame), [0, 10, 20]);
});

test('given a rendered keyframe, when moved, then it becomes stale', () => {
  let p = sampleProject(50, [0, 10]);
  p = { ...p, keyframes: p.keyframes.map((k) => ({ ...k, status: 'done' as const, image: 'x.png' })) };
  p = moveKeyframe(p, p.keyframes[1].id, 12);
  assert.equal(p.keyframes[1].status, 'stale');
});

test('given keyframes not at the ends, then segments cover every other frame exactly once', () => {
  const p = sampleProject(50, [5, 10, 11, 30]);
  const segs = segmentsOf(p);
  assert.deepEqual(segs.map((s) => [s.id, s.start, s.end]), [['0-5', 0, 4], ['5-10', 6, 9], ['11-30', 12, 29], ['30-49', 31, 49]]);
  const covered = new Set<number>();
  for (const s of segs) for (let f = s.start; f <= s.end; f++) { assert.ok(!covered.has(f)); covered.add(f); }
  for (const k of p.keyframes) covered.add(k.frame);
  assert.equal(covered.size, 50);
});

test('setting the same frames keeps existing keyframes and their ids', () => {
  const p = sampleProject(50, [0, 10]);
  const q = setKeyframeFrames(p, [10, 0, 40]);
  assert.equal(q.keyframes[1].id, p.keyframes[1].id);
});

test('given keyframes with an imported image, a rendered image or only earlier renders, when suggested frames miss them, then they stay and only empty ones go', () => {
  const p = sampleProject(50, [0, 10, 25, 30, 40]);
  const made = { ...p, keyframes: p.keyframes.map((k) => k.frame === 25 ? { ...k, source: 'imported' as const, image: 'assets/k25.png', status: 'done' as const }
    : k.frame === 30 ? { ...k, image: 'cache/k30.png', status: 'done' as const }
    : k.frame === 40 ? { ...k, history: [{ image: 'cache/old40.png', seed: 1, createdAt: '2026-01-01T00:00:00Z' }] } : k) };
  const q = applySuggestedKeyframes(made, [0, 24, 48]);
  assert.deepEqual(q.keyframes.map((k) => k.frame), [0, 24, 25, 30, 40, 48]);
  for (const f of [25, 30, 40]) assert.equal(q.keyframes.find((k) => k.frame === f)!.id, made.keyframes.find((k) => k.frame === f)!.id, `frame ${f} keeps its keyframe`);
});

test('overrides apply on top of project defaults, nested groups merged', () => {
  const p = sampleProject();
  const e = effectiveRenderParams(p.render, { seed: 7, controlnet: { strength: 0.5 } });
  assert.equal(e.seed, 7);
  assert.equal(e.controlnet.strength, 0.5);
  assert.equal(e.controlnet.type, p.render.controlnet.type);
});

test('uniform suggestion places keys every K frames from 0', () => {
  assert.deepEqual(uniformKeyframes(25, 10), [0, 10, 20]);
});

test('given scene cuts, adaptive suggestion puts keys right after them within the gap limits', () => {
  const diffs = Array.from({ length: 99 }, () => 0.001);
  diffs[29] = 0.5; // change from frame 29 to 30
  diffs[64] = 0.4; // change from 64 to 65
  const keys = adaptiveKeyframes(diffs, 5, 20);
  assert.ok(keys.includes(30), `expected a key at 30, got ${keys}`);
  assert.ok(keys.includes(65), `expected a key at 65, got ${keys}`);
  for (let i = 1; i < keys.length; i++) {
    const gap = keys[i] - keys[i - 1];
    assert.ok(gap >= 5 && gap <= 20, `gap ${gap} outside [5, 20] in ${keys}`);
  }
  assert.ok(99 - keys[keys.length - 1] <= 20, 'the tail is at most the max gap');
});
