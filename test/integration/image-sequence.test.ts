// Image sequences as sources, end to end through the CLI: a folder of PNG or JPEG frames at a stated rate
// becomes a project (frames in numeric order), bad folders are refused naming the odd file, and the source
// checks (info, export, relink, a deleted cache) work for a sequence as for a video.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { rerender } from '../helpers/cli';
import { makeImageSequence, tempDir, ffprobeStreams } from '../helpers/media';
import { createEditor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';

/** Which frame of makeImageSequence a decoded picture shows (its red is 10 × the frame). */
async function shownFrame(file: string): Promise<number> {
  const { channels } = await sharp(file).stats();
  return Math.round(channels[0].mean / 10);
}

function newProject(dir: string, name: string, folder: string, ...more: string[]) {
  return rerender(['new', path.join(dir, `${name}.rerender`), '--video', folder, '--short-side', '64', ...more]);
}

describe('a folder of frames as the source', () => {
  const dir = tempDir('rerender-sequence-');

  test('given PNG frames 0001.png… at --fps 24, when a project is made, then every frame is decoded in order and info names the sequence', async () => {
    const frames = makeImageSequence(dir, 'png-frames', { count: 14, width: 160, height: 96 });
    const r = newProject(dir, 'png', frames, '--fps', '24', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().frames, 14);
    assert.equal(r.json().fps, 24);
    const cache = path.join(dir, 'png.cache', 'frames');
    for (const k of [0, 1, 7, 13]) assert.equal(await shownFrame(path.join(cache, `${String(k).padStart(5, '0')}.png`)), k, `decoded frame ${k}`);
    const info = rerender(['info', path.join(dir, 'png.rerender'), '--json']).json();
    assert.equal(info.sourceStatus, 'ok');
    assert.equal(info.source.hasAudio, false);
    assert.deepEqual([info.source.width, info.source.height], [160, 96]);
    assert.deepEqual({ ...info.source.sequence, fingerprint: undefined }, { first: '0001.png', last: '0014.png', count: 14, fingerprint: undefined });
    assert.match(rerender(['info', path.join(dir, 'png.rerender')]).stdout, /14 frames, 24 fps, .*source image sequence 0001\.png to 0014\.png, 160×96/);
  });

  test('given JPEG frames numbered frame_1.jpg … frame_12.jpg (no padding), then frame_2 comes before frame_10 and 23.976 is taken as 24000/1001', async () => {
    const frames = makeImageSequence(dir, 'jpeg-frames', { count: 12, name: (k) => `frame_${k + 1}.jpg` });
    const r = newProject(dir, 'jpeg', frames, '--fps', '23.976', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().frames, 12);
    const cache = path.join(dir, 'jpeg.cache', 'frames');
    for (const k of [1, 8, 9, 11]) assert.equal(await shownFrame(path.join(cache, `${String(k).padStart(5, '0')}.png`)), k, `decoded frame ${k}`);
    assert.equal(rerender(['info', path.join(dir, 'jpeg.rerender'), '--json']).json().fpsRational, '24000/1001');
  });

  test('given missing frame numbers, then they are named and nothing is made; --allow-gaps keeps the frames in order', () => {
    const frames = makeImageSequence(dir, 'gaps', { count: 10 });
    for (const n of ['0004.png', '0005.png', '0008.png']) fs.rmSync(path.join(frames, n));
    fs.writeFileSync(path.join(frames, 'notes.txt'), 'shot 12');
    const r = newProject(dir, 'gaps', frames, '--fps', '24');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /frame numbers 4-5, 8 are missing between 0001\.png and 0010\.png \(the folder also holds notes\.txt, which is not PNG or JPEG\).*--allow-gaps/);
    assert.ok(r.stderr.includes(frames));
    assert.ok(!fs.existsSync(path.join(dir, 'gaps.rerender')));
    const kept = newProject(dir, 'gaps', frames, '--fps', '24', '--allow-gaps', '--json');
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.json().frames, 7);
  });

  const refusals: Array<[string, (folder: string) => void, RegExp]> = [
    ['a frame of another size', (f) => { fs.rmSync(path.join(f, '0003.png')); makeImageSequence(f, '.', { count: 1, width: 162, height: 96, name: () => '0003.png' }); },
      /the frame 0003\.png is 162×96 but 0001\.png is 160×96; every frame of a sequence has the same size/],
    ['a JPEG among PNG frames', (f) => { makeImageSequence(f, '.', { count: 1, name: () => 'cover.jpg' }); }, /holds 6 PNG and 1 JPEG files \(cover\.jpg\)/],
    ['a file without a frame number', (f) => { fs.copyFileSync(path.join(f, '0001.png'), path.join(f, 'poster.png')); }, /poster\.png has no frame number in the name/],
    ['two numberings', (f) => { fs.copyFileSync(path.join(f, '0001.png'), path.join(f, 'alt_0001.png')); }, /more than one sequence: 6 frames named like 0001\.png and 1 others \(alt_0001\.png\)/],
    ['the same number twice', (f) => { fs.copyFileSync(path.join(f, '0002.png'), path.join(f, '2.png')); }, /0002\.png and 2\.png have the same frame number \(2\)/],
    ['a folder named like a frame', (f) => { fs.rmSync(path.join(f, '0004.png')); fs.mkdirSync(path.join(f, '0004.png')); }, /the frame 0004\.png is not a regular file \(a folder\)/],
    ['an empty frame', (f) => { fs.writeFileSync(path.join(f, '0005.png'), ''); }, /the frame 0005\.png is empty/],
    ['a frame that is not an image', (f) => { fs.writeFileSync(path.join(f, '0005.png'), 'not a picture at all'); }, /cannot read the frame 0005\.png .*is it a PNG or JPEG image\?/],
    ['a JPEG named .png', (f) => { fs.rmSync(path.join(f, '0002.png')); makeImageSequence(f, '.', { count: 1, name: () => 'x.jpg' }); fs.renameSync(path.join(f, 'x.jpg'), path.join(f, '0002.png')); },
      /the frame 0002\.png holds a JPEG image, not PNG as its name says/],
    ['a frame cut off halfway', (f) => { const file = path.join(f, '0003.png'); fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)); },
      /only 5 of the sequence's 6 frames could be decoded: a frame is damaged \(0003\.png\)/],
    ['no frames at all', (f) => { for (const n of fs.readdirSync(f)) fs.rmSync(path.join(f, n), { recursive: true }); fs.writeFileSync(path.join(f, 'readme.txt'), ''); },
      /the folder holds no PNG or JPEG frames \(only readme\.txt\)/],
  ];
  for (const [what, spoil, message] of refusals) {
    test(`given a folder with ${what}, then it is refused with a message naming it, and nothing is made`, () => {
      const folder = makeImageSequence(dir, `bad-${what.replace(/\W+/g, '-')}`, { count: 6 });
      spoil(folder);
      const r = newProject(dir, 'bad', folder, '--fps', '24');
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /internal error/);
      assert.ok(!fs.existsSync(path.join(dir, 'bad.rerender')) && !fs.existsSync(path.join(dir, 'bad.cache')));
    });
  }

  test('given a folder without --fps, a video with --fps, or an impossible rate, then each is refused saying what to give', () => {
    const folder = makeImageSequence(dir, 'rates', { count: 3 });
    assert.match(newProject(dir, 'r', folder).stderr, /this is a folder: to use it as an image sequence, state its frame rate \(e\.g\. --fps 24/);
    for (const [fps, message] of [['0', /must be a number of frames per second/], ['500', /from 1 to 240 frames per second, got "500"/], ['fast', /got "fast"/], ['24/0', /got "24\/0"/]] as const) {
      assert.match(newProject(dir, 'r', folder, '--fps', fps).stderr, message, fps);
    }
    fs.writeFileSync(path.join(dir, 'clip.mp4'), 'x');
    assert.match(newProject(dir, 'r', path.join(dir, 'clip.mp4'), '--fps', '24').stderr, /a video has its own frame rate/);
    assert.match(newProject(dir, 'r', path.join(dir, 'no-such-folder'), '--fps', '24').stderr, /the frames folder does not exist/);
    assert.ok(!fs.existsSync(path.join(dir, 'r.rerender')));
  });
});

