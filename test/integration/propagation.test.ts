// Propagation end to end on a generated clip: every frame output, keyframes exact, resume after a kill,
// only changed segments redone, and temporally more stable than independent per-frame synthesis.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createProject } from '../../main/engine/project/create';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { setKeyframeFrames } from '../../main/engine/project/keyframes';
import { importKeyframeImage } from '../../main/engine/project/keyframe-images';
import { frameFileName, projectPaths } from '../../main/engine/project/paths';
import { propagateProject, openProjectFlows } from '../../main/engine/propagation/propagate-project';
import { buildGuides, positionMap } from '../../main/engine/propagation/guides';
import { synthesize } from '../../native-models/src/synthesis';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { measureWarpError } from '../../main/engine/metrics/warp-error';
import { indexedFrames } from '../../main/engine/media/frames-folder';
import { currentOutputFrames, resultFrameFile } from '../../main/engine/project/output-keys';
import { makeVideo, tempDir } from '../helpers/media';
import { CancelToken, CancelledError } from '../../native-models/src/errors';
import { binPath } from '../helpers/cli';
import type { Project } from '../../preload/project-schema';

/** A deterministic "style": posterised, hue-rotated, saturated copy of the source frame. */
async function stylise(src: string, out: string): Promise<void> {
  await sharp(src).modulate({ saturation: 1.8, hue: 120 }).median(3).toFile(out);
}

async function makeProject(dir: string, frames: number, keys: number[]): Promise<{ file: string; project: Project }> {
  const video = makeVideo(dir, 'clip', { width: 320, height: 180, fps: 24, frames });
  const file = path.join(dir, 'clip.rerender');
  let p = await createProject(file, video, { size: 128 });
  // Fast settings for tests: the defaults' quality is measured by the benchmark, not here.
  p = { ...setKeyframeFrames(p, keys), propagation: { ...p.propagation, searchVoteIters: 2, patchMatchIters: 2, workers: 1 } };
  for (const k of keys) {
    const styled = path.join(dir, `key-${k}.png`);
    await stylise(path.join(projectPaths(file).framesDir, frameFileName(k)), styled);
    p = await importKeyframeImage(file, p, k, styled);
  }
  await writeProjectFile(file, p);
  return { file, project: p };
}

/** The names of the output frames the project has now (keyframe images and frames under the segments' current output keys). */
const outputs = (file: string, p: Project) => currentOutputFrames(file, p).files.flatMap((f, i) => (f ? [frameFileName(i)] : []));
/** Propagated frames written so far under any output key (a running CLI's progress). */
const written = (file: string) => (fs.readdirSync(projectPaths(file).outputDir, { recursive: true }) as string[]).filter((f) => /\d{5}\.png$/.test(f)).length;

