// The one action registry: names and shortcuts are unique, every native menu item names a registered
// action, and the window state is only restored where it is visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { actions, actionByName } from '../../renderer/actions';
import { restoreWindowState, saveWindowState } from '../../main/shell/window-state';
import { tempDir } from '../helpers/media';

test('given the registry, then names and shortcuts are unique and every action has a label and a group', () => {
  const names = actions.map((a) => a.name);
  assert.equal(new Set(names).size, names.length);
  const shortcuts = actions.map((a) => a.shortcut).filter(Boolean);
  assert.equal(new Set(shortcuts).size, shortcuts.length, 'one shortcut, one action');
  for (const a of actions) assert.ok(a.label && a.group, a.name);
});

test('given the native menus, then every item names a registered action', () => {
  const menu = fs.readFileSync(path.join(__dirname, '..', '..', 'main', 'shell', 'menu.ts'), 'utf8');
  const used = [...menu.matchAll(/item\('[^']+', '([^']+)'/g)].map((m) => m[1]);
  assert.ok(used.length > 20);
  for (const name of used) assert.ok(actionByName(name), `menu item "${name}" has no action`);
});

test('given a saved window on a display that is gone, then it is not restored there', () => {
  const file = path.join(tempDir('rerender-window-'), 'window.json');
  saveWindowState(file, { x: 3000, y: 100, width: 1200, height: 800, maximized: false });
  assert.equal(restoreWindowState(file, [{ x: 0, y: 0, width: 1920, height: 1080 }]), undefined);
  assert.deepEqual(restoreWindowState(file, [{ x: 0, y: 0, width: 1920, height: 1080 }, { x: 1920, y: 0, width: 2560, height: 1440 }]), { x: 3000, y: 100, width: 1200, height: 800, maximized: false });
  fs.writeFileSync(file, '{ damaged');
  assert.equal(restoreWindowState(file, [{ x: 0, y: 0, width: 1920, height: 1080 }]), undefined);
});
