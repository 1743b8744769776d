// The editor's farm setting, through the editor's own call handlers and a real Redis with a password: a
// malformed URL is refused with the reason and nothing is stored, the password is never shown back (the
// state says *** and whether the farm answers), editing the shown URL keeps the stored password, and
// clearing it returns jobs to this machine. The settings file that keeps the password is mode 0600.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createEditor, type Editor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { tempDir } from '../helpers/media';
import { redisMissing, startRedis, type TestRedis } from '../helpers/redis';

const missing = redisMissing();
if (missing) console.log(`# skipping the editor farm setting tests: ${missing}`);

describe('editor: the farm setting', { skip: missing }, () => {
  let redis: TestRedis, editor: Editor, settingsFile: string;
  before(async () => {
    redis = await startRedis({ password: 'hunter 2' });
    settingsFile = path.join(tempDir('rerender-farm-settings-'), 'settings.json');
    editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile, workerModules: workerModules() });
  });
  after(async () => { editor?.dispose(); await redis?.stop(); });

  test('given farm URLs, when set in the editor, then bad ones are refused, the password is never shown back and the farm is checked', async () => {
    const h = editor.handlers;
    assert.deepEqual(await h['farm.state']({}), { url: null }, 'no farm: jobs run on this machine');
    await assert.rejects(async () => h['farm.setUrl']({ url: 'http://farm:6379' }), /must start with redis:\/\/ or rediss:\/\//);
    await assert.rejects(async () => h['farm.setUrl']({ url: 'redis://farm:6379/x' }), /database in the farm URL must be a number/);
    assert.equal(fs.existsSync(settingsFile) ? JSON.parse(fs.readFileSync(settingsFile, 'utf8')).farmUrl : null, null, 'nothing stored');

    const set = await h['farm.setUrl']({ url: redis.url });
    assert.equal(set.reachable, true, set.problem);
    assert.equal(set.url, `redis://:***@127.0.0.1:${redis.port}`);
    assert.ok(!JSON.stringify(set).includes('hunter'), 'the password is not shown back');
    // The password is in the settings file in plain text: only its owner may read the file.
    if (process.platform !== 'win32') assert.equal(fs.statSync(settingsFile).mode & 0o777, 0o600, 'the settings file is readable by its owner only');

    // The UI sends back what it shows (*** as password): the stored password is kept.
    const again = await h['farm.setUrl']({ url: set.url });
    assert.equal(again.reachable, true, again.problem);
    await assert.rejects(async () => h['farm.setUrl']({ url: 'redis://:***@other-host:6379' }), /type the password for the new server/);

    const wrong = await h['farm.setUrl']({ url: `redis://:nope@127.0.0.1:${redis.port}` });
    assert.equal(wrong.reachable, false);
    assert.match(wrong.problem!, /refused the user or password/);

    assert.deepEqual(await h['farm.setUrl']({ url: null }), { url: null });
  });
});
