// The one action registry: names and shortcuts are unique, every native menu item names a registered
// action and shows its label and accelerator, each shortcut is pressed by one key chord, and the window
// state is only restored where it is visible.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { actions, actionByName, pressed } from '../../renderer/actions';
import { accelerator, matchesShortcut, type KeyPress } from '../../preload/action-table';
import { actionItem, menuTemplate } from '../../main/shell/menu-template';
import { restoreWindowState, saveWindowState } from '../../main/shell/window-state';
import { tempDir } from '../helpers/media';

test('given the registry, then names and shortcuts are unique and every action has a label and a group', () => {
  const names = actions.map((a) => a.name);
  assert.equal(new Set(names).size, names.length);
  const shortcuts = actions.map((a) => a.shortcut).filter(Boolean);
  assert.equal(new Set(shortcuts).size, shortcuts.length, 'one shortcut, one action');
  for (const a of actions) assert.ok(a.label && a.group, a.name);
});

/** Every item of a menu template, submenus flattened (the type from the template: tests never import electron). */
type MenuItemConstructorOptions = ReturnType<typeof menuTemplate>[number];
function items(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? items(i.submenu) : [])]);
}

test('given the native menus, then every action item names a registered action and shows its label and shortcut', () => {
  const sent: string[] = [];
  for (const isMac of [false, true]) {
    const template = menuTemplate({ send: (a) => sent.push(a), recent: ['/videos/a.rerender'], openSample: () => {}, isMac, isPackaged: false });
    const actionItems = items(template).filter((i) => i.id !== undefined);
    assert.ok(actionItems.length > 25, `only ${actionItems.length} action items`);
    for (const i of actionItems) {
      const a = actionByName(i.id!);
      assert.ok(a, `menu item "${i.id}" names no action`);
      assert.equal(i.label, a.label, `${a.name}: the menu's label`);
      assert.equal(i.accelerator, a.shortcut === undefined ? undefined : accelerator(a.shortcut), `${a.name}: the menu's accelerator`);
      assert.equal(i.registerAccelerator, false, `${a.name}: the renderer handles the key (it leaves text fields alone)`);
      i.click!({} as never, undefined, {} as never);
      assert.equal(sent.at(-1), a.name);
    }
    // Items without an action are roles, separators, submenus or main-process items (Open Recent, the sample).
    for (const i of items(template).filter((x) => x.id === undefined)) assert.ok(i.role || i.type === 'separator' || i.submenu || i.click || i.enabled === false, JSON.stringify(i));
  }
  assert.throws(() => actionItem('render.everything' as never, () => {}), /names no action/);
});

test('given the shortcuts, then each matches its own key press and no other action takes it', () => {
  const press = (shortcut: string): KeyPress => {
    const parts = shortcut.split('+');
    const last = shortcut.endsWith('+') ? '+' : parts.at(-1)!; // "+" and "Ctrl++" end in the key "+"
    const key = { '→': 'ArrowRight', '←': 'ArrowLeft', Space: ' ' }[last] ?? last;
    const shift = parts.includes('Shift');
    return { key: /^[a-z]$/i.test(key) ? (shift ? key.toUpperCase() : key.toLowerCase()) : key, ctrlKey: parts.includes('Ctrl'), metaKey: false, shiftKey: shift, altKey: false };
  };
  for (const a of actions) {
    for (const s of [a.shortcut, ...(a.alsoKeys ?? [])].filter((x): x is string => !!x)) {
      const e = press(s);
      assert.deepEqual(actions.filter((b) => pressed(b, e as KeyboardEvent)).map((b) => b.name), [a.name], `${s}`);
      assert.equal(pressed(a, { ...e, altKey: true } as KeyboardEvent), false, `Alt+${s} is not ${a.name}`);
    }
  }
  assert.ok(matchesShortcut('Ctrl+S', { key: 's', ctrlKey: false, metaKey: true, shiftKey: false, altKey: false }), 'Cmd counts as Ctrl');
  assert.ok(matchesShortcut('?', { key: '?', ctrlKey: false, metaKey: false, shiftKey: true, altKey: false }), 'Shift is ignored for symbols');
  assert.equal(accelerator('Ctrl+Shift+S'), 'CmdOrCtrl+Shift+S');
  assert.equal(accelerator('Shift+→'), 'Shift+Right');
  assert.equal(accelerator('k'), 'K');
  assert.throws(() => accelerator('Alt+K'), /unknown modifier "Alt"/);
});

test('given a saved window on a display that is gone, then it is not restored there', () => {
  const file = path.join(tempDir('rerender-window-'), 'window.json');
  saveWindowState(file, { x: 3000, y: 100, width: 1200, height: 800, maximized: false });
  assert.equal(restoreWindowState(file, [{ x: 0, y: 0, width: 1920, height: 1080 }]), undefined);
  assert.deepEqual(restoreWindowState(file, [{ x: 0, y: 0, width: 1920, height: 1080 }, { x: 1920, y: 0, width: 2560, height: 1440 }]), { x: 3000, y: 100, width: 1200, height: 800, maximized: false });
  fs.writeFileSync(file, '{ damaged');
  assert.equal(restoreWindowState(file, [{ x: 0, y: 0, width: 1920, height: 1080 }]), undefined);
});
