// The project's output as a whole (currentOutputFrames, for the flicker measure and metrics) is the
// output frame by frame (resultFrameFile, for export and the preview): the same file or nothing for
// every frame, with keyframes before and after the first and last frame, partly propagated segments,
// output of earlier inputs, and keyframes without or with a missing image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { currentOutputFrames, resultFrameFile, segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentsOf, updateKeyframe } from '../../main/engine/project/keyframes';
import { frameFileName } from '../../main/engine/project/paths';
import type { Project } from '../../preload/project-schema';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';

test('given segments propagated in part and keyframes with and without images, when the whole output is listed, then each frame has the file resultFrameFile gives it', () => {
  const dir = tempDir('rerender-output-frames-');
  const file = path.join(dir, 'clip.rerender');
  fs.writeFileSync(file, '{}');
  fs.mkdirSync(path.join(dir, 'clip.assets'));
  const base = sampleProject(60, [5, 20, 33, 50]);
  // Keyframe 5 and 33 have images on disk, 20's image is missing, 50 has none.
  const images: Record<number, string | null> = { 5: 'clip.assets/k5.png', 20: 'clip.assets/k20.png', 33: 'clip.assets/k33.png', 50: null };
  let p: Project = { ...base, keyframes: base.keyframes.map((k) => ({ ...k, image: images[k.frame], source: 'imported' as const, status: images[k.frame] ? 'done' as const : 'empty' as const })) };
  fs.writeFileSync(path.join(dir, 'clip.assets/k5.png'), 'k5');
  fs.writeFileSync(path.join(dir, 'clip.assets/k33.png'), 'k33');
  const [lead, first, second, , tail] = segmentsOf(p);
  const write = (key: string, frames: number[]) => {
    fs.mkdirSync(segmentOutputDir(file, key), { recursive: true });
    for (const f of frames) fs.writeFileSync(path.join(segmentOutputDir(file, key), frameFileName(f)), `out ${f}`);
  };
  write(segmentOutputKey(p, lead), [0, 1, 2, 3, 4]);
  write(segmentOutputKey(p, first), [6, 7, 8, 19]); // in part
  write(segmentOutputKey(p, tail), [51, 59]);
  // The second segment's output was made before keyframe 33 got a new revision: not current.
  write(segmentOutputKey(p, second), [21, 22, 32]);
  p = updateKeyframe(p, p.keyframes[2].id, (k) => ({ ...k, revision: k.revision + 1 }));
  write(segmentOutputKey(p, segmentsOf(p)[3]), [34, 49]); // the third, propagated since

  const all = currentOutputFrames(file, p).files;
  assert.equal(all.length, 60);
  for (let i = 0; i < 60; i++) assert.equal(all[i], resultFrameFile(file, p, i), `frame ${i}`);
  const present = all.flatMap((f, i) => (f ? [i] : []));
  assert.deepEqual(present, [0, 1, 2, 3, 4, 5, 6, 7, 8, 19, 33, 34, 49, 51, 59]);
});
