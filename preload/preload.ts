// The preload: exposes window.rerender (the RerenderApi of preload/api.ts) and nothing else. Calls go
// to ipcMain.handle per call name (validated there); events arrive on one channel and fan out here.
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { EVENT_CHANNEL, IPC_PREFIX } from './channels';
import type { CallReply, RerenderApi } from './api';

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();

ipcRenderer.on(EVENT_CHANNEL, (_e, msg: { event: string; payload: unknown }) => {
  for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
});

const api: RerenderApi = {
  mode: 'electron',
  async call(name, params) {
    const reply = (await ipcRenderer.invoke(`${IPC_PREFIX}${name}`, params)) as CallReply;
    if (!reply.ok) throw new Error(reply.error.message);
    return reply.value as never;
  },
  on(event, listener) {
    const set = listeners.get(event) ?? new Set();
    set.add(listener as Listener);
    listeners.set(event, set);
    return () => set.delete(listener as Listener);
  },
  pathForFile(file) {
    try {
      return webUtils.getPathForFile(file) || null;
    } catch {
      return null;
    }
  },
};

contextBridge.exposeInMainWorld('rerender', api);
