// Native menus. Each item names an action of the renderer's action registry and sends it as an
// `app.command` event, so menus, toolbar, shortcuts and tests share one implementation. Shortcuts are
// shown here but handled by the renderer (which leaves text fields alone).
import { app, Menu, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import path from 'node:path';
import { EVENT_CHANNEL } from '../../preload/api';

function send(win: BrowserWindow | undefined, action: string, file?: string): void {
  win?.webContents.send(EVENT_CHANNEL, { event: 'app.command', payload: { action, path: file } });
}

/** `openSample` copies the sample where needed (main-process work) and then opens it like Open Recent. */
export function buildMenu(win: () => BrowserWindow | undefined, recent: readonly string[], openSample: () => void): Menu {
  const item = (label: string, action: string, accelerator?: string): MenuItemConstructorOptions =>
    ({ label, accelerator, registerAccelerator: false, click: () => send(win(), action) });
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        item('New from Video…', 'file.new', 'CmdOrCtrl+N'),
        item('Open…', 'file.open', 'CmdOrCtrl+O'),
        {
          label: 'Open Recent',
          submenu: recent.length
            ? recent.map((f) => ({ label: `${path.basename(f)} — ${path.dirname(f)}`, click: () => send(win(), 'file.open', f) }))
            : [{ label: 'No recent projects', enabled: false }],
        },
        { label: 'Open Sample Project', click: openSample },
        { type: 'separator' },
        item('Save', 'file.save', 'CmdOrCtrl+S'),
        item('Save As…', 'file.saveAs', 'CmdOrCtrl+Shift+S'),
        { type: 'separator' },
        item('Export Video…', 'file.export', 'CmdOrCtrl+E'),
        item('Models…', 'file.models'),
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: 'Edit',
      submenu: [
        item('Undo', 'edit.undo', 'CmdOrCtrl+Z'),
        item('Redo', 'edit.redo', 'CmdOrCtrl+Shift+Z'),
        { type: 'separator' },
        { role: 'cut' }, { role: 'copy' }, { role: 'paste' },
        { type: 'separator' },
        item('Add Keyframe at Playhead', 'keyframe.add', 'K'),
        item('Delete Selected Keyframes', 'keyframe.delete', 'Delete'),
        item('Select All Keyframes', 'keyframe.selectAll', 'CmdOrCtrl+A'),
        item('Suggest Keyframes…', 'keyframe.suggest', 'Shift+K'),
        item('Import Image as Keyframe…', 'keyframe.importImage', 'I'),
      ],
    },
    {
      label: 'Render',
      submenu: [
        item('Render This Keyframe', 'render.keyframe', 'R'),
        item('Regenerate (New Seed)', 'render.regenerate', 'Shift+R'),
        item('Render All Keyframes', 'render.all', 'CmdOrCtrl+R'),
        item('Propagate Keyframes', 'render.propagate', 'P'),
        item('Propagate Segment at Playhead', 'render.propagateSegment', 'Shift+P'),
        { type: 'separator' },
        item('Measure Flicker', 'render.measureFlicker'),
      ],
    },
    {
      label: 'View',
      submenu: [
        item('Zoom Timeline In', 'view.zoomIn', '='),
        item('Zoom Timeline Out', 'view.zoomOut', '-'),
        item('Fit Whole Video', 'view.zoomFit', '0'),
        { type: 'separator' },
        item('Source Frame', 'view.source', '1'),
        item('Keyframe Result', 'view.keyframe', '2'),
        item('Propagated Frame', 'view.output', '3'),
        item('A/B Wipe', 'view.wipe', 'W'),
        item('Side by Side', 'view.sideBySide', 'B'),
        { type: 'separator' },
        { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    {
      role: 'help',
      submenu: [
        item('Keyboard Shortcuts', 'help.shortcuts', '?'),
        ...(isMac ? [] : [{ role: 'about' as const }]),
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
