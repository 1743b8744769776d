// Project files: a saved project reads back identical; every bad file gets a clear error and stays untouched.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readProjectFile, writeProjectFile, parseProject, serializeProject, writeAutosave, readAutosave } from '../../main/engine/project/project-file';
import { UserError } from '../../native-models/src/errors';
import { sampleProject } from '../helpers/project';
import { tempDir } from '../helpers/media';

async function rejectsWith(file: string, pattern: RegExp): Promise<void> {
  const before = fs.readFileSync(file);
  await assert.rejects(readProjectFile(file), (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(err.message.includes(file), 'the message names the file');
    return true;
  });
  assert.deepEqual(fs.readFileSync(file), before, 'the file on disk is left untouched');
}

describe('project file', () => {
  test('given a project, when saved and read back, then it is identical', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a.rerender');
    const p = sampleProject();
    await writeProjectFile(file, p);
    assert.deepEqual(await readProjectFile(file), p);
  });

  test('given an existing project, when saved again, then the previous version is kept as .bak', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a.rerender');
    const first = sampleProject(50, [0]);
    await writeProjectFile(file, first);
    await writeProjectFile(file, sampleProject(50, [0, 25]));
    assert.deepEqual(JSON.parse(fs.readFileSync(file + '.bak', 'utf8')), first);
    assert.equal((await readProjectFile(file)).keyframes.length, 2);
  });

  test('given an invalid project in memory, when saving, then nothing is written', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a.rerender');
    await writeProjectFile(file, sampleProject());
    const before = fs.readFileSync(file);
    const bad = { ...sampleProject(), frames: { count: -1, fps: { num: 24, den: 1 } } };
    await assert.rejects(writeProjectFile(file, bad), UserError);
    assert.deepEqual(fs.readFileSync(file), before);
  });

  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['malformed JSON', '{"format": "rerender-project", "version": 1,, }', /not valid JSON|truncated/],
    ['truncated file', serializeProject(sampleProject()).slice(0, 300), /truncated/],
    ['empty file', '', /empty/],
    ['future version', JSON.stringify({ ...sampleProject(), version: 99 }), /newer version.*99/],
    ['foreign JSON', JSON.stringify({ name: 'package', version: '1.0.0' }), /not a Rerender project/],
    ['JSON array', '[1,2,3]', /not a Rerender project/],
    ['wrong types', JSON.stringify({ ...sampleProject(), frames: { count: 'many', fps: { num: 24, den: 1 } } }), /frames\.count/],
    ['keyframe past the end', JSON.stringify({ ...sampleProject(10, [0]), keyframes: [{ ...sampleProject(10, [0]).keyframes[0], frame: 10 }] }), /past the last frame/],
    ['path traversal in a keyframe image', JSON.stringify({ ...sampleProject(10, [0]), keyframes: [{ ...sampleProject(10, [0]).keyframes[0], image: '../../etc/passwd' }] }), /inside the project folder/],
    ['absolute keyframe image', JSON.stringify({ ...sampleProject(10, [0]), keyframes: [{ ...sampleProject(10, [0]).keyframes[0], image: '/etc/passwd' }] }), /relative/],
    ['binary garbage', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]), /not a Rerender project: the file is not JSON \(a binary file\)/],
    ['text file', 'Shopping list\n- milk\n- bread\n', /not a Rerender project: the file is not JSON: it starts with "Shopping list - milk - bread"; open a \.rerender/],
  ];
  for (const [name, content, pattern] of cases) {
    test(`given a ${name}, when opened, then a clear error names the problem and the file is untouched`, async () => {
      const dir = tempDir();
      const file = path.join(dir, 'bad.rerender');
      fs.writeFileSync(file, content);
      await rejectsWith(file, pattern);
    });
  }

  test('given a video opened as a project, by its name or (renamed) by its first bytes, when opened, then it is said to be a video to make a project from, not a binary file', async () => {
    const dir = tempDir();
    const mp4Head = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(64)]);
    const webmHead = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(64)]);
    for (const [name, bytes] of [['clip.mp4', Buffer.alloc(64)], ['clip.MOV', mp4Head], ['renamed.rerender', mp4Head], ['take.rerender', webmHead]] as const) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      await rejectsWith(file, /is a video, not a Rerender project; make a new project from it$/);
    }
    // Larger than any project can be: still a video first, not "too large".
    const big = path.join(dir, 'long.mkv');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 300 * 1024 * 1024);
    await assert.rejects(readProjectFile(big), /is a video, not a Rerender project/);
    fs.rmSync(big);
  });

  test('given a project saved with a UTF-8 byte-order mark, when opened, then it reads as the same project', async () => {
    const file = path.join(tempDir(), 'bom.rerender');
    const p = sampleProject();
    fs.writeFileSync(file, '\ufeff' + serializeProject(p));
    assert.deepEqual(await readProjectFile(file), p);
  });

  test('given a missing file, when opened, then the error says so', async () => {
    await assert.rejects(readProjectFile(path.join(tempDir(), 'none.rerender')), /no such project file/);
  });

  test('given an autosave newer than the project, when recovering, then the autosaved edits come back', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'a.rerender');
    await writeProjectFile(file, sampleProject(50, [0]));
    await new Promise((r) => setTimeout(r, 20));
    await writeAutosave(file, sampleProject(50, [0, 5, 9]));
    assert.deepEqual((await readAutosave(file))?.keyframes.map((k) => k.frame), [0, 5, 9]);
  });

  test('given a document from IPC, when parsed, then the same validation applies', () => {
    assert.throws(() => parseProject({ format: 'rerender-project', version: 1 }, 'ipc'), /damaged/);
  });
});
