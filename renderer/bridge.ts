// The renderer's way to the engine: window.rerender in Electron (from the preload), or the same
// RerenderApi over the serve-mode WebSocket bridge in a browser. Chosen once at startup.
import type { CallName, CallParams, CallReply, CallResult, EventName, EventPayload, RerenderApi } from '../preload/api';

declare global {
  interface Window { rerender?: RerenderApi }
}

type AnyListener = (payload: unknown) => void;

/** RerenderApi over a WebSocket: calls are numbered, replies matched by id, events fanned out. */
export function createSocketApi(url: string, onClosed: (message: string) => void = () => undefined): RerenderApi {
  let ws: WebSocket;
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<string, Set<AnyListener>>();
  let ready: Promise<void>;

  const connect = () => {
    ws = new WebSocket(url);
    ready = new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error('cannot reach the editor: is `rerender serve` still running?')), { once: true });
    });
    ws.addEventListener('message', (e) => {
      const msg = JSON.parse(String(e.data)) as { id?: number; reply?: CallReply; event?: string; payload?: unknown };
      if (msg.event) {
        for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
        return;
      }
      const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (!p || !msg.reply) return;
      pending.delete(msg.id!);
      if (msg.reply.ok) p.resolve(msg.reply.value);
      else p.reject(new Error(msg.reply.error.message));
    });
    ws.addEventListener('close', () => {
      const message = 'the connection to the editor closed; reload the page once `rerender serve` runs again';
      for (const p of pending.values()) p.reject(new Error(message));
      pending.clear();
      onClosed(message);
    });
  };
  connect();

  return {
    mode: 'browser',
    async call<N extends CallName>(name: N, params: CallParams<N>): Promise<CallResult<N>> {
      await ready;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, name, params }));
      });
    },
    on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener as AnyListener);
      listeners.set(event, set);
      return () => set.delete(listener as AnyListener);
    },
    pathForFile: () => null,
  };
}

export function connectApi(onClosed?: (message: string) => void): RerenderApi {
  if (window.rerender) return window.rerender;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return createSocketApi(`${scheme}://${location.host}/bridge`, onClosed);
}
