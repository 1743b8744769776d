// `rerender keyframes --every N` and `--auto` replace only empty keyframes: a keyframe holding the user's
// image (imported or painted) stays where it is with its image, as the editor's Suggest keyframes does;
// `--set` gives exactly the frames listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import sharp from 'sharp';
import { rerender } from '../helpers/cli';
import { makeVideo, tempDir } from '../helpers/media';

test('given an image imported at frame 25 and a painted one at 7, when keyframes are set --every 24 or --auto, then both stay with their images; --set drops them', async () => {
  const dir = tempDir('rerender-cli-keep-');
  const project = path.join(dir, 'clip.rerender');
  const video = makeVideo(dir, 'clip', { width: 160, height: 96, frames: 60, fps: 24 });
  assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
  const image = path.join(dir, 'mine.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toFile(image);
  for (const [frame, painted] of [[25, false], [7, true]] as const) {
    const r = rerender(['import-keyframe', project, '--frame', String(frame), '--image', image, ...(painted ? ['--painted'] : []), '--json']);
    assert.equal(r.code, 0, r.stderr);
  }
  const images = () => new Map(rerender(['info', project, '--json']).json().keyframes.map((k: { frame: number; image: string | null }) => [k.frame, k.image]));
  const before = images();
  for (const f of [7, 25]) assert.match(String(before.get(f)), /\.png$/, `keyframe ${f} has its image`);

  const every = rerender(['keyframes', project, '--every', '24', '--json']);
  assert.equal(every.code, 0, every.stderr);
  assert.deepEqual(every.json().keyframes, [0, 7, 24, 25, 48]);
  assert.deepEqual(every.json().keptForImages, [7, 25]);
  const after = images();
  for (const f of [7, 25]) assert.equal(after.get(f), before.get(f), `keyframe ${f} keeps its image`);
  const text = rerender(['keyframes', project, '--every', '30']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^4 keyframes: 0, 7, 25, 30 \(kept for their images: 7, 25\)$/m);
  assert.deepEqual(rerender(['info', project, '--json']).json().keyframes.map((k: { frame: number }) => k.frame), [0, 7, 25, 30]);

  const auto = rerender(['keyframes', project, '--auto', '--min', '20', '--max', '40', '--json']);
  assert.equal(auto.code, 0, auto.stderr);
  const keys: number[] = auto.json().keyframes;
  assert.ok(keys.includes(7) && keys.includes(25), `--auto keeps 7 and 25: ${keys.join(', ')}`);
  assert.equal(images().get(25), before.get(25));

  const set = rerender(['keyframes', project, '--set', '0,30', '--json']);
  assert.deepEqual(set.json().keyframes, [0, 30], '--set is exact');
});
