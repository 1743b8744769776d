// Preload: exposes the typed API as window.rerender through contextBridge.
import { contextBridge } from 'electron';
contextBridge.exposeInMainWorld('rerender', {});
