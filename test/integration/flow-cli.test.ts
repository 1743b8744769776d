// The flow and metrics commands end to end, as a user runs them: images and frame folders in,
// .flo files, occlusion PNGs and warp-error figures out.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { rerender } from '../helpers/cli';
import { makeVideo, tempDir } from '../helpers/media';
import { projectPaths } from '../../main/engine/project/paths';
import { readProjectFile } from '../../main/engine/project/project-file';
import { projectFlowKey, segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { readFlo } from '../../native-models/src/flo';
import { readRgb, writePng } from '../../main/engine/media/image-files';
import { frameFileName } from '../../main/engine/project/paths';
import { disc, endPointError, makeTexture, renderScene, translation } from '../helpers/flow-scenes';

describe('rerender flow / metrics', () => {
  const dir = tempDir('rerender-flow-');
  const texture = makeTexture(11), object = makeTexture(12);
  const scene = (i: number) => renderScene(128, 96, [
    { texture, motion: translation(2 * i, i) },
    { texture: object, motion: translation(-3 * i, 2 * i), contains: disc(60, 40, 18) },
  ]);
  const pair = scene(1);

  test('flow <a> <b> writes the forward and backward .flo files and the occlusion mask', async () => {
    const a = path.join(dir, 'a.png'), b = path.join(dir, 'b.png');
    await writePng(a, renderScene(128, 96, [{ texture, motion: translation(0, 0) }, { texture: object, motion: translation(0, 0), contains: disc(60, 40, 18) }]).b);
    await writePng(b, pair.b);
    const fwd = path.join(dir, 'fwd.flo'), bwd = path.join(dir, 'bwd.flo'), mask = path.join(dir, 'occ.png');
    const r = rerender(['flow', a, b, '--out', fwd, '--backward', bwd, '--occlusion', mask, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().ok, true);
    const forward = await readFlo(fwd);
    assert.ok(endPointError(forward, pair.forward) < 0.6, `EPE ${endPointError(forward, pair.forward)}`);
    assert.equal((await readFlo(bwd)).width, 128);
    const occ = await readRgb(mask);
    assert.equal(occ.width, 128);
    assert.ok(r.json().occluded > 0 && r.json().occluded < 0.2);
  });

  test('flow --frames <dir> --out <dir> writes NNNNN.flo for each consecutive pair', async () => {
    const frames = path.join(dir, 'frames'), out = path.join(dir, 'flows');
    fs.mkdirSync(frames);
    for (let i = 0; i < 4; i++) await writePng(path.join(frames, frameFileName(i)), scene(i).b);
    const r = rerender(['flow', '--frames', frames, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['00000.flo', '00001.flo', '00002.flo']);
    assert.match(r.stderr, /flow 3\/3/);
  });

  test('metrics <output-dir> --source <frames-dir> prints the warp error per pair and the mean', async () => {
    const frames = path.join(dir, 'frames'), output = path.join(dir, 'output');
    fs.mkdirSync(output);
    // A "styled" output that follows the source motion: same geometry, other textures.
    const t2 = makeTexture(21), o2 = makeTexture(22);
    for (let i = 0; i < 4; i++) {
      await writePng(path.join(output, frameFileName(i)), renderScene(128, 96, [
        { texture: t2, motion: translation(2 * i, i) },
        { texture: o2, motion: translation(-3 * i, 2 * i), contains: disc(60, 40, 18) },
      ]).b);
    }
    const r = rerender(['metrics', output, '--source', frames, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json();
    assert.equal(report.pairs.length, 3);
    assert.ok(report.mean >= 0 && report.mean < 0.01, `mean ${report.mean}`);
    const text = rerender(['metrics', output, '--source', frames]);
    assert.match(text.stdout, /mean warp error \d\.\d+ over 3 pairs/);
  });

  test('metrics <project> measures its output against its own frames, through the project flow cache', async () => {
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, fps: 12, frames: 6 });
    const project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64', '--json']).code, 0);
    const paths = projectPaths(project);
    // An "output" identical to the source frames moves exactly as the source does: keyframe 0 is its own
    // frame, and the other frames are stored under the key of segment 0-5.
    assert.equal(rerender(['import-keyframe', project, '--frame', '0', '--image', path.join(paths.framesDir, '00000.png')]).code, 0);
    const p = await readProjectFile(project);
    const segmentDir = segmentOutputDir(project, segmentOutputKey(p, segmentsOf(p)[0]));
    fs.cpSync(paths.framesDir, segmentDir, { recursive: true, filter: (src) => !src.endsWith('00000.png') });
    const r = rerender(['metrics', project, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json();
    assert.equal(report.pairs.length, fs.readdirSync(paths.framesDir).filter((n) => n.endsWith('.png')).length - 1);
    assert.ok(report.mean < 0.01, `mean ${report.mean}`);
    assert.ok(fs.readdirSync(path.join(paths.flowDir, projectFlowKey(p))).some((n) => n.endsWith('.fwd.qflo')), 'flows cached in the project, under its flow key');
  });

  test('flow --frames pairs frames in numeric order whatever the numbering (frame_2 before frame_10) and names each pair', async () => {
    const frames = path.join(dir, 'numbered'), out = path.join(dir, 'numbered-flows');
    fs.mkdirSync(frames);
    for (const n of [1, 2, 10]) await writePng(path.join(frames, `frame_${n}.png`), scene(n === 10 ? 2 : n - 1).b);
    const r = rerender(['flow', '--frames', frames, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().paired, [
      { from: 'frame_1.png', to: 'frame_2.png', flow: '00000.flo' },
      { from: 'frame_2.png', to: 'frame_10.png', flow: '00001.flo' },
    ]);
    assert.match(r.stderr, /frame_2\.png → frame_10\.png = 00001\.flo/);
  });

  test('metrics pairs a folder ffmpeg numbered from 1 with a project\'s frames by position, and names the files it paired', () => {
    const video = makeVideo(dir, 'numbered-clip', { width: 160, height: 96, fps: 12, frames: 5 });
    const project = path.join(dir, 'numbered-clip.rerender');
    const made = rerender(['new', project, '--video', video, '--short-side', '64', '--json']);
    assert.equal(made.code, 0, made.stderr);
    // The frames as ffmpeg writes them from an exported video: 0001.png is frame 0.
    const exported = path.join(dir, 'exported-frames');
    fs.mkdirSync(exported);
    const frames = projectPaths(project).framesDir;
    for (let i = 0; i < 5; i++) fs.copyFileSync(path.join(frames, frameFileName(i)), path.join(exported, `${String(i + 1).padStart(4, '0')}.png`));
    const r = rerender(['metrics', exported, '--source', project, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = r.json();
    assert.equal(report.pairs.length, 4);
    assert.deepEqual(report.pairs[0].files, { output: ['0001.png', '0002.png'], source: ['00000.png', '00001.png'] });
    assert.ok(report.mean < 0.01, `identical frames paired by position: mean ${report.mean}`);
    assert.match(rerender(['metrics', exported, '--source', project]).stdout, /0004\.png→0005\.png \(source 00003\.png→00004\.png\)/);
  });

  test('flow --frames refuses a folder whose numbering is mixed, as `new` does, naming the odd file, and writes nothing', async () => {
    const frames = path.join(dir, 'mixed'), out = path.join(dir, 'mixed-flows');
    fs.mkdirSync(frames);
    for (let i = 0; i < 5; i++) await writePng(path.join(frames, frameFileName(i)), scene(i).b);
    await writePng(path.join(frames, 'a.png'), scene(0).b);
    const r = rerender(['flow', '--frames', frames, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a\.png has no frame number in the name; the frames of a sequence are numbered/);
    assert.doesNotMatch(r.stderr, /→/, 'no pair was made');
    assert.ok(!fs.existsSync(out));
  });

  test('bad input fails with a message that names the problem', () => {
    const missing = rerender(['flow', path.join(dir, 'nope.png'), path.join(dir, 'b.png'), '--out', path.join(dir, 'x.flo')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.png: the image file does not exist/);
    const noSource = rerender(['metrics', path.join(dir, 'output')]);
    assert.equal(noSource.code, 1);
    assert.match(noSource.stderr, /needs --source/);
  });
});
