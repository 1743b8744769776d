// The Electron shell's IPC gate, run in Node: only known channels, only from the app's own main
// frame, only params that match the contract reach a handler.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { validateIpcCall } from '../../main/shell/ipc-validation';
import { calls, callNames, IPC_PREFIX } from '../../preload/api';

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

  test('given the contract, then every call has a params and a result schema', () => {
    for (const name of callNames) {
      assert.ok(calls[name].params && calls[name].result, name);
    }
  });
});