describe('a sequence source over the project\'s life', () => {
  const dir = tempDir('rerender-sequence-life-');
  const frames = makeImageSequence(dir, 'shot', { count: 12 });
  const project = path.join(dir, 'shot.rerender');
  const info = () => rerender(['info', project, '--json']).json();

  test('given a project from a sequence, when exported to MP4, then the video has every frame at the stated rate and no sound', () => {
    assert.equal(rerender(['new', project, '--video', frames, '--fps', '12', '--short-side', '64']).code, 0);
    const out = path.join(dir, 'shot.mp4');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    const streams = ffprobeStreams(out);
    assert.deepEqual(streams.map((s) => s.codec_type), ['video']);
    assert.equal(Number(streams[0].nb_read_frames), 12);
    assert.equal(streams[0].r_frame_rate, '12/1');
  });

  test('given a frame rewritten or removed, then info reports the change and export still works (a sequence has no sound to lose)', () => {
    const original = fs.readFileSync(path.join(frames, '0012.png'));
    fs.appendFileSync(path.join(frames, '0003.png'), Buffer.alloc(10)); // a re-render of frame 3 of another size
    assert.match(info().sourceProblem, /the source image sequence shot changed since the project was made \(some frames were rewritten: their sizes differ\)/);
    fs.rmSync(path.join(frames, '0012.png'));
    assert.match(info().sourceProblem, /it held 12 frames, 0001\.png to 0012\.png; now 11 frames, 0001\.png to 0011\.png/);
    assert.match(rerender(['info', project]).stdout, /rerender relink shot\.rerender --video <path>/);
    const r = rerender(['export', project, '--out', path.join(dir, 'changed.mp4'), '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    fs.writeFileSync(path.join(frames, '0012.png'), original);
    fs.truncateSync(path.join(frames, '0003.png'), fs.statSync(path.join(frames, '0003.png')).size - 10);
    assert.equal(info().sourceStatus, 'ok', 'the same files again');
  });

  test('given the folder moved, then info says it is missing; relink to the moved folder brings it back, another sequence is refused', () => {
    const moved = path.join(dir, 'elsewhere', 'shot v2');
    fs.mkdirSync(path.dirname(moved));
    fs.renameSync(frames, moved);
    assert.equal(info().sourceStatus, 'missing');
    assert.match(info().sourceProblem, /the source image sequence shot is missing \(moved or deleted\)/);
    const other = makeImageSequence(dir, 'other', { count: 9 });
    const refused = rerender(['relink', project, '--video', other]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot relink: these are not the project's source frames \(9 frames instead of 12\)/);
    assert.match(rerender(['relink', project, '--video', path.join(dir, 'other', '0001.png')]).stderr, /the project's source is an image sequence; choose the folder/);
    const r = rerender(['relink', project, '--video', moved, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().source, 'elsewhere/shot v2');
    assert.equal(info().sourceStatus, 'ok');
  });

  test('given the frame cache deleted, when exporting, then the frames are decoded again from the sequence', async () => {
    fs.rmSync(path.join(dir, 'shot.cache'), { recursive: true });
    const out = path.join(dir, 'rebuilt');
    const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await shownFrame(path.join(out, '00009.png')), 9);
  });

  test('given an export into the source folder, then it is refused', () => {
    const r = rerender(['export', project, '--out', path.join(dir, 'elsewhere', 'shot v2', 'result.mp4'), '--allow-incomplete']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /inside the project's source image sequence; export somewhere else/);
  });
});

describe('the editor asking what a source path is (new-project dialog)', () => {
  const dir = tempDir('rerender-sequence-describe-');

  test('given a video, a folder of frames, a folder with gaps, a folder of other files and nothing, then each is told apart without decoding', async () => {
    const editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(dir, 'settings.json'), workerModules: workerModules() });
    try {
      const describe = (p: string) => editor.handlers['source.describe']({ path: p });
      fs.writeFileSync(path.join(dir, 'clip.mp4'), 'a video, as far as a listing can tell');
      assert.deepEqual(await describe(path.join(dir, 'clip.mp4')), { kind: 'video' });
      assert.deepEqual(await describe(path.join(dir, 'nothing here')), { kind: 'missing' });
      const frames = makeImageSequence(dir, 'frames', { count: 5, name: (k) => `f${k + 1}.jpg` });
      assert.deepEqual(await describe(frames), { kind: 'image-sequence', summary: '5 JPEG frames, f1.jpg to f5.jpg', gaps: false });
      fs.rmSync(path.join(frames, 'f3.jpg'));
      assert.deepEqual(await describe(frames), { kind: 'image-sequence', summary: '4 JPEG frames, f1.jpg to f5.jpg; frame number 3 is missing', gaps: true });
      fs.mkdirSync(path.join(dir, 'documents'));
      fs.writeFileSync(path.join(dir, 'documents', 'letter.txt'), '');
      const other = await describe(path.join(dir, 'documents'));
      assert.equal(other.kind, 'image-sequence');
      assert.match(other.problem!, /holds no PNG or JPEG frames \(only letter\.txt\)/);
    } finally {
      editor.dispose();
    }
  });
});
