// Export size: by default the source's own pixels over the part of the picture the working frames show
// (square pixels, an anamorphic source's pixel aspect applied), not the 64-rounded working size; --size
// chooses the working size or a given one. Checked with ffprobe on MP4 and ProRes exports through the CLI.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { rerender } from '../helpers/cli';
import { makeVideo, tempDir } from '../helpers/media';

interface Probed { width: number; height: number; sample_aspect_ratio?: string; display_aspect_ratio?: string }

function videoStream(file: string): Probed {
  const json = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-print_format', 'json', '-show_streams', file], { encoding: 'utf8' }));
  return json.streams[0];
}

/** Square pixels: ffprobe reports 1:1 (or nothing, for a stream that sets none). */
const square = (v: Probed) => v.sample_aspect_ratio === undefined || v.sample_aspect_ratio === '1:1' || v.sample_aspect_ratio === '0:1';

describe('export size', () => {
  let dir: string;
  let project: string;
  before(() => {
    dir = tempDir('rerender-export-size-');
    // Like the bundled sample: 768×432 (16:9), worked at short side 512 → 896×512 (7:4).
    const video = makeVideo(dir, 'sample-like', { width: 768, height: 432, fps: 24, frames: 6 });
    project = path.join(dir, 'sample-like.rerender');
    const r = rerender(['new', project, '--video', video, '--short-side', '512']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('given a 768×432 source worked at 896×512, when exported to MP4 and ProRes by default, then both are the source\'s pixels (756×432, square) and say so', () => {
    for (const name of ['default.mp4', 'default.mov']) {
      const out = path.join(dir, name);
      const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /at 756×432/);
      const v = videoStream(out);
      // The working frames show the source's centre 756×432 (7:4); the export is that region at the source's density.
      assert.deepEqual([v.width, v.height], [756, 432], name);
      assert.ok(square(v), `${name}: SAR ${v.sample_aspect_ratio}`);
    }
  });

  test('given --size working or --size 768x432, then the export is that size; a bad --size is refused', () => {
    for (const [size, want] of [['working', [896, 512]], ['768x432', [768, 432]]] as const) {
      const out = path.join(dir, `size-${size}.mp4`);
      const r = rerender(['export', project, '--out', out, '--allow-incomplete', '--size', size, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([r.json().width, r.json().height], want);
      const v = videoStream(out);
      assert.deepEqual([v.width, v.height], want);
      assert.ok(square(v));
    }
    const bad = rerender(['export', project, '--out', path.join(dir, 'bad.mp4'), '--allow-incomplete', '--size', '767x432']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--size must be source, working or WxH with even sides/);
  });

  test('given PNG frames at the source size, then they are scaled (not copied at the working size); at the working size they are copied', () => {
    const out = path.join(dir, 'frames');
    assert.equal(rerender(['export', project, '--out', out, '--format', 'png', '--allow-incomplete']).code, 0);
    assert.deepEqual((({ width, height }) => [width, height])(videoStream(path.join(out, '00000.png'))), [756, 432]);
    const working = path.join(dir, 'frames-working');
    assert.equal(rerender(['export', project, '--out', working, '--format', 'png', '--allow-incomplete', '--size', 'working']).code, 0);
    assert.deepEqual((({ width, height }) => [width, height])(videoStream(path.join(working, '00000.png'))), [896, 512]);
  });

  test('given an anamorphic 720×480 source (pixel aspect 32:27, shown 853×480), then the export has square pixels at its display size', () => {
    const video = path.join(dir, 'anamorphic.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=720x480:rate=24:duration=0.25', '-vf', 'setsar=32/27', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', video]);
    const anamorphic = path.join(dir, 'anamorphic.rerender');
    assert.equal(rerender(['new', anamorphic, '--video', video, '--short-side', '256']).code, 0);
    const out = path.join(dir, 'anamorphic-out.mp4');
    const r = rerender(['export', anamorphic, '--out', out, '--allow-incomplete']);
    assert.equal(r.code, 0, r.stderr);
    const v = videoStream(out);
    // Worked at 448×256 (7:4): the source's 853×480 display picture trimmed to 7:4 is 840×480.
    assert.deepEqual([v.width, v.height], [840, 480]);
    assert.ok(square(v), `SAR ${v.sample_aspect_ratio}`);
  });
});

describe('export colour tags', () => {
  test('given flat colours, when exported to MP4, WebM and ProRes, then each is tagged Rec. 709 studio range and decodes back to the same colours', async () => {
    const { default: sharp } = await import('sharp');
    const dir = tempDir('rerender-export-colour-');
    const frames = path.join(dir, 'colours');
    execFileSync('mkdir', ['-p', frames]);
    for (let i = 0; i < 6; i++) await sharp({ create: { width: 128, height: 64, channels: 3, background: { r: 50, g: 128, b: 205 } } }).png().toFile(path.join(frames, `${String(i).padStart(5, '0')}.png`));
    const project = path.join(dir, 'colours.rerender');
    const made = rerender(['new', project, '--video', frames, '--fps', '24', '--short-side', '64']);
    assert.equal(made.code, 0, made.stderr);
    for (const name of ['colours.mp4', 'colours.webm', 'colours.mov']) {
      const out = path.join(dir, name);
      const r = rerender(['export', project, '--out', out, '--allow-incomplete']);
      assert.equal(r.code, 0, r.stderr);
      const v = videoStream(out) as Probed & { color_space?: string; color_primaries?: string; color_transfer?: string; color_range?: string };
      assert.deepEqual([v.color_space, v.color_primaries, v.color_transfer, v.color_range], ['bt709', 'bt709', 'bt709', 'tv'], name);
      const back = path.join(dir, `${name}-frame-3.png`);
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', out, '-vf', 'select=eq(n\\,3),scale=in_color_matrix=bt709:in_range=tv,format=rgb24', '-frames:v', '1', back]);
      const { channels } = await sharp(back).stats();
      const [red, green, blue] = channels.map((c) => c.mean);
      for (const [got, want] of [[red, 50], [green, 128], [blue, 205]]) assert.ok(Math.abs(got - want) < 4, `${name}: ${got} ≈ ${want}`);
    }
  });
});

describe('export name and format', () => {
  test('given a format the file name does not match (ProRes into .mp4, MP4 into .mov or .mkv, PNG frames into .mp4), then the CLI refuses it, says which name to use, and writes nothing', () => {
    const dir = tempDir('rerender-export-name-');
    const video = makeVideo(dir, 'clip', { width: 160, height: 96, fps: 24, frames: 4 });
    const project = path.join(dir, 'clip.rerender');
    assert.equal(rerender(['new', project, '--video', video, '--short-side', '64']).code, 0);
    const cases: [string, string, RegExp][] = [
      ['result.mp4', 'prores', /a ProRes export needs a name ending \.mov: the extension \.mp4 is for MP4; use result\.mov, or the MP4 format/],
      ['result.mov', 'mp4', /an MP4 export needs a name ending \.mp4: the extension \.mov is for ProRes; use result\.mp4, or the ProRes format/],
      ['result.mkv', 'mp4', /an MP4 export needs a name ending \.mp4: the extension \.mkv is not one a player expects for it; use result\.mp4/],
      ['result', 'webm', /a WebM export needs a name ending \.webm: the extension is missing; use result\.webm/],
      ['frames.mp4', 'png', /a PNG frames export goes into a folder, but the name ends \.mp4/],
    ];
    for (const [name, format, message] of cases) {
      const out = path.join(dir, name);
      const r = rerender(['export', project, '--out', out, '--format', format, '--allow-incomplete']);
      assert.equal(r.code, 1, `${name} as ${format}: ${r.stdout}`);
      assert.match(r.stderr, message);
      assert.equal(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).includes(name + '\n'), false, `${name} was not written`);
    }
    // Names that match are written: .m4v is MP4 too, and the format from the name needs no --format.
    for (const [name, format] of [['ok.m4v', 'mp4'], ['ok.mov', 'prores']]) {
      const r = rerender(['export', project, '--out', path.join(dir, name), '--format', format, '--allow-incomplete']);
      assert.equal(r.code, 0, r.stderr);
    }
  });
});