describe('propagation', () => {
  test('given keyframes at both ends and inside, when propagated, then every frame is output and keyframes are exact', async () => {
    const dir = tempDir();
    const { file, project } = await makeProject(dir, 16, [2, 8, 12]);
    const r = await propagateProject(file, project);
    assert.equal(r.segments, 4); // head 0-1, 2-8, 8-12, tail 13-15
    assert.deepEqual(outputs(file, project), Array.from({ length: 16 }, (_, i) => frameFileName(i)));
    for (const k of project.keyframes) {
      const kept = fs.readFileSync(resultFrameFile(file, project, k.frame)!);
      assert.deepEqual(kept, fs.readFileSync(path.join(dir, k.image!)), `keyframe ${k.frame} is output exactly as given`);
    }
  });

  test('given a finished project, when one keyframe changes, then only the segments touching it are redone', async () => {
    const dir = tempDir();
    const { file, project } = await makeProject(dir, 16, [0, 5, 10, 15]);
    await propagateProject(file, project);
    const changed = await importKeyframeImage(file, project, 15, path.join(dir, 'key-0.png'));
    await writeProjectFile(file, changed);
    const r = await propagateProject(file, changed);
    assert.equal(r.framesWritten, 4, 'frames 11-14 of segment 10-15');
    assert.equal(r.framesKept, 8, 'frames 1-4 and 6-9 are kept');
  });

  test('given a run killed midway, when run again, then only unfinished frames are synthesised', async () => {
    const dir = tempDir();
    const { file } = await makeProject(dir, 24, [0]);
    const outDir = projectPaths(file).outputDir;
    const child = spawn(process.execPath, [binPath, 'propagate', file], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const n = fs.existsSync(outDir) ? written(file) : 0;
        if (n >= 5) { clearInterval(timer); child.kill('SIGKILL'); resolve(); }
      }, 20);
      child.on('exit', () => { clearInterval(timer); reject(new Error('propagation finished before it could be killed')); });
    });
    await new Promise((r) => child.on('exit', r));
    const before = written(file);
    assert.ok(before < 23, 'the kill left the run unfinished');
    const project = await readProjectFile(file);
    const r = await propagateProject(file, project);
    assert.equal(outputs(file, project).length, 24);
    assert.ok(r.framesKept >= before - 1, `kept ${r.framesKept} of ${before} frames found`); // minus one being written at the kill
    assert.equal(r.framesKept + r.framesWritten, 23);
    assert.ok(r.synthesesReused >= r.framesKept, 'chain results stored before the kill are reused');
    assert.equal(r.synthesesRun + r.synthesesReused, 23);
  });

  test('given a run cancelled mid-chain, when run again, then every frame is byte-identical to an uninterrupted run', async () => {
    // Two projects made alike: one propagated straight through, one cancelled after a few chain steps
    // (in both directions of a two-keyframe segment) and resumed. The resumed chains must continue from
    // exactly what the uninterrupted ones had in memory (the matches included).
    const straight = await makeProject(tempDir(), 14, [0, 13]);
    await propagateProject(straight.file, straight.project);
    const resumed = await makeProject(tempDir(), 14, [0, 13]);
    for (const stopAfter of [4, 17]) {
      const cancel = new CancelToken();
      let calls = 0;
      await assert.rejects(
        propagateProject(resumed.file, resumed.project, { cancel, onProgress: () => { if (++calls === stopAfter) cancel.cancel(); } }),
        (e: Error) => e instanceof CancelledError,
      );
    }
    const again = await readProjectFile(resumed.file);
    const r = await propagateProject(resumed.file, again);
    assert.ok(r.synthesesReused > 0, 'the resumed run continued from stored chain results');
    const a = currentOutputFrames(straight.file, straight.project).files;
    const b = currentOutputFrames(resumed.file, again).files;
    assert.equal(b.filter(Boolean).length, a.filter(Boolean).length);
    a.forEach((f, i) => {
      assert.ok(f && b[i], `frame ${i} is output by both runs`);
      assert.ok(fs.readFileSync(f).equals(fs.readFileSync(b[i]!)), `frame ${i} of the resumed run equals the uninterrupted run`);
    });
  });

  test('given a moving clip, the propagated frames flicker less than independent per-frame synthesis', async () => {
    const dir = tempDir();
    const { file, project } = await makeProject(dir, 12, [0, 11]);
    await propagateProject(file, project);
    // Independent baseline: every frame synthesised alone from the first keyframe, colour guide only.
    const paths = projectPaths(file);
    const independent = path.join(dir, 'independent');
    fs.mkdirSync(independent);
    const key = await readRgb(path.join(paths.framesDir, frameFileName(0)));
    const style = await readRgb(path.join(dir, project.keyframes[0].image!));
    for (let f = 0; f < 12; f++) {
      const target = await readRgb(path.join(paths.framesDir, frameFileName(f)));
      const guides = buildGuides({ keyframe: { frame: key, positions: positionMap(key.width, key.height), style }, target: { frame: target, positions: positionMap(key.width, key.height) } }, { colour: 6, edges: 0.5, temporal: 0, positional: 0 });
      const r = await synthesize({ styles: [{ image: style }], guides, searchVoteIters: 2, patchMatchIters: 2, seed: 100 + f });
      await writePng(path.join(independent, frameFileName(f)), r.image);
    }
    const flows = await openProjectFlows(file, project);
    const propagated = await measureWarpError({ output: currentOutputFrames(file, project), source: indexedFrames(paths.framesDir), sourceFlows: (i) => flows.pair(i) });
    const baseline = await measureWarpError({ output: indexedFrames(independent), source: indexedFrames(paths.framesDir), sourceFlows: (i) => flows.pair(i) });
    assert.ok(propagated.mean < baseline.mean, `propagated ${propagated.mean.toFixed(5)} vs independent ${baseline.mean.toFixed(5)}`);
  });
});
