// Propagated frames appear one by one while their segment runs (issue 16 item 6): a frame is blended and
// written as soon as what it needs is at hand, not after the whole segment's chains; a run stopped part way
// through a segment leaves it partial (never done) and the run after it gives the bytes of one straight run.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readProjectFile } from '../../main/engine/project/project-file';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { propagateProject } from '../../main/engine/propagation/propagate-project';
import { currentOutputFrames, isComplete, segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentStatus } from '../../main/engine/project/status';
import { tempDir } from '../helpers/media';
import { makeFarmProject } from '../helpers/farm';
import { CancelToken, CancelledError } from '../../native-models/src/errors';
import type { Project } from '../../preload/project-schema';

/** A project with styled keyframes (the farm tests' maker, at 128 px from a 320×180 clip). */
function makeProject(frames: number, keys: number[]): Promise<{ file: string; project: Project }> {
  return makeFarmProject(tempDir(), frames, keys, 128, { width: 320, height: 180 });
}

/** Output frames of segment `id` on disk now (under its current key). */
function framesOnDisk(file: string, p: Project, id: string): number[] {
  const s = segmentsOf(p).find((x) => x.id === id)!;
  const dir = segmentOutputDir(file, segmentOutputKey(p, s));
  return fs.existsSync(dir) ? fs.readdirSync(dir).flatMap((n) => { const m = /^(\d+)\.png$/.exec(n); return m ? [Number(m[1])] : []; }).sort((a, b) => a - b) : [];
}

describe('propagation frame by frame', () => {
  test('given a segment between two keyframes, when propagated, then each frame is on disk (and reported) while the segment still runs', async () => {
    const { file, project } = await makeProject(14, [0, 13]);
    const seg = segmentsOf(project).find((s) => s.left && s.right)!;
    const total = seg.end - seg.start + 1;
    let fraction = 0;
    const seen: { done: number; fraction: number; onDisk: number[]; complete: boolean; message: string }[] = [];
    let message = '';
    await propagateProject(file, project, {
      onProgress: (f, m) => { fraction = f; message = m ?? ''; },
      onSegment: (id, done) => {
        if (id !== seg.id) return;
        seen.push({ done, fraction, onDisk: framesOnDisk(file, project, id), complete: isComplete(file, segmentOutputKey(project, seg)), message });
      },
    });
    assert.equal(seen.length, total, 'one event per frame');
    for (const [i, e] of seen.entries()) {
      assert.equal(e.done, i + 1);
      // The frames reported so far are on disk (in order, from the left keyframe), the rest not yet.
      assert.deepEqual(e.onDisk, Array.from({ length: i + 1 }, (_, k) => seg.start + k), `after ${i + 1} frames`);
      if (i + 1 < total) assert.equal(e.complete, false, 'the segment is not done before its last frame');
    }
    // The first frame came while syntheses were still to run (before: after all of the segment's).
    assert.ok(seen[0].fraction < 0.75, `first frame written at ${(seen[0].fraction * 100).toFixed(0)} % of the syntheses`);
    for (const e of seen.slice(0, total - 2)) assert.ok(e.fraction < 0.999, `frame ${e.done} was written before the last synthesis`);
    // Progress counts frames as they are written.
    assert.match(seen[0].message, /^1 of 12 frames done · frames 1–12: 1[34] of 24 syntheses, frame 1 written$/);
  });

  test('given head and tail segments (one direction), when propagated, then each frame is written right after its synthesis', async () => {
    const { file, project } = await makeProject(12, [5]);
    const bySeg = new Map<string, { fraction: number; onDisk: number }[]>();
    let fraction = 0;
    await propagateProject(file, project, {
      onProgress: (f) => { fraction = f; },
      onSegment: (id) => { const l = bySeg.get(id) ?? []; l.push({ fraction, onDisk: framesOnDisk(file, project, id).length }); bySeg.set(id, l); },
    });
    for (const s of segmentsOf(project).filter((x) => !(x.left && x.right))) {
      const events = bySeg.get(s.id)!;
      assert.equal(events.length, s.end - s.start + 1, `segment ${s.id}`);
      events.forEach((e, i) => assert.equal(e.onDisk, i + 1, `segment ${s.id}: frame ${i + 1} on disk when reported`));
      // The first frame came while the chain still had syntheses to run (before: after all of them).
      assert.ok(events[0].fraction < events[events.length - 1].fraction, `segment ${s.id}: first frame written before the chain's end`);
    }
  });

  test('given a run cancelled after some frames of a segment, then the segment is partial, and the next run gives the bytes of a straight run', async () => {
    const straight = await makeProject(14, [0, 13]);
    await propagateProject(straight.file, straight.project);
    const stopped = await makeProject(14, [0, 13]);
    const seg = segmentsOf(stopped.project).find((s) => s.left && s.right)!;
    const cancel = new CancelToken();
    await assert.rejects(
      propagateProject(stopped.file, stopped.project, { cancel, onSegment: (_id, done) => { if (done === 4) cancel.cancel(); } }),
      (e: Error) => e instanceof CancelledError,
    );
    const left = framesOnDisk(stopped.file, stopped.project, seg.id);
    assert.ok(left.length >= 4 && left.length < seg.end - seg.start + 1, `frames ${left.join(', ')} were written before the cancel`);
    const status = segmentStatus(stopped.file, stopped.project, seg);
    assert.equal(status.status, 'partial');
    assert.equal(status.framesDone, left.length);
    const again = await readProjectFile(stopped.file);
    const r = await propagateProject(stopped.file, again);
    assert.equal(r.framesKept, left.length);
    assert.equal(r.framesKept + r.framesWritten, 12);
    assert.equal(segmentStatus(stopped.file, again, seg).status, 'done');
    const a = currentOutputFrames(straight.file, straight.project).files;
    const b = currentOutputFrames(stopped.file, again).files;
    a.forEach((f, i) => assert.ok(f && b[i] && fs.readFileSync(f).equals(fs.readFileSync(b[i]!)), `frame ${i} equals the straight run's`));
    const coverage = (file: string, p: Project) => {
      const own = segmentsOf(p).find((x) => x.id === seg.id)!;
      return fs.readFileSync(path.join(segmentOutputDir(file, segmentOutputKey(p, own)), 'coverage.json'));
    };
    assert.ok(coverage(straight.file, straight.project).equals(coverage(stopped.file, again)), 'the coverage figures too');
  });
});
