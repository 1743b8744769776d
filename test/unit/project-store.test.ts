// The project store as specified (issue 15): the one writer of a project file. Open takes the lock,
// apply/undo/redo change the document in memory only, save and save-as write it, and a job's results
// are committed against the revision the job started from: an edit made meanwhile to what a result was
// made from is never overwritten (the result goes to the keyframe's history with a note). A source scan
// keeps every other file from writing a project.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProjectStore } from '../../main/engine/project/project-store';
import { readProjectFile, autosavePath } from '../../main/engine/project/project-file';
import { updateKeyframe } from '../../main/engine/project/keyframes';
import { lockPath } from '../../main/engine/project/project-lock';
import { applyKeyframeResults, writeKeyframeResult } from '../../main/engine/render/keyframe-commit';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';
import type { Keyframe, Project } from '../../preload/project-schema';

async function projectOnDisk(): Promise<string> {
  const file = path.join(tempDir('rerender-store-'), 'clip.rerender');
  await ProjectStore.create(file, sampleProject(50, [0, 10, 20]));
  return file;
}

const keyAt = (p: Project, frame: number): Keyframe => p.keyframes.find((k) => k.frame === frame)!;

/** A finished render of the keyframe at `frame` as a job returns it, made from `from` (the job's snapshot). */
async function renderResult(file: string, from: Project, frame: number, seed: number) {
  const image = { width: 4, height: 4, channels: 3, data: new Uint8Array(48).fill(seed) };
  const k = keyAt(from, frame);
  return writeKeyframeResult(file, k, image, { mode: from.mode, seed, settingsKey: 'test', dependsOn: [] });
}

