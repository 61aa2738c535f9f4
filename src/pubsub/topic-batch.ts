/**
 * One topic's published frames of this tick, of one variant (plain, or compressed for one deflate
 * profile), back to back in one Buffer, and the subscribers' shares of it.
 *
 * A subscriber's share is the run of the batch from the frame it first took to the end: it opens at
 * that frame and grows by itself as frames are appended, as long as the subscriber takes each of them.
 * At the end of the tick (backpressure/tick-cork.ts) every open share is written as one Buffer: the
 * same object for every subscriber whose share is the whole batch, the common case. The frames go out
 * as they were framed (RFC 6455 section 5.2, unmasked server frames), back to back.
 *
 * A share is closed early (written at once, under the tick's cork) when its subscriber must not take
 * the next frame of the batch or must get something else first: a direct send (websocket.ts), a frame
 * of another batch, being the publisher (ws.publish excludes it), being over maxBackpressure, an
 * unsubscribe. Later frames then open a new share, so bytes leave in call order.
 *
 * Each batch's Buffer is written once and never reused: sockets may still hold it. A new one is taken
 * for the next frames, sized from the last tick's, so a steady topic allocates about one Buffer per
 * tick, of the size it needs. A Buffer waiting in a socket's queue keeps all of its memory alive, so a
 * subscriber that is behind (its socket already holds bytes) gets a copy of its share unless the share
 * is the whole Buffer: what a slow subscriber holds stays what its bufferedAmount counts, plus at most
 * the one view written while its queue was empty (maxBackpressure bounds memory, not just bytes).
 * For the same reason every Buffer here has its memory to itself (allocUnsafeSlow): a small one from
 * Node's shared 8 KiB pool would keep the pool's other contents alive as long as a socket holds it.
 */
import type { WebSocket } from '../websocket';
import { EMPTY_BUFFER } from '../protocol/constants';
import { corkForTick, flushAtTickEnd, flushIfFull } from '../backpressure/tick-cork';
import type { Topic } from './topic';
import type { Sender } from '../protocol/sender';
import { holdPublishedFrames } from './held-publishes';

/**
 * A batch is written out before a frame would take it past this size. It bounds what one topic holds
 * between writes (one copy for all its subscribers, not one per subscriber), while a tick of small
 * messages still leaves in one write per subscriber (up to 992 messages of 64 B, 66 B framed).
 */
export const BATCH_MAX_BYTES = 64 * 1024;

/** WebSocket.OPEN (not imported: websocket.ts imports this module). */
const OPEN = 1;

export class TopicBatch {
  /** The frames are buffer[0..length). */
  buffer: Buffer = EMPTY_BUFFER;
  length = 0;
  /** Where the frame of the publish in progress begins; -1 when it added none here, or none is in progress. */
  frameStart = -1;
  /** Subscribers that opened a share here since the last write-out (one may appear twice: ws._shareBatch decides). */
  private readonly openers: WebSocket[] = [];
  private scheduled = false;
  /** Bytes of frames in the last tick: what the next tick's Buffers are sized from. */
  private lastTickBytes = 0;
  /** Bytes of frames written out earlier in this tick (the batch filled up). */
  private tickBytes = 0;

  constructor(readonly topic: Topic) {}

  /**
   * Appends room for a frame of `size` bytes and returns where it begins (also left in frameStart);
   * the caller writes the frame there, into `buffer`.
   */
  append(size: number): number {
    if (this.length > 0 && this.length + size > BATCH_MAX_BYTES) this.writeOut();
    const end = this.length + size;
    if (end > this.buffer.length) this.grow(end);
    this.frameStart = this.length;
    this.length = end;
    if (!this.scheduled) {
      this.scheduled = true;
      flushAtTickEnd(this);
    }
    return this.frameStart;
  }

  /** `ws` takes the frame of the publish in progress, and every later one of this batch until its share closes. */
  openShare(ws: WebSocket): void {
    if (ws._shareBatch !== null) closeShareBeforeFrame(ws);
    ws._shareBatch = this;
    ws._shareStart = this.frameStart;
    this.openers.push(ws);
  }

  /** The end of the tick (tick-cork.ts). */
  flushTick(): void {
    this.scheduled = false;
    this.writeOut();
    this.lastTickBytes = this.tickBytes;
    this.tickBytes = 0;
  }

