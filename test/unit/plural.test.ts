// Counts and lists in messages: one helper (preload/plural.ts), so no line says "1 segments" or "frames 20 have".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { count, listed, noun } from '../../preload/plural';

test('given counts of one and more, then the noun is singular for one only, irregular plurals included', () => {
  assert.equal(count(1, 'segment'), '1 segment');
  assert.equal(count(0, 'segment'), '0 segments');
  assert.equal(count(17, 'segment'), '17 segments');
  assert.equal(count(1, 'entry', 'entries'), '1 entry');
  assert.equal(count(2, 'entry', 'entries'), '2 entries');
  assert.equal(noun(1, 'frame'), 'frame');
  assert.equal(noun(3, 'frame'), 'frames');
});

test('given items, then they are listed as a sentence lists them', () => {
  assert.equal(listed([]), '');
  assert.equal(listed([20]), '20');
  assert.equal(listed([20, 40]), '20 and 40');
  assert.equal(listed([20, 40, 60]), '20, 40 and 60');
});