describe('project store', () => {
  test('given an open store, when the project is opened a second time, then it is refused until the first closes', async () => {
    const file = await projectOnDisk();
    const store = await ProjectStore.open(file, { app: 'first' });
    assert.ok(fs.existsSync(lockPath(file)));
    await assert.rejects(ProjectStore.open(file), /already open \(first\)/, 'in this process');
    // Another process takes the lock while this one closes (its lock file is not ours, so it stays).
    fs.writeFileSync(lockPath(file), JSON.stringify({ pid: process.ppid, host: os.hostname(), since: '2026-01-01T00:00:00Z', app: 'other' }));
    store.close();
    await assert.rejects(ProjectStore.open(file), /open in another window or process \(other/, 'in another process');
    fs.rmSync(lockPath(file));
    const again = await ProjectStore.open(file);
    again.close();
    assert.equal(fs.existsSync(lockPath(file)), false);
  });

  test('given edits, when undone and redone, then the file changes only on save and the autosave goes with a save', async () => {
    const file = await projectOnDisk();
    const saved = fs.readFileSync(file, 'utf8');
    const store = await ProjectStore.open(file);
    assert.equal(store.apply('Change export settings', (p) => ({ ...p, export: { ...p.export, sideBySide: true } })), true);
    assert.equal(store.apply('Nothing', (p) => ({ ...p })), false, 'a change that changes nothing is no undo step');
    assert.equal(store.undoLabel, 'Change export settings');
    assert.equal(store.dirty, true);
    await store.autosaveNow();
    assert.ok(fs.existsSync(autosavePath(file)));
    assert.equal(fs.readFileSync(file, 'utf8'), saved, 'only a save writes the project file');
    store.undo();
    assert.equal(store.project.export.sideBySide, false);
    store.redo();
    await store.save();
    assert.equal((await readProjectFile(file)).export.sideBySide, true);
    assert.equal(store.dirty, false);
    assert.equal(fs.existsSync(autosavePath(file)), false);
    store.close();
  });

  test('given a render started from revision R, when the user changes that keyframe\'s settings before its result arrives, then the commit keeps the user\'s edit and puts the result in the history with a note', async () => {
    const file = await projectOnDisk();
    const store = await ProjectStore.open(file);
    const base = store.snapshot();
    const edited = await renderResult(file, base.project, 10, 7);
    const untouched = await renderResult(file, base.project, 20, 8);
    // Meanwhile: the user gives keyframe 10 a prompt of its own.
    store.apply('Change keyframe settings', (p) => updateKeyframe(p, keyAt(p, 10).id, (k) => ({ ...k, overrides: { prompt: 'a watercolour' } })));
    assert.notEqual(store.revision, base.revision);

    const committed = store.commit('Render keyframes', base, (current, from) => applyKeyframeResults(file, current, [edited, untouched], [], from));
    const k10 = keyAt(store.project, 10);
    assert.deepEqual(k10.overrides, { prompt: 'a watercolour' }, 'the user\'s edit stays');
    assert.equal(k10.image, null, 'the render made from the old settings is not taken as the keyframe\'s image');
    assert.deepEqual(k10.history.map((h) => [h.image, h.seed]), [[edited.image, 7]], 'it is kept in the history, with its seed');
    assert.match(committed.notes.join('\n'), /keyframe at frame 10 changed while it rendered/);
    const k20 = keyAt(store.project, 20);
    assert.equal(k20.image, untouched.image, 'a result whose inputs did not change is taken');
    assert.equal(k20.revision, keyAt(base.project, 20).revision + 1);

    store.undo();
    assert.equal(keyAt(store.project, 20).image, null, 'the commit is one undo step');
    assert.deepEqual(keyAt(store.project, 10).overrides, { prompt: 'a watercolour' });
    store.close();
  });

  test('given a render started from revision R, when the project\'s prompt changes before its result arrives, then no keyframe takes the result', async () => {
    const file = await projectOnDisk();
    const store = await ProjectStore.open(file);
    const base = store.snapshot();
    const result = await renderResult(file, base.project, 0, 3);
    store.apply('Change project render settings', (p) => ({ ...p, render: { ...p.render, prompt: 'an oil painting' } }));
    const committed = store.commit('Render keyframes', base, (current, from) => applyKeyframeResults(file, current, [result], [], from));
    assert.equal(keyAt(store.project, 0).image, null);
    assert.equal(store.project.render.prompt, 'an oil painting');
    assert.equal(committed.notes.length, 1);
    store.close();
  });

  test('given a render started from revision R, when nothing changed meanwhile, then its result is taken', async () => {
    const file = await projectOnDisk();
    const store = await ProjectStore.open(file);
    const base = store.snapshot();
    const result = await renderResult(file, base.project, 0, 3);
    store.apply('Change export settings', (p) => ({ ...p, export: { ...p.export, sideBySide: true } })); // not an input of a render
    const committed = store.commit('Render keyframes', base, (current, from) => applyKeyframeResults(file, current, [result], [], from));
    assert.equal(keyAt(store.project, 0).image, result.image);
    assert.deepEqual(committed.notes, []);
    assert.equal(store.project.export.sideBySide, true, 'the edit made meanwhile stays');
    store.close();
  });
});

const root = path.resolve(__dirname, '..', '..');
function sources(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'build' ? [] : sources(rel);
    return /\.(ts|tsx|mts|cts|js|cjs|mjs)$/.test(e.name) ? [rel] : [];
  });
}

test('only the project store writes project files: no other source file imports the project file writers', () => {
  const writers = new Set(['writeProjectFile', 'writeAutosave', 'discardAutosave', 'serializeProject']);
  const importRe = /import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
  const allowed = new Set([path.join('main', 'engine', 'project', 'project-store.ts')]);
  const offenders = ['main', 'native-models/src', 'preload', 'renderer']
    .flatMap(sources)
    .filter((f) => !allowed.has(f))
    .flatMap((f) => [...fs.readFileSync(path.join(root, f), 'utf8').matchAll(importRe)]
      .filter((m) => /project-file$/.test(m[2]))
      .flatMap((m) => m[1].split(',').map((n) => n.trim().split(/\s+as\s+/)[0]).filter((n) => writers.has(n)).map((n) => `${f} imports ${n}`)));
  assert.deepEqual(offenders, [], 'these files write project files themselves; go through ProjectStore (main/engine/project/project-store.ts)');
});
