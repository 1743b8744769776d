// The inspector edits one field at a time: a keyframe's override is set or removed without touching
// its other overrides, and project defaults change only in the field edited; every field exists in
// the project schema's render settings and offers exactly the range the schema accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIELDS, defaultValue, overrideValue, withDefault, withOverride } from '../../renderer/inspector-fields';
import { defaultRenderParams } from '../../main/engine/project/defaults';
import { renderOverrides, renderParams } from '../../preload/project-schema';
import { numberRange, settingChoices } from '../../preload/setting-ranges';
import { parseNumber } from '../../renderer/Inspector';

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

/** The value at a dotted path of render settings, set to `v` (for a window: both ends). */
function withValue(path: string, kind: string, v: number): unknown {
  return withDefault(defaultRenderParams(), path, kind === 'window' ? { start: v, end: v } : v);
}

test('given every numeric inspector field, then its range is the schema\'s: its ends load, one step beyond does not, and the field refuses the same', () => {
  const numeric = FIELDS.filter((f) => f.kind === 'number' || f.kind === 'window');
  assert.ok(numeric.length >= 12, `${numeric.length} numeric fields`);
  for (const f of numeric) {
    const r = numberRange(f.kind === 'window' ? `${f.path}.start` : f.path);
    assert.deepEqual({ min: f.min, max: f.max, integer: f.integer }, { min: r.min, max: r.max, integer: r.integer }, f.path);
    if (f.kind === 'window') assert.deepEqual(numberRange(`${f.path}.end`), r, `${f.path}: start and end share one range`);
    // The schema itself, not only its reported bounds: the ends are valid project settings, just outside is not.
    const eps = r.integer ? 1 : 1e-6;
    for (const [v, ok] of [[r.min, true], [r.max, true], [r.min - eps, false], [r.max + eps, false]] as const) {
      assert.equal(renderParams.safeParse(withValue(f.path, f.kind, v)).success, ok, `${f.path} = ${v}`);
      assert.equal('value' in parseNumber(String(v), f), ok, `the inspector's check of ${f.path} = ${v}`);
    }
    if (r.integer) {
      assert.equal(f.step, 1, f.path);
      assert.equal(renderParams.safeParse(withValue(f.path, f.kind, r.min + 0.5)).success, false);
      assert.ok('problem' in parseNumber(String(r.min + 0.5), f), `${f.path} refuses a fraction`);
    }
  }
});

test('given every choice field, then its options are the schema\'s, less the ones it hides on purpose', () => {
  for (const f of FIELDS.filter((x) => x.kind === 'select')) {
    assert.deepEqual(f.options, settingChoices(f.path).filter((o) => !f.hidden?.includes(o)), f.path);
    for (const h of f.hidden ?? []) assert.ok(settingChoices(f.path).includes(h), `${f.path} hides "${h}", which the schema does not have`);
  }
});
