// Property tests of the project schema: valid projects survive a save/load round trip, and any mangled
// document is either accepted as valid or refused with a UserError — never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseProject, serializeProject } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { UserError } from '../../native-models/src/errors';
import { sampleProject } from '../helpers/project';

const validProject = fc.record({
  count: fc.integer({ min: 1, max: 100_000 }),
  keys: fc.array(fc.nat(), { maxLength: 40 }),
  prompt: fc.string({ maxLength: 200 }),
  seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  strength: fc.double({ min: 0, max: 1, noNaN: true }),
}).map(({ count, keys, prompt, seed, strength }) => {
  const p = sampleProject(count, []);
  return { ...setKeyframeFrames(p, keys.map((k) => k % count)), render: { ...p.render, prompt, seed, strength } };
});

test('any valid project round-trips through its file format unchanged', () => {
  fc.assert(fc.property(validProject, (p) => {
    assert.deepEqual(parseProject(JSON.parse(serializeProject(p)), 'p.rerender'), p);
  }), { numRuns: 200 });
});

/** Replaces the value at a random path of the document by an arbitrary JSON value. */
function mutate(doc: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || doc === null || typeof doc !== 'object') return value;
  const keys = Object.keys(doc as object);
  if (keys.length === 0) return value;
  const key = keys[path[0] % keys.length];
  const copy: Record<string, unknown> = Array.isArray(doc) ? ([...doc] as unknown as Record<string, unknown>) : { ...(doc as Record<string, unknown>) };
  copy[key] = mutate((doc as Record<string, unknown>)[key], path.slice(1), value);
  return copy;
}

test('any mangled project is refused with a UserError or accepted as valid, never a crash', () => {
  const hostile = fc.oneof(fc.jsonValue(), fc.constantFrom('../../etc/passwd', '/abs/path', 1e308, -1, Number.MAX_SAFE_INTEGER * 4, '', null, [], {}));
  fc.assert(fc.property(validProject, fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), hostile, (p, path, value) => {
    const doc = mutate(JSON.parse(serializeProject(p)), path, value);
    try {
      const parsed = parseProject(doc, 'p.rerender');
      for (const k of parsed.keyframes) assert.ok(k.frame < parsed.frames.count);
    } catch (err) {
      assert.ok(err instanceof UserError, `expected a UserError, got ${(err as Error)?.stack}`);
      assert.match(err.message, /^p\.rerender: /);
    }
  }), { numRuns: 500 });
});

test('any JSON at all is refused with a UserError unless it is a project', () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    assert.throws(() => parseProject(v, 'x.rerender'), UserError);
  }), { numRuns: 300 });
});
