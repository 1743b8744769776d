// Where a farm job may read and write on a worker: the path map (longest mount first, never a folder that
// only starts with the same letters), the project it names (a real .rerender file, its folder and its
// own folders inside the mapped folder after every link), the files the project names, the earlier
// keyframe renders a render job brings, and model paths. Also the warning for a Redis without an
// append-only file. Every refusal names the path and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/media';
import { checkPriorRenders, checkProjectFiles, mapPath, parsePathMap, PathRefused, resolveJobProject } from '../../main/farm/path-map';
import { workerModelPath } from '../../main/farm/render-models';
import { parseRedisUrl, persistenceWarning } from '../../main/farm/connection';

const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A shared folder seen by the worker at `to`, with a project file `shot/clip.rerender` in it. */
function share(): { root: string; to: string; project: string } {
  const root = tempDir('rerender-farm-paths-');
  const to = path.join(root, 'worker-mount');
  fs.mkdirSync(path.join(to, 'shot', 'clip.assets'), { recursive: true });
  fs.mkdirSync(path.join(to, 'shot', 'clip.cache', 'keyframes'), { recursive: true });
  fs.writeFileSync(path.join(to, 'shot', 'clip.rerender'), '{}');
  return { root, to, project: path.join(to, 'shot', 'clip.rerender') };
}

