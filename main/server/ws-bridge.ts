// The WebSocket side of serve mode: calls arrive as { id, name, params }, are validated against the
// contract and dispatched to the editor; replies go back as { id, reply }, events as { event, payload }.
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { EventName } from '../../preload/api';
import { dispatchCall, type Editor } from '../engine/editor/editor-api';

const callMessage = z.object({ id: z.number().int().nonnegative(), name: z.string().max(64), params: z.unknown() });

export function attachBridge(ws: WebSocket, editor: Editor, eventNames: EventName[]): void {
  const send = (msg: unknown) => {
    if (ws.readyState !== ws.OPEN) return;
    try {
      ws.send(JSON.stringify(msg));
    } catch (err) {
      // A reply that cannot be encoded is this client's loss, never the server's (dispatchCall already
      // turns every handler failure into a reply, so this is the last place a throw could escape).
      process.stderr.write(`rerender serve: could not send a bridge message: ${(err as Error)?.message ?? String(err)}\n`);
    }
  };
  const unsubscribe = eventNames.map((event) => editor.on(event, (payload) => send({ event, payload })));
  ws.on('close', () => unsubscribe.forEach((u) => u()));
  // A client that breaks the protocol (a reserved opcode, a message over maxPayload, a reset) is
  // dropped; without this listener ws would rethrow the error and end the whole server.
  ws.on('error', () => ws.terminate());
  ws.on('message', async (data, isBinary) => {
    let raw: unknown;
    try {
      raw = isBinary ? undefined : JSON.parse(String(data));
    } catch {
      raw = undefined;
    }
    const msg = callMessage.safeParse(raw);
    if (!msg.success) {
      send({ id: -1, reply: { ok: false, error: { message: 'malformed bridge message: expected { id, name, params }' } } });
      return;
    }
    const reply = await dispatchCall(editor.handlers, msg.data.name, msg.data.params);
    send({ id: msg.data.id, reply });
  });
}
