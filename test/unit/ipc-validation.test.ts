// The Electron shell's IPC gate, run in Node: only known channels, only from the app's own main
// frame, only params that match the contract reach a handler.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { validateIpcCall } from '../../main/shell/ipc-validation';
import { calls, callNames, IPC_PREFIX } from '../../preload/api';
import fs from 'node:fs';
import path from 'node:path';
import { createEditor } from '../../main/engine/editor/editor-api';
import { workerModules } from '../../main/engine/editor/app-files';
import { tempDir } from '../helpers/media';

const app = { url: 'app://rerender/index.html', isMainFrame: true };

describe('IPC validation', () => {
  test('given a call from the app main frame with good params, then it is accepted with parsed params', () => {
    const v = validateIpcCall(`${IPC_PREFIX}project.edit`, { action: 'addKeyframe', frame: 12 }, app);
    assert.deepEqual(v, { ok: true, name: 'project.edit', params: { action: 'addKeyframe', frame: 12 } });
    assert.equal(validateIpcCall(`${IPC_PREFIX}project.undo`, {}, app).ok, true);
  });

  test('given an unknown channel or call, then it is rejected', () => {
    assert.equal(validateIpcCall('other:project.edit', {}, app).ok, false);
    assert.match((validateIpcCall(`${IPC_PREFIX}fs.readFile`, { path: '/etc/passwd' }, app) as { error: string }).error, /unknown call/);
    assert.equal(validateIpcCall(`${IPC_PREFIX}__proto__`, {}, app).ok, false);
    assert.equal(validateIpcCall(`${IPC_PREFIX}constructor`, {}, app).ok, false);
  });

  test('given a call from anything but the app main frame, then it is rejected', () => {
    const params = { action: 'addKeyframe', frame: 1 };
    for (const sender of [
      { url: 'https://evil.example/', isMainFrame: true },
      { url: 'file:///tmp/index.html', isMainFrame: true },
      { url: 'app://other/index.html', isMainFrame: true },
      { url: 'app://rerender.evil/index.html', isMainFrame: true },
      { url: 'app://rerender/index.html', isMainFrame: false },
      { url: 'not a url', isMainFrame: true },
    ]) {
      const v = validateIpcCall(`${IPC_PREFIX}project.edit`, params, sender);
      assert.equal(v.ok, false, sender.url);
      assert.match((v as { error: string }).error, /refused/);
    }
    assert.equal(validateIpcCall(`${IPC_PREFIX}project.edit`, params, null).ok, false);
  });

  test('given malformed payloads, then they are rejected with what is wrong', () => {
    for (const [name, params] of [
      ['project.edit', { action: 'addKeyframe', frame: -1 }],
      ['project.edit', { action: 'addKeyframe', frame: '12' }],
      ['project.edit', { action: 'eraseDisk' }],
      ['project.edit', 'addKeyframe'],
      ['project.open', { file: '' }],
      ['project.open', { file: 42 }],
      ['project.undo', { extra: true }],
      ['jobs.cancel', {}],
      ['export.start', { out: '/tmp/x.mp4', format: 'avi', sideBySide: false, allowIncomplete: false }],
      ['project.edit', { action: 'setKeyframeOverrides', id: 'abcd', overrides: { steps: 1e9 } }],
    ] as const) {
      const v = validateIpcCall(`${IPC_PREFIX}${name}`, params, app);
      assert.equal(v.ok, false, `${name} ${JSON.stringify(params)}`);
      assert.match((v as { error: string }).error, /bad parameters/);
    }
  });

  test('given a cache limit, then only a number from 1 to 10000 GB passes the gate, and the handler stores it', async () => {
    assert.deepEqual(validateIpcCall(`${IPC_PREFIX}cache.setLimit`, { limitGb: 50 }, app), { ok: true, name: 'cache.setLimit', params: { limitGb: 50 } });
    assert.equal(validateIpcCall(`${IPC_PREFIX}cache.setLimit`, { limitGb: 2.5 }, app).ok, true);
    for (const params of [{ limitGb: 0 }, { limitGb: 0.5 }, { limitGb: 10_001 }, { limitGb: '20' }, { limitGb: null }, {}, { limitGb: 20, extra: 1 }, { limitGb: Infinity }]) {
      const v = validateIpcCall(`${IPC_PREFIX}cache.setLimit`, params, app);
      assert.equal(v.ok, false, JSON.stringify(params));
      assert.match((v as { error: string }).error, /bad parameters/);
    }
    const settingsFile = path.join(tempDir('rerender-cache-setting-'), 'settings.json');
    const editor = createEditor({ platform: { mode: 'browser', version: 'test' }, settingsFile, workerModules: workerModules() });
    try {
      assert.deepEqual(await editor.handlers['cache.state']({}), { limitGb: 20, min: 1, max: 10_000 }, 'the default');
      assert.deepEqual(await editor.handlers['cache.setLimit']({ limitGb: 75 }), { limitGb: 75, min: 1, max: 10_000 });
      assert.equal(JSON.parse(fs.readFileSync(settingsFile, 'utf8')).cacheLimitGb, 75, 'kept in the app settings');
      // Past the gate (a caller that skips it), the handler refuses too instead of storing the default.
      await assert.rejects(async () => editor.handlers['cache.setLimit']({ limitGb: 0 }), /cache limit must be from 1 to 10000 GB, got 0/);
      assert.equal(editor.settings.get().cacheLimitGb, 75);
    } finally {
      editor.dispose();
    }
  });

  test('given the contract, then every call has a params and a result schema', () => {
    for (const name of callNames) {
      assert.ok(calls[name].params && calls[name].result, name);
    }
  });
});