  /** Writes every open share and starts a new Buffer. */
  private writeOut(): void {
    const buffer = this.buffer;
    const length = this.length;
    const full = length === buffer.length;
    let whole: Buffer | null = null;
    const openers = this.openers;
    for (let i = 0; i < openers.length; i++) {
      const ws = openers[i];
      if (ws._shareBatch !== this) continue;
      ws._shareBatch = null;
      // A connection that went away without our close frame (terminate, the peer's FIN) gets nothing more.
      if (ws._readyState !== OPEN) continue;
      const start = ws._shareStart;
      if ((ws._sender as Sender).inMessage) {
        holdPublishedFrames(ws, buffer, start, length);
        continue;
      }
      const socket = ws._socket as NonNullable<WebSocket['_socket']>;
      // What the connection sent earlier in this tick and still holds (its backlog) goes first.
      (ws._sender as Sender).flushBatch(undefined);
      // The common case: the whole batch, one object for every subscriber.
      if (start === 0 && (full || socket.writableLength === 0)) {
        socket.write((whole ??= full ? buffer : buffer.subarray(0, length)));
      } else {
        socket.write(shareFor(socket, buffer, start, length));
      }
      flushIfFull(ws);
    }
    openers.length = 0;
    this.tickBytes += length;
    this.buffer = EMPTY_BUFFER;
    this.length = 0;
    this.frameStart = -1;
  }

  /**
   * A bigger Buffer, with the frames so far copied in (the shares keep their offsets). A fresh one is
   * sized for what the last tick had left at this point, so that it ends up about full.
   */
  private grow(end: number): void {
    let size = this.length === 0 ? this.lastTickBytes - this.tickBytes : this.buffer.length * 2;
    if (size > BATCH_MAX_BYTES) size = BATCH_MAX_BYTES;
    if (size < end) size = end;
    const buffer = Buffer.allocUnsafeSlow(size);
    // Shares already written hold the old Buffer, which keeps the same bytes.
    if (this.length > 0) this.buffer.copy(buffer, 0, 0, this.length);
    this.buffer = buffer;
  }
}

/**
 * Writes everything `ws`'s open share holds now, under the tick's cork: what follows (a direct send,
 * another share) joins it in the tick's one writev, after it.
 */
export function writeShare(ws: WebSocket): void {
  writeShareUpTo(ws, (ws._shareBatch as TopicBatch).length);
}

/** Writes `ws`'s open share now, without the frame of the publish in progress: `ws` does not take it. */
export function closeShareBeforeFrame(ws: WebSocket): void {
  const batch = ws._shareBatch as TopicBatch;
  writeShareUpTo(ws, batch.frameStart >= 0 ? batch.frameStart : batch.length);
}

function writeShareUpTo(ws: WebSocket, end: number): void {
  const batch = ws._shareBatch as TopicBatch;
  ws._shareBatch = null;
  const start = ws._shareStart;
  if (end <= start || ws._readyState !== OPEN) return;
  if ((ws._sender as Sender).inMessage) {
    holdPublishedFrames(ws, batch.buffer, start, end);
    return;
  }
  corkForTick(ws);
  const socket = ws._socket as NonNullable<WebSocket['_socket']>;
  (ws._sender as Sender).flushBatch(undefined);
  socket.write(shareFor(socket, batch.buffer, start, end));
  flushIfFull(ws);
}

/**
 * buffer[start..end) as written to a socket: a view, or, when the socket already holds bytes (the
 * share will wait behind them) and the share is not the whole Buffer, a copy of its own, so that the
 * rest of the batch is not kept alive by a subscriber that is behind.
 */
function shareFor(socket: { writableLength: number }, buffer: Buffer, start: number, end: number): Buffer {
  if (socket.writableLength === 0 || end - start === buffer.length) return buffer.subarray(start, end);
  const copy = Buffer.allocUnsafeSlow(end - start);
  buffer.copy(copy, 0, start, end);
  return copy;
}

/** Bytes of `ws`'s open share, not yet written to its socket (they count in bufferedAmount). */
export function shareBytes(ws: WebSocket): number {
  const batch = ws._shareBatch;
  return batch === null ? 0 : batch.length - ws._shareStart;
}
