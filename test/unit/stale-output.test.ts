// A stale segment's old frames (issue 15): the preview shows what the last propagation made, marked
// stale, under its own media path; the output (status, export, the "output" media path) never takes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MediaError, resolveMediaFile } from '../../main/engine/editor/media-files';
import { inputsOf, lastRunPath, resultFrameFile, segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentsOf, updateKeyframe } from '../../main/engine/project/keyframes';
import { segmentStatus } from '../../main/engine/project/status';
import { frameFileName } from '../../main/engine/project/paths';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';

test('given a segment propagated from a keyframe image since replaced, when frames of it are asked for, then the output has none and the stale path gives the old ones', () => {
  const file = path.join(tempDir('rerender-stale-output-'), 'clip.rerender');
  fs.writeFileSync(file, '{}');
  const withImages = (p: ReturnType<typeof sampleProject>, tag: string) => ({ ...p, keyframes: p.keyframes.map((k) => ({ ...k, image: `clip.assets/${tag}-${k.frame}.png`, source: 'imported' as const, status: 'done' as const })) });
  const before = withImages(sampleProject(21, [0, 10, 20]), 'a');
  // The segment 0-10 as a finished propagation left it: its frames under the key of its inputs then.
  const seg = segmentsOf(before)[0];
  const key = segmentOutputKey(before, seg);
  fs.mkdirSync(segmentOutputDir(file, key), { recursive: true });
  for (let f = seg.start; f <= seg.end; f++) fs.writeFileSync(path.join(segmentOutputDir(file, key), frameFileName(f)), `old ${f}`);
  fs.mkdirSync(path.dirname(lastRunPath(file, seg.id)), { recursive: true });
  fs.writeFileSync(lastRunPath(file, seg.id), JSON.stringify({ key, inputs: inputsOf(before, seg) }));
  assert.equal(fs.readFileSync(resolveMediaFile(file, 'output/00005.png', before), 'utf8'), 'old 5', 'current while its inputs are');
  assert.throws(() => resolveMediaFile(file, 'output-stale/00005.png', before), (e) => e instanceof MediaError && e.status === 404, 'nothing stale while current');

  // The keyframe at 10 gets a new image: the segment is stale and its old frames are not output.
  const after = updateKeyframe(before, before.keyframes[1].id, (k) => ({ ...k, image: 'clip.assets/b-10.png', revision: k.revision + 1 }));
  assert.equal(segmentStatus(file, after, segmentsOf(after)[0]).status, 'stale');
  assert.equal(resultFrameFile(file, after, 5), undefined);
  assert.throws(() => resolveMediaFile(file, 'output/00005.png', after), (e) => e instanceof MediaError && e.status === 404);
  assert.equal(fs.readFileSync(resolveMediaFile(file, 'output-stale/00005.png', after), 'utf8'), 'old 5');
  assert.throws(() => resolveMediaFile(file, 'output-stale/00015.png', after), (e) => e instanceof MediaError && e.status === 404, 'a segment never propagated has no stale frames');
});
