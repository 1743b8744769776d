// The packaged app's sample project: copied from the read-only bundle into a writable folder, opened
// there like any project, and never copied over the user's own changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ensureSampleProject, SAMPLE_PROJECT_FILE, SAMPLE_VIDEO_FILE } from '../../main/engine/project/sample-project';
import { readProjectFile } from '../../main/engine/project/project-file';
import { checkSource, ensureFrameCache, frameCacheComplete } from '../../main/engine/project/source-video';
import { EditorSession } from '../../main/engine/editor/session';
import { tempDir } from '../helpers/media';
import { SAMPLE_DIR as bundled, copySampleProject } from '../helpers/fixtures';
import { projectPaths } from '../../main/engine/project/paths';
import type { Project } from '../../preload/project-schema';

const ASSETS = path.basename(projectPaths(path.join(bundled, SAMPLE_PROJECT_FILE)).assetsDir);

/** The keyframe images a project refers to. */
function paintedImages(p: Project): string[] {
  return p.keyframes.flatMap((k) => (k.image ? [k.image] : []));
}

/** Every keyframe image of the copy is there, byte for byte the bundled one. */
function assertImagesCopied(p: Project, dest: string): void {
  const images = paintedImages(p);
  assert.ok(images.length > 0, 'the sample has painted keyframes');
  for (const image of images) assert.ok(fs.readFileSync(path.join(dest, image)).equals(fs.readFileSync(path.join(bundled, image))), image);
}

/** A copy of the bundle whose video lost its modification time, as an installer or a git clone may leave it. */
function bundleWithFreshVideoTime(): string {
  const dir = tempDir('rerender-bundle-');
  copySampleProject(dir);
  const later = new Date(Date.now() + 3_600_000);
  fs.utimesSync(path.join(dir, SAMPLE_VIDEO_FILE), later, later);
  return dir;
}

test('given the bundled sample, when copied to a new folder, then the copy opens in the editor without a source change and its frames rebuild', async () => {
  const bundle = bundleWithFreshVideoTime();
  const dest = path.join(tempDir('rerender-docs-'), 'Rerender', 'Sample project');

  const file = await ensureSampleProject(bundle, dest);

  assert.equal(file, path.join(dest, SAMPLE_PROJECT_FILE));
  assert.deepEqual(fs.readdirSync(dest).sort(), [SAMPLE_VIDEO_FILE, SAMPLE_PROJECT_FILE, ASSETS].sort());
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), ['Sample project'], 'no staging folder is left behind');
  const project = await readProjectFile(file);
  assert.deepEqual(project, await readProjectFile(path.join(bundled, SAMPLE_PROJECT_FILE)));
  assertImagesCopied(project, dest);
  assert.equal((await checkSource(file, project)).status, 'ok', 'the video matches its fingerprint');
  assert.equal(frameCacheComplete(file, project, { thumbnails: true }), false, 'only the rebuildable cache is absent');

  const session = new EditorSession(60_000);
  const state = await session.openProject(file);
  try {
    assert.equal(state.file, file);
    assert.equal(state.framesReady, false);
    assert.equal(await ensureFrameCache(file, project, { thumbnails: true }), true);
    assert.equal(frameCacheComplete(file, project, { thumbnails: true }), true);
  } finally {
    session.closeProject();
  }
});

test('given a bundle whose painted keyframe image is gone, then the error names the image and says to reinstall, and nothing is copied', async () => {
  const bundle = tempDir('rerender-bundle-');
  copySampleProject(bundle);
  const image = paintedImages(await readProjectFile(path.join(bundle, SAMPLE_PROJECT_FILE)))[0]!;
  fs.rmSync(path.join(bundle, image));
  const dest = path.join(tempDir('rerender-docs-'), 'Sample project');
  await assert.rejects(ensureSampleProject(bundle, dest), (err: Error) => {
    assert.equal(err.name, 'UserError');
    assert.equal(err.message, `${path.join(bundle, SAMPLE_PROJECT_FILE)}: the bundled sample project's keyframe image "${image}" is missing; reinstall Rerender`);
    return true;
  });
  assert.equal(fs.existsSync(dest), false);
});

test('given a copy the user has changed, when asked again, then the copy is returned untouched', async () => {
  const dest = path.join(tempDir('rerender-docs-'), 'Sample project');
  const file = await ensureSampleProject(bundled, dest);
  const edited = fs.readFileSync(file, 'utf8').replace('"name": "Sample: mountain valley"', '"name": "My valley"');
  fs.writeFileSync(file, edited);
  fs.writeFileSync(path.join(dest, 'notes.txt'), 'mine');

  assert.equal(await ensureSampleProject(bundled, dest), file);

  assert.equal(fs.readFileSync(file, 'utf8'), edited);
  assert.equal((await readProjectFile(file)).name, 'My valley');
  assert.deepEqual(fs.readdirSync(dest).sort(), ['notes.txt', SAMPLE_VIDEO_FILE, SAMPLE_PROJECT_FILE, ASSETS].sort());
});

test('given a sample folder whose project was deleted, when asked again, then the project comes back and the user\'s other files stay', async () => {
  const dest = path.join(tempDir('rerender-docs-'), 'Sample project');
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(dest, 'notes.txt'), 'mine');

  const file = await ensureSampleProject(bundled, dest);

  assertImagesCopied(await readProjectFile(file), dest);
  assert.equal(fs.readFileSync(path.join(dest, 'notes.txt'), 'utf8'), 'mine');
  assert.deepEqual(fs.readdirSync(path.dirname(dest)), ['Sample project'], 'no staging folder is left behind');
});

test('given no bundled sample, then the error names the folder and says to reinstall', async () => {
  const bundle = tempDir('rerender-bundle-');
  const dest = path.join(tempDir('rerender-docs-'), 'Sample project');
  await assert.rejects(ensureSampleProject(bundle, dest), (err: Error) => {
    assert.equal(err.name, 'UserError');
    assert.ok(err.message.startsWith(`${bundle}: the bundled sample project is missing`), err.message);
    assert.match(err.message, /reinstall Rerender/);
    return true;
  });
  assert.equal(fs.existsSync(dest), false);
});

test('given a destination that cannot be written, then the error names the folder and says it is not writable', async (t) => {
  let dest: string;
  if (process.platform === 'win32') return t.skip('no portable way to make a folder read-only on Windows');
  if (process.getuid?.() === 0) {
    // Root ignores permission bits; /sys refuses new entries even to root.
    if (!fs.existsSync('/sys')) return t.skip('running as root without /sys: no folder here is read-only for root');
    dest = '/sys/rerender-sample-test/Sample project';
  } else {
    const parent = tempDir('rerender-docs-');
    fs.chmodSync(parent, 0o555);
    t.after(() => fs.chmodSync(parent, 0o755));
    dest = path.join(parent, 'Sample project');
  }
  await assert.rejects(ensureSampleProject(bundled, dest), (err: Error) => {
    assert.equal(err.name, 'UserError');
    assert.ok(err.message.startsWith(`${dest}: cannot copy the sample project here: the folder is not writable`), err.message);
    return true;
  });
});
