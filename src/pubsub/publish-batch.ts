/**
 * Publishing: the message is framed once into its topic's batch of the tick (message-frames.ts,
 * topic-batch.ts), and each subscriber's share of that batch grows by the frame. At the end of the
 * tick each subscriber gets its share in one write, the same Buffer for all whose share is the whole
 * batch. A direct send to a subscriber first writes its share (websocket.ts), so sends and publishes
 * leave in call order.
 *
 * A subscriber over maxBackpressure is a slow consumer: its policy decides (send-status.ts,
 * SlowConsumerPolicy). A subscriber that is not open gets nothing: after our close frame no data
 * frame may follow (RFC 6455 section 5.5.1).
 */
import type { WebSocket } from '../websocket';
import type { SendData } from '../protocol/sender';
import type { ConnectionBackpressure } from '../backpressure/connection-backpressure';
import { MessageFrames } from './message-frames';
import type { Topic } from './topic';
import { closeShareBeforeFrame, writeShare } from './topic-batch';

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
  topic: Topic | undefined,
  data: SendData,
  options: PublishOptions | undefined,
  except: WebSocket | null,
): boolean {
  if (topic === undefined) return false;
  const subscribers = topic.subscribers;
  if (subscribers.size === 1 && except !== null && subscribers.has(except)) return false;
  const binary = options?.binary ?? typeof data !== 'string';
  const key = options?.conflationKey;
  message.load(topic, data, binary, options?.compress !== false);
  try {
    // ws.publish goes to everyone else: the publisher's share of this topic ends before this message.
    if (except !== null && except._shareBatch !== null && except._shareBatch.topic === topic) writeShare(except);
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
  if (state !== null && state.limit > 0 && (overLimitBeforeFrame(ws, state) || (state.held !== null && state.held.size > 0))) {
    deliverSlow(ws, state, key);
    return;
  }
  if (ws._sendQueue !== null) {
    // Sends wait behind a Blob being read: the message queues behind them, framed for this connection.
    ws.send(data, options);
    return;
  }
  const batch = message.batchFor(ws);
  if (ws._shareBatch !== batch) batch.openShare(ws);
  if (state !== null && state.limit > 0 && ws.bufferedAmount > state.limit) {
    // Over its limit with this frame: the share goes to the socket now, so that the drain marker follows it.
    writeShare(ws);
    state.watchDrain();
  }
}

/**
 * bufferedAmount > maxBackpressure before this message: a share in a batch that already holds this
 * message's frame (another subscriber took it first) counts the frame, which `ws` has not taken yet.
 */
function overLimitBeforeFrame(ws: WebSocket, state: ConnectionBackpressure): boolean {
  let buffered = ws.bufferedAmount;
  const batch = ws._shareBatch;
  if (batch !== null && batch.frameStart >= 0) buffered -= batch.length - batch.frameStart;
  return buffered > state.limit;
}

function deliverSlow(ws: WebSocket, state: ConnectionBackpressure, key: string | undefined): void {
  // What it took before this message leaves in order; this one is held, dropped or its close follows.
  if (ws._shareBatch !== null) closeShareBeforeFrame(ws);
  if (state.policy === 'close') {
    state.closeForLimit();
    return;
  }
  if (state.policy === 'conflate' && key !== undefined) {
    const held = (state.held ??= new Map());
    // Delete, then set: the held message moves to the end, so held messages leave in publish order.
    if (held.delete(key)) state.conflated++;
    held.set(key, message.frameFor(ws));
  } else {
    state.dropped++;
  }
  state.watchDrain();
}
