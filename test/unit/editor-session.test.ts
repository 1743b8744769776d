// The editor session as specified: every edit through the action list, undo/redo with labels, dirty
// state, autosave with recovery on the next open, save and save-as, events for the UI.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { EditorSession } from '../../main/engine/editor/session';
import { writeProjectFile, readProjectFile, autosavePath } from '../../main/engine/project/project-file';
import { projectPaths } from '../../main/engine/project/paths';
import { lockPath } from '../../main/engine/project/project-lock';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';
import type { ProjectState } from '../../preload/api';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { completeMarker, inputsOf, segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { frameFileName } from '../../main/engine/project/paths';

async function projectOnDisk(frames = 50, keys = [0, 10, 20]): Promise<string> {
  const file = path.join(tempDir('rerender-session-'), 'clip.rerender');
  await writeProjectFile(file, sampleProject(frames, keys));
  return file;
}

const framesOf = (s: ProjectState | null) => s!.project.keyframes.map((k) => k.frame);
const idAt = (s: ProjectState, frame: number) => s.project.keyframes.find((k) => k.frame === frame)!.id;

describe('editor session', () => {
  test('given an open project, when keyframes are added, moved together and deleted, then undo and redo walk the edits with their labels', async () => {
    const session = new EditorSession(60_000);
    const events: Array<ProjectState | null> = [];
    session.on('project.changed', (s) => events.push(s));
    const opened = await session.openProject(await projectOnDisk());
    assert.equal(opened.dirty, false);
    assert.equal(opened.undo, null);

    const added = await session.edit({ action: 'addKeyframe', frame: 5 });
    assert.deepEqual(framesOf(added), [0, 5, 10, 20]);
    assert.equal(added.dirty, true);
    assert.equal(added.undo, 'Add keyframe');

    const moved = await session.edit({ action: 'moveKeyframes', moves: [{ id: idAt(added, 10), frame: 12 }, { id: idAt(added, 20), frame: 22 }] });
    assert.deepEqual(framesOf(moved), [0, 5, 12, 22]);
    assert.equal(moved.undo, 'Move 2 keyframes');
    assert.equal(idAt(moved, 12), idAt(added, 10), 'a moved keyframe keeps its identity');

    const deleted = await session.edit({ action: 'removeKeyframes', ids: [idAt(moved, 5)] });
    assert.deepEqual(framesOf(deleted), [0, 12, 22]);
    assert.equal(deleted.undo, 'Delete keyframe');

    assert.deepEqual(framesOf(session.undo()), [0, 5, 12, 22]);
    assert.deepEqual(framesOf(session.undo()), [0, 5, 10, 20]);
    const back = session.redo();
    assert.deepEqual(framesOf(back), [0, 5, 12, 22]);
    assert.equal(back.redo, 'Delete keyframe');
    assert.ok(events.length >= 7, 'every change is announced');
    session.dispose();
  });

  test('given keyframes at 0, 10, 20, when one is moved onto another, then the edit is refused and nothing changes', async () => {
    const session = new EditorSession(60_000);
    const s = await session.openProject(await projectOnDisk());
    await assert.rejects(session.edit({ action: 'moveKeyframes', moves: [{ id: idAt(s, 10), frame: 20 }] }), /already has a keyframe/);
    await assert.rejects(session.edit({ action: 'addKeyframe', frame: 50 }), /outside the video/);
    const after = session.state()!;
    assert.deepEqual(framesOf(after), [0, 10, 20]);
    assert.equal(after.undo, null);
    assert.equal(after.dirty, false);
    session.dispose();
  });

  test('given a keyframe, when a setting is overridden and then reverted, then the override appears and goes, each undoable', async () => {
    const session = new EditorSession(60_000);
    const s = await session.openProject(await projectOnDisk());
    const id = idAt(s, 10);
    const changed = await session.edit({ action: 'setKeyframeOverrides', id, overrides: { prompt: 'oil painting', controlnet: { strength: 0.5 } } });
    assert.deepEqual(changed.project.keyframes.find((k) => k.id === id)!.overrides, { prompt: 'oil painting', controlnet: { strength: 0.5 } });
    const reverted = await session.edit({ action: 'revertKeyframe', id });
    assert.deepEqual(reverted.project.keyframes.find((k) => k.id === id)!.overrides, {});
    assert.equal(session.undo().project.keyframes.find((k) => k.id === id)!.overrides.prompt, 'oil painting');
    session.dispose();
  });

  test('given a project, when the method is switched to FRESCO and a component turned off, then both are saved and undoable', async () => {
    const session = new EditorSession(60_000);
    await session.openProject(await projectOnDisk());
    const fresco = await session.edit({ action: 'setMode', mode: 'fresco' });
    assert.equal(fresco.project.mode, 'fresco');
    const off = await session.edit({ action: 'setMode', mode: 'fresco', fresco: { temporalAttention: false } });
    assert.equal(off.project.fresco?.temporalAttention, false);
    assert.equal(off.project.fresco?.spatialAttention, true, 'other switches keep their defaults');
    assert.equal(off.undo, 'Change FRESCO settings');
    assert.equal(session.undo().project.fresco, undefined);
    assert.equal(session.undo().project.mode, 'rerender');
    session.dispose();
  });

  test('given unsaved edits, when the app stops without saving, then the next open offers the autosave and restoring it brings the edits back', async () => {
    const file = await projectOnDisk();
    const first = new EditorSession(10);
    await first.openProject(file);
    await first.edit({ action: 'addKeyframe', frame: 33 });
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(fs.existsSync(autosavePath(file)), 'the autosave is written shortly after an edit');
    first.dispose(); // as if the app crashed: no save

    const second = new EditorSession(60_000);
    const reopened = await second.openProject(file);
    assert.equal(reopened.recoveryAvailable, true);
    assert.deepEqual(framesOf(reopened), [0, 10, 20], 'the saved project is what opens');
    const restored = await second.restoreAutosave();
    assert.deepEqual(framesOf(restored), [0, 10, 20, 33]);
    assert.equal(restored.dirty, true);
    assert.equal(restored.recoveryAvailable, false);

    const saved = await second.save();
    assert.equal(saved.dirty, false);
    assert.ok(!fs.existsSync(autosavePath(file)), 'a clean save removes the autosave');
    assert.deepEqual((await readProjectFile(file)).keyframes.map((k) => k.frame), [0, 10, 20, 33]);
    second.dispose();
  });

  test('given an autosave the user does not want, when it is discarded, then it is gone and the saved project stays', async () => {
    const file = await projectOnDisk();
    const first = new EditorSession(10);
    await first.openProject(file);
    await first.edit({ action: 'addKeyframe', frame: 7 });
    await first.autosaveNow();
    first.dispose();
    const second = new EditorSession(60_000);
    assert.equal((await second.openProject(file)).recoveryAvailable, true);
    const s = await second.discardRecovery();
    assert.equal(s.recoveryAvailable, false);
    assert.ok(!fs.existsSync(autosavePath(file)));
    assert.deepEqual(framesOf(s), [0, 10, 20]);
    second.dispose();
  });

  test('given an image, when it is imported as a keyframe, then it is copied into the assets folder, and undo takes the keyframe back', async () => {
    const file = await projectOnDisk(50, [0, 20]);
    const image = path.join(path.dirname(file), 'painted.png');
    await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toFile(image);
    const session = new EditorSession(60_000);
    const before = await session.openProject(file);
    const s = await session.edit({ action: 'importKeyframeImage', frame: 12, image });
    const k = s.project.keyframes.find((x) => x.frame === 12)!;
    assert.equal(k.source, 'imported');
    assert.equal(k.status, 'done');
    assert.ok(k.image && fs.existsSync(path.join(path.dirname(file), k.image)));
    assert.ok(path.join(path.dirname(file), k.image).startsWith(projectPaths(file).assetsDir));
    assert.ok(s.mediaRevision > before.mediaRevision, 'media URLs change so previews reload');
    assert.deepEqual(framesOf(session.undo()), [0, 20]);
    session.dispose();
  });

  test('given a project open in another running process, when opened here, then it is refused with who has it; a stale lock is taken over', async () => {
    const file = await projectOnDisk();
    const owner = { pid: process.ppid, host: os.hostname(), since: '2026-01-01T00:00:00Z', app: 'Rerender editor' };
    fs.writeFileSync(lockPath(file), JSON.stringify(owner));
    const session = new EditorSession(60_000);
    await assert.rejects(session.openProject(file), /open in another window or process/);
    fs.writeFileSync(lockPath(file), JSON.stringify({ ...owner, pid: 2 ** 22 + 12345 })); // no such process
    await session.openProject(file);
    assert.equal(JSON.parse(fs.readFileSync(lockPath(file), 'utf8')).pid, process.pid, 'the session holds the lock while open');
    session.closeProject();
    assert.ok(!fs.existsSync(lockPath(file)), 'closing releases it');
    session.dispose();
  });

  test('given a project with an imported keyframe, when saved under another name, then assets come along and the paths point to them', async () => {
    const file = await projectOnDisk(50, [0]);
    const image = path.join(path.dirname(file), 'painted.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 0, g: 90, b: 200 } } }).png().toFile(image);
    const session = new EditorSession(60_000);
    await session.openProject(file);
    await session.edit({ action: 'importKeyframeImage', frame: 0, image });
    const copy = path.join(path.dirname(file), 'copy.rerender');
    const saved = await session.save(copy);
    assert.equal(saved.file, copy);
    const k = (await readProjectFile(copy)).keyframes[0];
    assert.ok(k.image!.startsWith('copy.assets/'), k.image!);
    assert.ok(fs.existsSync(path.join(path.dirname(copy), k.image!)));
    session.dispose();
  });

  test('given a propagation of every segment running, when one segment is finished, then it shows done while the others show rendering', async () => {
    const file = path.join(tempDir('rerender-session-'), 'clip.rerender');
    const base = sampleProject(30, [0, 10, 20]);
    fs.mkdirSync(projectPaths(file).assetsDir, { recursive: true });
    const p = { ...base, keyframes: base.keyframes.map((k) => ({ ...k, source: 'imported' as const, status: 'done' as const, image: `clip.assets/k${k.frame}.png` })) };
    for (const k of p.keyframes) fs.writeFileSync(path.join(projectPaths(file).dir, k.image), 'image');
    await writeProjectFile(file, p);
    const session = new EditorSession(60_000);
    const opened = await session.openProject(file);
    // The first segment as a finished propagation leaves it: every frame and its inputs record.
    const [first] = segmentsOf(opened.project);
    const dir = segmentOutputDir(file, segmentOutputKey(opened.project, first));
    fs.mkdirSync(dir, { recursive: true });
    for (let f = first.start; f <= first.end; f++) fs.writeFileSync(path.join(dir, frameFileName(f)), 'frame');
    fs.writeFileSync(completeMarker(file, segmentOutputKey(opened.project, first)), JSON.stringify(inputsOf(opened.project, first)));
    session.overlay.propagating = 'all';
    session.mediaChanged();
    const segments = session.state()!.segments;
    assert.deepEqual(segments.map((x) => [x.id, x.status]), [['0-10', 'done'], ['10-20', 'rendering'], ['20-29', 'rendering']]);
    session.dispose();
  });
});
