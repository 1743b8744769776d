// The gate every IPC call passes in the Electron main process: a known channel, from the app's own
// main frame (app://rerender), with params matching the contract. Plain module (no electron import)
// so the rules run under Node's tests.
import { IPC_PREFIX } from '../../preload/api';
import { parseCall } from '../engine/editor/editor-api';

export const APP_SCHEME = 'app';
export const APP_HOST = 'rerender';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** What the shell knows about who sent a message (from event.senderFrame). */
export interface IpcSender {
  url: string;
  /** The window's top frame, not an iframe inside it. */
  isMainFrame: boolean;
}

/** Whether a URL belongs to the app's own renderer (not a page it navigated to, not a file: URL). */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

export type IpcVerdict = { ok: true; name: string; params: unknown } | { ok: false; error: string };

export function validateIpcCall(channel: string, params: unknown, sender: IpcSender | null | undefined): IpcVerdict {
  if (!channel.startsWith(IPC_PREFIX)) return { ok: false, error: `unknown channel "${channel.slice(0, 80)}"` };
  if (!sender || !sender.isMainFrame || !isAppUrl(sender.url)) {
    return { ok: false, error: `refused ${channel} from ${sender ? `${sender.isMainFrame ? '' : 'a sub-frame of '}${sender.url.slice(0, 120)}` : 'an unknown sender'}` };
  }
  const call = parseCall(channel.slice(IPC_PREFIX.length), params);
  return call.ok ? { ok: true, name: call.name, params: call.params } : { ok: false, error: call.error };
}
