// The inspector edits one field at a time: a keyframe's override is set or removed without touching
// its other overrides, and project defaults change only in the field edited; every field exists in
// the project schema's render settings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIELDS, defaultValue, overrideValue, withDefault, withOverride } from '../../renderer/inspector-fields';
import { defaultRenderParams } from '../../main/engine/project/defaults';
import { renderOverrides, renderParams } from '../../preload/project-schema';

test('given every inspector field, then it names a render setting of the project schema', () => {
  const render = defaultRenderParams();
  for (const f of FIELDS) assert.notEqual(defaultValue(render, f.path), undefined, f.path);
});

test('given overrides, when one nested field is set and removed, then the others stay and empty groups disappear', () => {
  let o = withOverride({ prompt: 'ink', controlnet: { strength: 0.4 } }, 'controlnet.type', 'depth');
  assert.deepEqual(o, { prompt: 'ink', controlnet: { strength: 0.4, type: 'depth' } });
  assert.equal(overrideValue(o, 'controlnet.type'), 'depth');
  o = withOverride(withOverride(o, 'controlnet.type', undefined), 'controlnet.strength', undefined);
  assert.deepEqual(o, { prompt: 'ink' });
  assert.equal(overrideValue(o, 'constraints.pixel'), undefined);
  assert.ok(renderOverrides.safeParse(withOverride(o, 'constraints.pixel', { start: 0.2, end: 0.6 })).success);
});

test('given project defaults, when a field changes, then the result is still valid render settings', () => {
  const render = defaultRenderParams();
  const next = withDefault(withDefault(render, 'steps', 4), 'constraints.smoothBoundary', false);
  assert.equal(next.steps, 4);
  assert.equal(next.constraints.smoothBoundary, false);
  assert.equal(next.constraints.fusionStrength, render.constraints.fusionStrength);
  assert.ok(renderParams.safeParse(next).success);
});
