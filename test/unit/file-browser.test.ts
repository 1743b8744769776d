// Serve mode's file browser: confined to home and the project's folder (no symlink escape), filtered
// per chooser, hidden entries and special files left out.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { listFolder, PROGRAM_PLACES } from '../../main/engine/editor/file-browser';
import { launchCommand, validateExternalEditor } from '../../main/engine/editor/external-editor';
import { tempDir } from '../helpers/media';

describe('file browser', () => {
  let home: string, project: string, outside: string;
  before(() => {
    home = fs.realpathSync(tempDir('rerender-fb-home-'));
    outside = fs.realpathSync(tempDir('rerender-fb-outside-'));
    project = fs.realpathSync(tempDir('rerender-fb-project-'));
    fs.mkdirSync(path.join(home, 'Videos'));
    fs.writeFileSync(path.join(home, 'Videos', 'b.mp4'), 'x');
    fs.writeFileSync(path.join(home, 'Videos', 'a10.MOV'), 'x');
    fs.writeFileSync(path.join(home, 'Videos', 'a9.mov'), 'x');
    fs.writeFileSync(path.join(home, 'Videos', 'notes.txt'), 'x');
    fs.writeFileSync(path.join(home, 'Videos', '.hidden.mp4'), 'x');
    fs.writeFileSync(path.join(outside, 'secret.mp4'), 'x');
    fs.symlinkSync(outside, path.join(home, 'Videos', 'link-out'));
    fs.symlinkSync(path.join(outside, 'secret.mp4'), path.join(home, 'Videos', 'secret.mp4'));
    fs.symlinkSync(path.join(home, 'Videos', 'b.mp4'), path.join(home, 'Videos', 'link-in.mp4'));
    execFileSync('mkfifo', [path.join(home, 'Videos', 'pipe.mp4')]);
    fs.writeFileSync(path.join(project, 'clip.rerender'), '{}');
  });

  test('given a folder in home, when listed for videos, then folders and matching files come in natural order; others, hidden, FIFOs and links out are left out', async () => {
    const l = await listFolder('video', path.join(home, 'Videos'), false, { home });
    assert.deepEqual(l.entries.map((e) => e.name), ['a9.mov', 'a10.MOV', 'b.mp4', 'link-in.mp4']);
    assert.equal(l.parent, home);
    const all = await listFolder('video', path.join(home, 'Videos'), true, { home });
    assert.ok(all.entries.some((e) => e.name === 'notes.txt'));
    assert.ok(!all.entries.some((e) => e.name === 'pipe.mp4' || e.name === 'secret.mp4' || e.name === 'link-out'));
  });

  test('given paths outside home and the project, when listed directly or through a link, then they are refused', async () => {
    await assert.rejects(listFolder('video', outside, false, { home }), /shows only your home folder and the project's folder/);
    await assert.rejects(listFolder('video', path.join(home, 'Videos', 'link-out'), false, { home }), /shows only your home folder/);
    await assert.rejects(listFolder('video', path.join(home, '..'), false, { home }), /shows only your home folder/);
    await assert.rejects(listFolder('video', path.join(home, 'nothing'), false, { home }), /does not exist/);
    await assert.rejects(listFolder('video', path.join(home, 'Videos', 'b.mp4'), false, { home }), /not a folder/);
    const top = await listFolder('video', home, false, { home });
    assert.equal(top.parent, null, 'no way up out of home');
  });

  test('given an open project outside home, when nothing is asked, then its folder is listed and offered as a place', async () => {
    const l = await listFolder('open-project', undefined, false, { home, projectFile: path.join(project, 'clip.rerender') });
    assert.equal(l.dir, project);
    assert.deepEqual(l.entries.map((e) => e.name), ['clip.rerender']);
    assert.deepEqual(l.places.map((p) => p.label).slice(0, 3), ['Project folder', 'Home', 'Videos']);
  });

  test('given a folder chooser, when listed, then files are left out', async () => {
    const l = await listFolder('models-folder', home, true, { home });
    assert.deepEqual(l.entries.map((e) => `${e.kind}:${e.name}`), ['folder:Videos']);
  });

  test('given the paint program chooser, then it starts in a program folder, lists executable files only (links to programs elsewhere too), and stays inside the allowed folders', { skip: process.platform === 'win32' && 'executables are told by extension on Windows' }, async () => {
    const bin = fs.realpathSync(tempDir('rerender-fb-bin-'));
    const elsewhere = fs.realpathSync(tempDir('rerender-fb-opt-'));
    for (const [dir, name, mode] of [[bin, 'krita', 0o755], [bin, 'README', 0o644], [elsewhere, 'gimp-2.10', 0o755], [elsewhere, 'data.txt', 0o644]] as const) {
      fs.writeFileSync(path.join(dir, name), '#!/bin/sh\n');
      fs.chmodSync(path.join(dir, name), mode);
    }
    fs.symlinkSync(path.join(elsewhere, 'gimp-2.10'), path.join(bin, 'gimp'));
    fs.symlinkSync(path.join(elsewhere, 'data.txt'), path.join(bin, 'data'));
    fs.symlinkSync(elsewhere, path.join(bin, 'share'));
    const ctx = { home, programFolders: [bin] };
    const l = await listFolder('program', undefined, false, ctx);
    assert.equal(l.dir, bin, 'opens in the first program folder');
    assert.deepEqual(l.entries.map((e) => e.name), ['gimp', 'krita'], 'programs, a link to one elsewhere as the link; not the README, a link to data, or a folder out');
    assert.equal(l.entries[0].path, path.join(bin, 'gimp'));
    assert.equal(l.parent, null, 'nothing above the program folder');
    assert.ok(l.places.some((p) => p.path === bin && p.label === bin), 'the program folder is a place');
    assert.ok(l.places.some((p) => p.label === 'Home'));
    await assert.rejects(listFolder('program', elsewhere, false, ctx), /the folders programs are installed in/);
    await assert.rejects(listFolder('image', bin, false, ctx), /only your home folder and the project's folder/, 'other choosers never see the program folders');
    const all = await listFolder('program', bin, true, ctx);
    assert.ok(all.entries.some((e) => e.name === 'README'), 'All files shows the rest');
  });

  test('given macOS application bundles, when the paint program is chosen, then a .app folder is a program to choose (not a folder to open), checked as one and started with open -a', async () => {
    const apps = fs.realpathSync(tempDir('rerender-fb-apps-'));
    fs.mkdirSync(path.join(apps, 'Krita.app', 'Contents', 'MacOS'), { recursive: true });
    fs.mkdirSync(path.join(apps, 'Utilities'));
    fs.writeFileSync(path.join(apps, 'notes.txt'), 'x');
    const mac = await listFolder('program', apps, false, { home, programFolders: [apps], platform: 'darwin' });
    assert.deepEqual(mac.entries.map((e) => `${e.kind}:${e.name}`), ['folder:Utilities', 'file:Krita.app']);
    const linux = await listFolder('program', apps, false, { home, programFolders: [apps], platform: 'linux' });
    assert.deepEqual(linux.entries.map((e) => `${e.kind}:${e.name}`), ['folder:Krita.app', 'folder:Utilities'], 'elsewhere a .app is just a folder');
    const krita = path.join(apps, 'Krita.app');
    const setting = validateExternalEditor(krita, ['--nosplash', '{file}'], 'darwin');
    assert.equal(setting.program, krita);
    assert.throws(() => validateExternalEditor(krita, [], 'linux'), /not a program that can be run/);
    assert.throws(() => validateExternalEditor(path.join(apps, 'Utilities'), [], 'darwin'), /not an application bundle/);
    assert.deepEqual(launchCommand(setting, '/p/key.png', 'darwin'), { command: '/usr/bin/open', args: ['-a', krita, '/p/key.png', '--args', '--nosplash'] });
    assert.deepEqual(launchCommand({ program: krita, args: [] }, '/p/key.png', 'darwin').args, ['-a', krita, '/p/key.png']);
    assert.deepEqual(launchCommand({ program: '/usr/bin/gimp', args: ['-n'] }, '/p/key.png', 'linux'), { command: '/usr/bin/gimp', args: ['-n', '/p/key.png'] });
  });

  test('given a long PATH, when the paint program is chosen, then the places stay few: home first, folders without programs left out, at most PROGRAM_PLACES program folders, the one shown included', { skip: process.platform === 'win32' && 'executables are told by extension on Windows' }, async () => {
    const root = fs.realpathSync(tempDir('rerender-fb-path-'));
    const dirs = Array.from({ length: 30 }, (_, i) => path.join(root, `bin${i}`));
    dirs.forEach((d, i) => {
      fs.mkdirSync(d);
      if (i % 3 === 0) return; // no programs here
      fs.writeFileSync(path.join(d, `tool${i}`), '#!/bin/sh\n');
      fs.chmodSync(path.join(d, `tool${i}`), 0o755);
    });
    const inHome = path.join(home, 'bin');
    fs.mkdirSync(inHome, { recursive: true });
    fs.writeFileSync(path.join(inHome, 'mine'), '#!/bin/sh\n');
    fs.chmodSync(path.join(inHome, 'mine'), 0o755);
    const ctx = { home, programFolders: [inHome, ...dirs] };
    const l = await listFolder('program', undefined, false, ctx);
    const programPlaces = l.places.filter((p) => p.path === inHome || dirs.includes(p.path));
    assert.equal(programPlaces.length, PROGRAM_PLACES);
    assert.equal(l.places[0].label, 'Home', 'home is not pushed off the list');
    assert.equal(programPlaces[0].label, `~${path.sep}bin`, 'a folder in home is named from ~');
    assert.ok(programPlaces.every((p) => !/bin(0|3|6|9)$/.test(p.path)), 'folders without programs are not offered');
    const far = await listFolder('program', dirs[29], false, ctx);
    assert.ok(far.places.some((p) => p.path === dirs[29]), 'the folder shown is a place even past the cap');
    assert.deepEqual(far.entries.map((e) => e.name), ['tool29'], 'folders past the cap can still be browsed');
  });
});
