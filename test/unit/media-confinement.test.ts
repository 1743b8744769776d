// Media URLs resolve only to files inside the project folder (and renderer files only inside the
// renderer folder): traversal, encoded separators, drive letters and symlinks out are refused.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { MediaError, confinedFile, resolveMediaFile } from '../../main/engine/editor/media-files';
import { projectPaths } from '../../main/engine/project/paths';
import { tempDir } from '../helpers/media';

function refused(fn: () => unknown, status: 403 | 404) {
  assert.throws(fn, (e) => e instanceof MediaError && e.status === status);
}

describe('media confinement', () => {
  let project: string;
  let outside: string;
  before(() => {
    const root = tempDir('rerender-media-');
    const dir = path.join(root, 'proj');
    fs.mkdirSync(dir);
    project = path.join(dir, 'clip.rerender');
    fs.writeFileSync(project, '{}');
    const p = projectPaths(project);
    fs.mkdirSync(p.framesDir, { recursive: true });
    fs.mkdirSync(p.thumbsDir, { recursive: true });
    fs.mkdirSync(p.assetsDir, { recursive: true });
    fs.writeFileSync(path.join(p.framesDir, '00003.png'), 'frame');
    fs.writeFileSync(path.join(p.thumbsDir, '00003.jpg'), 'thumb');
    fs.writeFileSync(path.join(p.assetsDir, 'key frame.png'), 'asset');
    outside = path.join(root, 'secret.txt');
    fs.writeFileSync(outside, 'secret');
    fs.symlinkSync(outside, path.join(p.assetsDir, 'escape.png'));
    fs.symlinkSync(path.join(p.assetsDir, 'key frame.png'), path.join(p.assetsDir, 'inside-link.png'));
    fs.symlinkSync(root, path.join(dir, 'up'));
  });

  test('given files of the project, when asked by their media paths, then they resolve', () => {
    assert.equal(fs.readFileSync(resolveMediaFile(project, 'frames/00003.png'), 'utf8'), 'frame');
    assert.equal(fs.readFileSync(resolveMediaFile(project, 'thumbs/00003.jpg'), 'utf8'), 'thumb');
    assert.equal(fs.readFileSync(resolveMediaFile(project, 'project/clip.assets/key%20frame.png'), 'utf8'), 'asset');
    assert.equal(fs.readFileSync(resolveMediaFile(project, 'project/clip.assets/inside-link.png'), 'utf8'), 'asset', 'a link that stays inside is fine');
  });

  test('given traversal attempts, plain or encoded, when resolved, then they are refused', () => {
    for (const bad of [
      'frames/../../secret.txt',
      'project/../secret.txt',
      'project/..%2Fsecret.txt',
      'project/%2e%2e/secret.txt',
      'project/%2E%2E%2F%2E%2E%2Fsecret.txt',
      'project/..%5Csecret.txt',
      'project/clip.assets/%00.png',
      'project/C:%5Cwindows',
      'project/%E0%A4%A',
      'project//etc/passwd',
    ]) refused(() => resolveMediaFile(project, bad), 403);
  });

  test('given a symlink inside the project that points outside, when resolved, then it is refused', () => {
    refused(() => resolveMediaFile(project, 'project/clip.assets/escape.png'), 403);
    refused(() => resolveMediaFile(project, 'project/up/secret.txt'), 403);
    fs.symlinkSync(path.dirname(path.dirname(project)), path.join(projectPaths(project).assetsDir, 'up'));
    refused(() => resolveMediaFile(project, 'project/clip.assets/up/secret.txt'), 403);
  });

  test('given names that are not frames, when asked as frames, then they are not found', () => {
    refused(() => resolveMediaFile(project, 'frames/3.png'), 404);
    refused(() => resolveMediaFile(project, 'frames/00003.jpg'), 404);
    refused(() => resolveMediaFile(project, 'frames/00004.png'), 404);
    refused(() => resolveMediaFile(project, 'output/00003.png'), 404);
    refused(() => resolveMediaFile(project, 'elsewhere/00003.png'), 404);
    refused(() => resolveMediaFile(project, 'project/clip.cache'), 404);
  });

  test('given other files beside the project, when asked for, then only its assets and cache are served', () => {
    refused(() => resolveMediaFile(project, 'project/clip.rerender'), 404);
    refused(() => resolveMediaFile(project, 'project/other/notes.txt'), 403);
    refused(() => resolveMediaFile(project, 'project/clip.assets/../clip.rerender'), 403);
  });

  test('given the renderer folder, when a file outside it is asked for, then it is refused', () => {
    const dir = path.dirname(project);
    assert.ok(confinedFile(dir, ['clip.rerender']).endsWith('clip.rerender'));
    refused(() => confinedFile(path.join(dir, 'clip.assets'), ['..', 'clip.rerender']), 403);
  });
});
