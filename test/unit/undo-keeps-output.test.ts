// Undo brings output back (issue 15, bug 5) also after the cache is collected: the editor session passes
// the keys of every document undo or redo can return to as `keep`, so collecting after a propagation
// removes only entries nothing refers to. Without them, the segments undo returns to lose their frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EditorSession } from '../../main/engine/editor/session';
import { writeProjectFile } from '../../main/engine/project/project-file';
import { completeMarker, inputsOf, segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { frameFileName } from '../../main/engine/project/paths';
import { collectCache } from '../../main/engine/project/cache-collector';
import type { Project } from '../../preload/project-schema';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';

/** Every segment of `p` as a finished propagation leaves it: its frames and record under its current key. */
function propagated(file: string, p: Project): void {
  for (const s of segmentsOf(p)) {
    const key = segmentOutputKey(p, s);
    fs.mkdirSync(segmentOutputDir(file, key), { recursive: true });
    for (let f = s.start; f <= s.end; f++) fs.writeFileSync(path.join(segmentOutputDir(file, key), frameFileName(f)), `frame ${f} of ${key}`);
    fs.writeFileSync(completeMarker(file, key), JSON.stringify(inputsOf(p, s)));
  }
}

test('given a keyframe deleted and its merged segment propagated, when the cache is collected over its limit and the delete undone, then the earlier segments are done again', async () => {
  const file = path.join(tempDir('rerender-undo-keeps-'), 'clip.rerender');
  const base = sampleProject(21, [0, 10, 20]);
  const p = { ...base, keyframes: base.keyframes.map((k) => ({ ...k, source: 'imported' as const, image: `clip.assets/k-${k.frame}.png`, status: 'done' as const })) };
  await writeProjectFile(file, p);
  const session = new EditorSession(0);
  try {
    const statuses = () => Object.fromEntries(session.state()!.segments.map((s) => [s.id, s.status]));
    await session.openProject(file);
    propagated(file, session.project());
    session.mediaChanged(); // as the editor does when a propagation ends
    assert.deepEqual(statuses(), { '0-10': 'done', '10-20': 'done' });
    const k10 = session.project().keyframes.find((k) => k.frame === 10)!;
    await session.edit({ action: 'removeKeyframes', ids: [k10.id] });
    propagated(file, session.project());
    session.mediaChanged();
    assert.deepEqual(statuses(), { '0-20': 'done' });
    const unused = segmentOutputDir(file, '0-20-0123456789abcdef');
    fs.mkdirSync(unused, { recursive: true });
    fs.writeFileSync(path.join(unused, frameFileName(3)), 'from inputs nothing refers to');
    fs.writeFileSync(completeMarker(file, '0-20-0123456789abcdef'), JSON.stringify(inputsOf(session.project(), segmentsOf(session.project())[0])));

    // A limit nothing but the current output meets: what undo can return to stays all the same.
    const report = await session.collectCache(1);
    assert.deepEqual(report!.removed.map((e) => e.key), ['0-20-0123456789abcdef']);
    session.undo();
    assert.deepEqual(statuses(), { '0-10': 'done', '10-20': 'done' }, 'undo finds the output it returns to');
    session.redo();
    assert.deepEqual(statuses(), { '0-20': 'done' }, 'and redo the merged segment\'s');

    // What undo would find if the history's keys were not kept: the document's own keys only.
    await collectCache(file, session.project(), { limitBytes: 1 });
    session.mediaChanged();
    session.undo();
    assert.deepEqual(statuses(), { '0-10': 'not-rendered', '10-20': 'not-rendered' });
  } finally {
    session.dispose();
  }
});