test('given a path map, when a submitter path is mapped, then the longest matching folder wins and a look-alike folder name is not under it', () => {
  const { to } = share();
  fs.mkdirSync(path.join(to, 'deep'));
  const map = parsePathMap([`/mnt/projects=${to}`, `/mnt/projects/deep=${path.join(to, 'deep')}`]);
  assert.deepEqual(mapPath(map, '/mnt/projects/shot/clip.rerender'), { local: path.join(to, 'shot', 'clip.rerender'), root: to });
  assert.equal(mapPath(map, '/mnt/projects/deep/a.rerender').root, path.join(to, 'deep'));
  assert.throws(() => mapPath(map, '/mnt/projects-old/clip.rerender'), (e: Error) => e instanceof PathRefused && /the project \/mnt\/projects-old\/clip\.rerender is not under any folder in this worker's --path-map \(\/mnt\/projects, \/mnt\/projects\/deep\)/.test(e.message));
  assert.deepEqual(mapPath([], '/same/everywhere.rerender'), { local: '/same/everywhere.rerender' }, 'no map: the same path on every machine');
});

test('given submitted paths with traversal, NUL or no root, when mapped, then each is refused naming the path and the problem', () => {
  const { to } = share();
  const map = parsePathMap([`/mnt/projects=${to}`]);
  const refused: Array<[string, RegExp]> = [
    ['/mnt/projects/../etc/clip.rerender', /the project path in the job "\/mnt\/projects\/\.\.\/etc\/clip\.rerender" contains \. or \.\. parts/],
    ['/mnt/projects/./clip.rerender', /contains \. or \.\. parts/],
    ['mnt/projects/clip.rerender', /the project path in the job "mnt\/projects\/clip\.rerender" is not an absolute path/],
    ['/mnt/projects/clip\0.rerender', /the project path in the job contains a NUL character/],
  ];
  for (const [p, reason] of refused) {
    assert.throws(() => mapPath(map, p), (e: Error) => e instanceof PathRefused && reason.test(e.message), p);
    assert.throws(() => mapPath([], p), (e: Error) => e instanceof PathRefused && reason.test(e.message), `${p} without a map`);
  }
});

test('given --path-map values, when parsed, then a missing or relative folder or a value without = is refused naming it', () => {
  const { root, project } = share();
  assert.throws(() => parsePathMap(['/mnt/projects']), /--path-map expects FROM=TO \(two absolute folders\), got "\/mnt\/projects"/);
  assert.throws(() => parsePathMap(['/mnt/projects=relative/dir']), /--path-map TO "relative\/dir" is not an absolute path/);
  assert.throws(() => parsePathMap([`/mnt/projects=${path.join(root, 'nowhere')}`]), new RegExp(`--path-map: the folder ${esc(path.join(root, 'nowhere'))} does not exist on this machine`));
  assert.throws(() => parsePathMap([`/mnt/projects=${project}`]), new RegExp(`--path-map: ${esc(project)} is not a folder`));
  assert.throws(() => parsePathMap([`/mnt/../projects=${root}`]), /--path-map FROM "\/mnt\/\.\.\/projects" contains \. or \.\. parts/);
});

test('given mapped projects that lead out through links, when a worker resolves them, then each is refused naming the file and the problem', () => {
  const { root, to, project } = share();
  const map = parsePathMap([`/mnt/projects=${to}`]);
  assert.equal(resolveJobProject(map, '/mnt/projects/shot/clip.rerender'), project, 'a real project inside the mapped folder is accepted');
  const refusedWith = (submitted: string, reason: RegExp) =>
    assert.throws(() => resolveJobProject(map, submitted), (e: Error) => e instanceof PathRefused && reason.test(e.message), `${submitted}: ${reason}`);
  // The project file a link (even to the real file beside it).
  fs.symlinkSync(project, path.join(to, 'shot', 'alias.rerender'));
  refusedWith('/mnt/projects/shot/alias.rerender', new RegExp(`the project file ${esc(path.join(to, 'shot', 'alias.rerender'))} is a symbolic link`));
  // A folder of the share that is a link to a project elsewhere.
  const elsewhere = path.join(root, 'elsewhere');
  fs.mkdirSync(elsewhere);
  fs.writeFileSync(path.join(elsewhere, 'clip.rerender'), '{}');
  fs.symlinkSync(elsewhere, path.join(to, 'linked'));
  refusedWith('/mnt/projects/linked/clip.rerender', new RegExp(`the project folder of ${esc(path.join(to, 'linked', 'clip.rerender'))} leads outside ${esc(to)} through a symbolic link`));
  // Not a project file, a folder named like one, a project not there.
  refusedWith('/mnt/projects/shot/clip.assets', /which is not a \.rerender project file/);
  fs.mkdirSync(path.join(to, 'dir.rerender'));
  refusedWith('/mnt/projects/dir.rerender', /dir\.rerender is not a file/);
  assert.throws(() => resolveJobProject(map, '/mnt/projects/gone/clip.rerender'), /the project .*gone\/clip\.rerender is not on this machine \(is the shared folder mounted here\? see --path-map\)/);
});

test('given a project whose assets, cache or a cache part is a link, when a worker resolves it, then it is refused as the editor refuses it (also a link that stays inside)', () => {
  for (const [folder, name] of [['clip.assets', 'assets'], ['clip.cache', 'cache'], [path.join('clip.cache', 'keyframes'), 'cache keyframes'], [path.join('clip.cache', 'output'), 'cache output']]) {
    const { root, to, project } = share();
    const target = path.join(root, 'outside');
    fs.mkdirSync(target, { recursive: true });
    const at = path.join(to, 'shot', folder);
    fs.rmSync(at, { recursive: true, force: true });
    fs.symlinkSync(target, at);
    assert.throws(() => resolveJobProject(parsePathMap([`/mnt/projects=${to}`]), '/mnt/projects/shot/clip.rerender'),
      (e: Error) => e instanceof PathRefused && new RegExp(`${esc(at)}: the project's ${name} folder is a symbolic link \\(to ${esc(fs.realpathSync(target))}\\)`).test(e.message), folder);
    // A link to a folder inside the project: the editor refuses it too (a project's folders are real folders).
    fs.rmSync(at);
    const inside = path.join(to, 'shot', `real-${name.replace(/ /g, '-')}`);
    fs.mkdirSync(inside);
    fs.symlinkSync(inside, at);
    assert.throws(() => resolveJobProject([], project), /folder is a symbolic link/, `${folder} linked inside`);
  }
});

test('given files a project names, when a worker checks them, then one outside by .., by an absolute path or through a link is refused naming it', () => {
  const { root, project } = share();
  const dir = path.dirname(project);
  fs.writeFileSync(path.join(dir, 'clip.assets', 'mine.png'), 'x');
  fs.writeFileSync(path.join(root, 'theirs.png'), 'x');
  fs.symlinkSync(path.join(root, 'theirs.png'), path.join(dir, 'clip.assets', 'linked.png'));
  fs.symlinkSync(path.join(dir, 'clip.assets', 'mine.png'), path.join(dir, 'clip.assets', 'inside.png'));
  checkProjectFiles(project, ['clip.assets/mine.png', 'clip.assets/inside.png', 'clip.assets/not-yet.png']);
  for (const rel of ['../theirs.png', path.join(root, 'theirs.png'), 'clip.assets/linked.png', 'clip.assets/../../theirs.png']) {
    assert.throws(() => checkProjectFiles(project, [rel]), (e: Error) => e instanceof PathRefused && e.message === `${project}: the project names ${rel}, which is outside its folder; a farm worker reads only inside the project`, rel);
  }
});

test('given the earlier renders a render job brings, when a worker checks them, then only files of the keyframe cache folder itself are accepted', () => {
  const { project } = share();
  checkPriorRenders(project, ['clip.cache/keyframes/k-r1.png']);
  for (const rel of ['clip.assets/k-r1.png', 'clip.cache/keyframes/sub/k-r1.png', 'clip.cache/k-r1.png']) {
    assert.throws(() => checkPriorRenders(project, [rel]), (e: Error) => e instanceof PathRefused && e.message.includes(`the earlier result ${rel} is not a keyframe render of the project cache`), rel);
  }
  assert.throws(() => checkPriorRenders(project, ['clip.cache/keyframes/../../../x.png']), /which is outside its folder/);
});

test('given model paths in a render job, when a worker looks them up, then its own models folder or the path map is used and a path climbing out is refused', () => {
  const { to } = share();
  const places = { modelsDir: '/worker/models', submitterModelsDir: '/home/me/models', pathMap: parsePathMap([`/mnt/projects=${to}`]) };
  assert.equal(workerModelPath(places, 'sd/model.safetensors'), '/worker/models/sd/model.safetensors');
  assert.equal(workerModelPath(places, '/home/me/models/sd/model.safetensors'), '/worker/models/sd/model.safetensors');
  assert.equal(workerModelPath(places, '/mnt/projects/lora.safetensors'), path.join(to, 'lora.safetensors'));
  assert.throws(() => workerModelPath(places, '../../etc/passwd'), (e: Error) => e instanceof PathRefused && /the model path "\.\.\/\.\.\/etc\/passwd" climbs out of the models folder/.test(e.message));
  assert.throws(() => workerModelPath(places, '/home/me/models/../.ssh/id_rsa'), (e: Error) => e instanceof PathRefused && /contains \. or \.\. parts/.test(e.message));
  assert.throws(() => workerModelPath(places, '/etc/passwd'), (e: Error) => e instanceof PathRefused && /not under any folder in this worker's --path-map/.test(e.message));
  assert.throws(() => workerModelPath(places, 'a\0b'), /a model path in the project contains a NUL character/);
});

test('given INFO persistence texts, when read, then appendonly off warns with the fix and on says nothing', () => {
  const c = parseRedisUrl('redis://:secret@farmhost:6380');
  assert.equal(persistenceWarning(c, '# Persistence\r\nloading:0\r\naof_enabled:1\r\n'), undefined);
  const off = persistenceWarning(c, '# Persistence\r\nloading:0\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n');
  assert.match(off!, /^Redis at farmhost:6380 keeps no append-only file \(appendonly no\): jobs submitted since its last snapshot are lost if it restarts; set "appendonly yes" in its redis\.conf/);
  assert.ok(!off!.includes('secret'), 'the password is never in it');
  assert.match(persistenceWarning(c, '# Persistence\r\nloading:0\r\n')!, /cannot tell whether Redis at farmhost:6380 keeps an append-only file/);
});
