// Native menus: the layout of `menu-template.ts` built into an Electron menu. Each item sends its
// action to the renderer as an `app.command` event, so menus, toolbar, shortcuts and tests share one
// implementation.
import { app, Menu, type BrowserWindow } from 'electron';
import { EVENT_CHANNEL } from '../../preload/api';
import { menuTemplate } from './menu-template';

/** `openSample` copies the sample where needed (main-process work) and then opens it like Open Recent. */
export function buildMenu(win: () => BrowserWindow | undefined, recent: readonly string[], openSample: () => void): Menu {
  const send = (action: string, file?: string) =>
    win()?.webContents.send(EVENT_CHANNEL, { event: 'app.command', payload: { action, path: file } });
  return Menu.buildFromTemplate(menuTemplate({ send, recent, openSample, isMac: process.platform === 'darwin', isPackaged: app.isPackaged }));
}
