/**
 * Publishing: the message is framed once (message-frames.ts) and appended to each subscriber's share
 * of the tick's batch: its socket is corked for the tick (backpressure/tick-cork.ts) and the frame is
 * written to it, so the share, and any direct send to that connection in between, leaves in order, in
 * one write at the end of the tick. A direct send keeps its place relative to publishes because both
 * go through the same corked socket, in call order.
 *
 * A subscriber over maxBackpressure is a slow consumer: its policy decides (send-status.ts,
 * SlowConsumerPolicy). A subscriber that is not open gets nothing: after our close frame no data
 * frame may follow (RFC 6455 section 5.5.1).
 */
import type { WebSocket } from '../websocket';
import type { SendData } from '../protocol/sender';
import type { ConnectionBackpressure } from '../backpressure/connection-backpressure';
import { corkForTick, flushIfFull } from '../backpressure/tick-cork';
import { MessageFrames } from './message-frames';

/** wss.publish / ws.publish options. */
export interface PublishOptions {
  /** Default: true unless data is a string (as ws's send). */
  binary?: boolean;
  /**
   * Compress for subscribers that negotiated permessage-deflate without context takeover on the
   * server's side, once per deflate profile; the others get it uncompressed. The extension's threshold
   * applies. Default true (as ws's send: compression only happens where it was negotiated).
   */
  compress?: boolean;
  /**
   * For subscribers with the 'conflate' policy that are over maxBackpressure: the message replaces the
   * one held with the same key instead of queuing behind it (e.g. the instrument of a price update).
   */
  conflationKey?: string;
}

/** WebSocket.OPEN (not imported: websocket.ts imports this module). */
const OPEN = 1;

const message = new MessageFrames();

export function publishTo(
  subscribers: ReadonlySet<WebSocket> | undefined,
  data: SendData,
  options: PublishOptions | undefined,
  except: WebSocket | null,
): boolean {
  if (subscribers === undefined || (subscribers.size === 1 && except !== null && subscribers.has(except))) {
    return false;
  }
  const binary = options?.binary ?? typeof data !== 'string';
  const key = options?.conflationKey;
  message.load(data, binary, options?.compress !== false);
  try {
    for (const ws of subscribers) {
      if (ws !== except && ws._readyState === OPEN) deliver(ws, data, options, key);
    }
  } finally {
    message.clear();
  }
  return true;
}

function deliver(ws: WebSocket, data: SendData, options: PublishOptions | undefined, key: string | undefined): void {
  const state = ws._backpressure;
  if (state !== null && state.limit > 0 && (state.overLimit() || (state.held !== null && state.held.size > 0))) {
    deliverSlow(ws, state, key);
    return;
  }
  if (ws._sendQueue !== null) {
    // Sends wait behind a Blob being read: the message queues behind them, framed for this connection.
    ws.send(data, options);
    return;
  }
  corkForTick(ws);
  (ws._socket as NonNullable<WebSocket['_socket']>).write(message.frameFor(ws._extensions));
  flushIfFull(ws);
  if (state !== null && state.limit > 0) state.statusAfterWrite();
}

function deliverSlow(ws: WebSocket, state: ConnectionBackpressure, key: string | undefined): void {
  if (state.policy === 'close') {
    state.closeForLimit();
    return;
  }
  if (state.policy === 'conflate' && key !== undefined) {
    const held = (state.held ??= new Map());
    // Delete, then set: the held message moves to the end, so held messages leave in publish order.
    if (held.delete(key)) state.conflated++;
    held.set(key, message.frameFor(ws._extensions));
  } else {
    state.dropped++;
  }
  state.watchDrain();
}
