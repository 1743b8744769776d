// Symbolic links never lead a project outside its folder: an assets or cache folder that is a link to a
// folder elsewhere is refused for reads (media serving, opening) and writes (import-keyframe); a keyframe
// image or output frame that is a link to a file outside is refused by export; an --out through a link
// into the project's cache is refused. The source video is the one input that may live elsewhere.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { startServer, SESSION_COOKIE, type RunningServer } from '../../main/server/serve';
import { readProjectFile, writeProjectFile } from '../../main/engine/project/project-file';
import { projectPaths } from '../../main/engine/project/paths';
import { segmentOutputDir, segmentOutputKey } from '../../main/engine/project/output-keys';
import { segmentsOf } from '../../main/engine/project/keyframes';
import { rerender } from '../helpers/cli';
import { makeVideo, tempDir } from '../helpers/media';

function get(port: number, rawPath: string, cookie: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, headers: { host: `127.0.0.1:${port}`, cookie } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Replaces `dir` by a link to `target` (moving what was there into `target` first when asked). */
function linkFolder(dir: string, target: string, move = false): void {
  if (move && fs.existsSync(dir)) fs.renameSync(dir, target);
  else fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(target, { recursive: true });
  fs.symlinkSync(target, dir, 'dir');
}

function unlinkFolder(dir: string, target: string): void {
  fs.unlinkSync(dir);
  fs.renameSync(target, dir);
}

describe('symbolic links out of the project folder', () => {
  let work: string, projectFile: string, outside: string, image: string;

  before(async () => {
    work = tempDir('rerender-links-');
    fs.mkdirSync(path.join(work, 'proj'));
    outside = path.join(work, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 250, g: 0, b: 0 } } }).png().toFile(path.join(outside, 'outside.png'));
    image = path.join(work, 'paint.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 0, g: 0, b: 250 } } }).png().toFile(image);
    // The source video lives outside the project folder: that is allowed.
    const video = makeVideo(work, 'clip', { width: 64, height: 48, fps: 12, frames: 12 });
    projectFile = path.join(work, 'proj', 'clip.rerender');
    const r = rerender(['new', projectFile, '--video', video, '--json']);
    assert.equal(r.code, 0, r.stderr);
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  test('given the assets folder is a link to a folder outside, when a keyframe image is imported, then it is refused and nothing is written there', () => {
    const assets = projectPaths(projectFile).assetsDir;
    const target = path.join(work, 'outside-assets');
    linkFolder(assets, target);
    try {
      const r = rerender(['import-keyframe', projectFile, '--frame', '0', '--image', image]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /assets folder is a symbolic link/);
      assert.deepEqual(fs.readdirSync(target), [], 'nothing was written outside');
    } finally {
      fs.unlinkSync(assets);
      fs.rmSync(target, { recursive: true, force: true });
    }
  });

  test('given the cache folder is a link to a folder outside, when the project is opened by a command, then it is refused with the reason', () => {
    const cache = projectPaths(projectFile).cacheDir;
    const target = path.join(work, 'outside-cache');
    linkFolder(cache, target, true);
    try {
      for (const args of [['info', projectFile], ['propagate', projectFile]]) {
        const r = rerender(args);
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, /cache folder is a symbolic link/, args.join(' '));
      }
    } finally {
      unlinkFolder(cache, target);
    }
    assert.equal(rerender(['info', projectFile]).code, 0, 'the same project with real folders opens');
  });

  test('given a keyframe image that is a link to a file outside, when exported, then export refuses and writes nothing', async () => {
    const paths = projectPaths(projectFile);
    fs.mkdirSync(paths.assetsDir, { recursive: true });
    const link = path.join(paths.assetsDir, 'linked.png');
    fs.symlinkSync(path.join(outside, 'outside.png'), link);
    const before = await readProjectFile(projectFile);
    const p = structuredClone(before);
    p.keyframes[0] = { ...p.keyframes[0]!, source: 'imported', image: 'clip.assets/linked.png', status: 'done', revision: 1 };
    await writeProjectFile(projectFile, p);
    try {
      const out = path.join(work, 'out.mp4');
      const r = rerender(['export', projectFile, '--out', out, '--allow-incomplete']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /leads outside the project folder through a symbolic link/);
      assert.equal(fs.existsSync(out), false);
    } finally {
      await writeProjectFile(projectFile, before);
      fs.unlinkSync(link);
    }
  });

  test('given an output frame that is a link to a file outside, when exported, then export refuses', async () => {
    // Propagated frames live under their segment's output key: frame 3's segment folder gets the link.
    const p = await readProjectFile(projectFile);
    const segment = segmentsOf(p).find((s) => s.start <= 3 && 3 <= s.end && !p.keyframes.some((k) => k.frame === 3));
    assert.ok(segment, 'frame 3 lies in a segment');
    const dir = segmentOutputDir(projectFile, segmentOutputKey(p, segment));
    fs.mkdirSync(dir, { recursive: true });
    const link = path.join(dir, '00003.png');
    fs.symlinkSync(path.join(outside, 'outside.png'), link);
    try {
      const r = rerender(['export', projectFile, '--out', path.join(work, 'out2.mp4'), '--allow-incomplete']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /symbolic link/);
    } finally {
      fs.unlinkSync(link);
    }
  });

  test('given --out through a link into the project cache, when exported, then export refuses', () => {
    const via = path.join(work, 'via-link');
    fs.symlinkSync(projectPaths(projectFile).cacheDir, via, 'dir');
    try {
      const r = rerender(['export', projectFile, '--out', path.join(via, 'frames-out'), '--format', 'png', '--allow-incomplete']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /inside the project's cache folder/);
    } finally {
      fs.unlinkSync(via);
    }
  });

  describe('media serving', () => {
    let editor: Editor, server: RunningServer, cookie: string;

    before(async () => {
      editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile: path.join(work, 'settings.json'), workerModules: workerModules() });
      await editor.handlers['project.open']({ file: projectFile });
      server = await startServer({ editor, rendererDir: path.join(work, 'proj') });
      cookie = `${SESSION_COOKIE}=${server.token}`;
    });

    after(async () => {
      editor.dispose();
      await server.close();
    });

    test('given the open project, then its frames are served (the baseline)', async () => {
      assert.equal((await get(server.port, '/media/frames/00000.png', cookie)).status, 200);
    });

    test('given the assets folder becomes a link to a folder outside, then its files are not served', async () => {
      const assets = projectPaths(projectFile).assetsDir;
      linkFolder(assets, outside);
      try {
        const r = await get(server.port, '/media/project/clip.assets/secret.txt', cookie);
        assert.equal(r.status, 403);
        assert.ok(!r.body.includes('secret'));
      } finally {
        fs.unlinkSync(assets);
      }
    });

    test('given the cache folder becomes a link to a folder outside, then no frame is served from it', async () => {
      const cache = projectPaths(projectFile).cacheDir;
      const target = path.join(work, 'outside-cache-2');
      linkFolder(cache, target, true);
      try {
        assert.equal((await get(server.port, '/media/frames/00000.png', cookie)).status, 403);
        assert.equal((await get(server.port, '/media/project/clip.cache/frames/00000.png', cookie)).status, 403);
      } finally {
        unlinkFolder(cache, target);
      }
    });

    test('given a frame file that is a link to a file outside, then it is not served', async () => {
      const frame = path.join(projectPaths(projectFile).framesDir, '00001.png');
      const saved = path.join(work, 'saved-00001.png');
      fs.renameSync(frame, saved);
      fs.symlinkSync(path.join(outside, 'outside.png'), frame);
      try {
        assert.equal((await get(server.port, '/media/frames/00001.png', cookie)).status, 403);
      } finally {
        fs.unlinkSync(frame);
        fs.renameSync(saved, frame);
      }
    });
  });
});

