// The native menus' layout. Each item names an action of the shared action table and takes its label
// and accelerator from there (`preload/action-table.ts`), so a shortcut is written once. Clicking sends
// the action to the renderer, whose registry performs it; shortcuts are shown here but handled by the
// renderer (which leaves text fields alone). No `electron` import at run time: a unit test builds it.
import path from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import { accelerator, actionDeclaration, type ActionName } from '../../preload/action-table';

/** A menu's entries: an action by name, a separator, or an item built here (roles, Open Recent). */
type Entry = ActionName | '-' | MenuItemConstructorOptions;

export interface MenuContext {
  /** Performs an action in the renderer (`path`: the file of an Open Recent item). */
  send(action: ActionName, path?: string): void;
  recent: readonly string[];
  /** Copies the sample where needed (main-process work) and then opens it like Open Recent. */
  openSample(): void;
  isMac: boolean;
  isPackaged: boolean;
}

/** The item for an action: the table's label and accelerator. Throws on a name the table lacks. */
export function actionItem(name: ActionName, send: MenuContext['send']): MenuItemConstructorOptions {
  const a = actionDeclaration(name);
  if (!a) throw new Error(`menu item "${name}" names no action of preload/action-table.ts`);
  return {
    id: name,
    label: a.label,
    ...(a.shortcut ? { accelerator: accelerator(a.shortcut) } : {}),
    registerAccelerator: false,
    click: () => send(name),
  };
}

export function menuTemplate(ctx: MenuContext): MenuItemConstructorOptions[] {
  const menu = (label: string, entries: Entry[], role?: 'help'): MenuItemConstructorOptions => ({
    label,
    ...(role ? { role } : {}),
    submenu: entries.map((e) => (e === '-' ? { type: 'separator' } : typeof e === 'string' ? actionItem(e, ctx.send) : e)),
  });
  const recent: MenuItemConstructorOptions = {
    label: 'Open Recent',
    submenu: ctx.recent.length
      ? ctx.recent.map((f) => ({ label: `${path.basename(f)} — ${path.dirname(f)}`, click: () => ctx.send('file.open', f) }))
      : [{ label: 'No recent projects', enabled: false }],
  };
  return [
    ...(ctx.isMac ? [{ role: 'appMenu' as const }] : []),
    menu('File', [
      'file.new', 'file.open', recent, { label: 'Open Sample Project', click: ctx.openSample }, '-',
      'file.save', 'file.saveAs', 'file.close', '-',
      'file.export', 'file.models', 'file.externalEditor', '-',
      ctx.isMac ? { role: 'close' } : { role: 'quit' },
    ]),
    menu('Edit', [
      'edit.undo', 'edit.redo', '-',
      { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, '-',
      'keyframe.add', 'keyframe.delete', 'keyframe.selectAll', 'keyframe.suggest', 'keyframe.suggestHere', 'keyframe.importImage', 'keyframe.editExternally', 'keyframe.revert',
    ]),
    menu('Render', [
      'render.keyframe', 'render.regenerate', 'render.all', 'render.rerenderAll', 'render.withDiffusion', '-',
      'render.propagate', 'render.propagateSegment', '-',
      'render.measureFlicker',
    ]),
    menu('View', [
      'view.zoomIn', 'view.zoomOut', 'view.zoomFit', '-',
      'view.source', 'view.keyframe', 'view.output', 'view.errorMap', 'view.wipe', 'view.sideBySide', '-',
      { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, '-',
      { role: 'togglefullscreen' },
      ...(ctx.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
    ]),
    menu('Help', ['help.shortcuts', ...(ctx.isMac ? [] : [{ role: 'about' as const }])], 'help'),
  ];
}
