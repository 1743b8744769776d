// The Electron security checklist, read from the configuration the app really uses (no Electron needed):
// window preferences, content security policy, navigation and window-open handling, release fuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { secureWebPreferences } from '../../main/shell/window-options';
import { rendererCsp } from '../../main/engine/editor/media-files';

const root = path.resolve(__dirname, '..', '..');
const mainSource = fs.readFileSync(path.join(root, 'main', 'shell', 'electron-main.ts'), 'utf8');

test('the window isolates the renderer: context isolation, sandbox, no Node, no webview, web security on', () => {
  const prefs = secureWebPreferences('/app/dist/preload/preload.js');
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.equal(prefs.nodeIntegration, false);
  assert.equal(prefs.nodeIntegrationInWorker, false);
  assert.equal(prefs.nodeIntegrationInSubFrames, false);
  assert.equal(prefs.webSecurity, true);
  assert.equal(prefs.allowRunningInsecureContent, false);
  assert.equal(prefs.webviewTag, false);
  assert.match(mainSource, /webPreferences: secureWebPreferences\(/, 'the main window uses these preferences');
  assert.doesNotMatch(mainSource, /new BrowserWindow\([^)]*nodeIntegration:\s*true/s);
});

test('the content security policy allows only the app itself: no inline or eval script, no remote origin', () => {
  for (const csp of [rendererCsp("'self'"), rendererCsp('ws://127.0.0.1:4321')]) {
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:\/\/(?!127\.0\.0\.1)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'none'/);
  }
});

test('navigation away from the app, new windows and webviews are refused', () => {
  assert.match(mainSource, /'will-navigate', \(e, url\) => \{ if \(!isAppUrl\(url\)\) e\.preventDefault\(\)/);
  assert.match(mainSource, /setWindowOpenHandler\([\s\S]*?action: 'deny'/);
  assert.match(mainSource, /'will-attach-webview', \(e\) => e\.preventDefault\(\)/);
  assert.doesNotMatch(mainSource, /loadURL\(['"`]https?:/, 'no remote content is loaded');
});

test('release builds set the fuses that close Node entry points', () => {
  const yml = fs.readFileSync(path.join(root, 'electron-builder.yml'), 'utf8');
  for (const line of ['runAsNode: false', 'enableNodeOptionsEnvironmentVariable: false', 'enableNodeCliInspectArguments: false', 'enableEmbeddedAsarIntegrityValidation: true', 'onlyLoadAppFromAsar: true', 'grantFileProtocolExtraPrivileges: false']) {
    assert.ok(yml.includes(line), `electron-builder.yml sets ${line}`);
  }
});