describe('symbolic links among the cache files propagation reads', () => {
  test('given a decoded frame that is a link to a file outside, when propagating, then it is refused naming the file, and nothing is propagated', async () => {
    const work = tempDir('rerender-frame-link-');
    try {
      fs.mkdirSync(path.join(work, 'proj'));
      const outside = path.join(work, 'outside.png');
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 250, g: 0, b: 0 } } }).png().toFile(outside);
      const video = makeVideo(work, 'clip', { width: 64, height: 48, fps: 12, frames: 12 });
      const projectFile = path.join(work, 'proj', 'clip.rerender');
      assert.equal(rerender(['new', projectFile, '--video', video]).code, 0);
      const framesDir = projectPaths(projectFile).framesDir;
      for (const k of (await readProjectFile(projectFile)).keyframes) {
        const r = rerender(['import-keyframe', projectFile, '--frame', String(k.frame), '--image', path.join(framesDir, `${String(k.frame).padStart(5, '0')}.png`)]);
        assert.equal(r.code, 0, r.stderr);
      }
      const frame = path.join(framesDir, '00005.png');
      fs.rmSync(frame);
      fs.symlinkSync(outside, frame);
      const r = rerender(['propagate', projectFile]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /the decoded frame file 00005\.png is a symbolic link to .*outside\.png, outside the project folder; refused/);
      assert.equal(fs.existsSync(projectPaths(projectFile).segmentsDir), false, 'nothing was propagated');
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
