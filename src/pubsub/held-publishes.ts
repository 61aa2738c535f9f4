/**
 * Publishes that reach a connection in the middle of its own fragmented message (a send with
 * `fin: false` whose last fragment has not gone yet) wait here: RFC 6455 section 5.4 forbids another
 * data frame between the fragments of a message (only control frames may come between). They leave
 * right after the message's last fragment, in publish order, and count in bufferedAmount meanwhile.
 *
 * Rare by nature, so the waiting frames live in a WeakMap and a connection pays one flag bit
 * (`_holdingPublishes`), not a field.
 */
import type { WebSocket } from '../websocket';

interface Held {
  readonly frames: Buffer[];
  bytes: number;
}

const heldFrames = new WeakMap<WebSocket, Held>();

/** Keeps a copy of buffer[start..end) (whole frames) for `ws` until its message ends. */
export function holdPublishedFrames(ws: WebSocket, buffer: Buffer, start: number, end: number): void {
  // A copy: the batch Buffer is shared, and a view would keep all of it alive (see topic-batch.ts).
  const copy = Buffer.allocUnsafeSlow(end - start);
  buffer.copy(copy, 0, start, end);
  let held = heldFrames.get(ws);
  if (held === undefined) {
    held = { frames: [], bytes: 0 };
    heldFrames.set(ws, held);
    ws._holdingPublishes = true;
  }
  held.frames.push(copy);
  held.bytes += copy.length;
}

/** Bytes held for `ws`. */
export function heldPublishedBytes(ws: WebSocket): number {
  return ws._holdingPublishes ? (heldFrames.get(ws) as Held).bytes : 0;
}

/** The message's last fragment has gone to the Sender: the held frames follow it. */
export function releaseHeldPublishes(ws: WebSocket): void {
  const held = heldFrames.get(ws) as Held;
  heldFrames.delete(ws);
  ws._holdingPublishes = false;
  const socket = ws._socket;
  if (socket === null || socket.destroyed) return;
  // The last fragment may wait in the Sender's gathered run: it goes first.
  ws._sender?.flushBatch(undefined);
  for (const frame of held.frames) socket.write(frame);
}
