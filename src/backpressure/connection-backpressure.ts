/**
 * One connection's opt-in limits: maxBackpressure, what a publish does to it when it is slow, the
 * 'drain' event, and pausing its reading while it is behind. A connection that uses none of this has
 * no such object (WebSocket#_backpressure stays null) and behaves exactly as ws.
 *
 * The rules, all measured on `bufferedAmount` (bytes accepted and not yet taken by the socket):
 * - over the limit means bufferedAmount > maxBackpressure (never, when maxBackpressure is 0);
 * - sendWithStatus drops (or, with closeOnBackpressureLimit, closes with 1008) when the connection is
 *   over the limit before the send; it reports BACKPRESSURE when the send left it over the limit, or,
 *   without a limit, over the socket's highWaterMark (the point where socket.write returns false);
 * - a connection over its limit after a chunk was handled stops being read until it drains: the peer
 *   that does not read what it asked for is not read from (TCP pushes back on it);
 * - drained means bufferedAmount is back to 0 after backpressure was reported: held conflated
 *   messages are written, reading resumes (unless the user paused it), then 'drain' is emitted.
 */
import type { WebSocket, WebSocketData, WebSocketSendOptions } from '../websocket';
import { CLOSE_POLICY_VIOLATION, EMPTY_BUFFER } from '../protocol/constants';
import { writeShare } from '../pubsub/topic-batch';
import {
  BackpressureOptions,
  BackpressureStats,
  SEND_BACKPRESSURE,
  SEND_DROPPED,
  SEND_SUCCESS,
  SendStatusValue,
  SlowConsumerPolicy,
} from './send-status';

/** WebSocket.CONNECTING and OPEN (not imported: websocket.ts imports this module). */
const CONNECTING = 0;
const OPEN = 1;
const POLICIES: readonly SlowConsumerPolicy[] = ['drop', 'close', 'conflate'];
/** The reason sent with 1008 (section 7.4.1) when a connection is closed for its backpressure. */
const LIMIT_REASON = 'Backpressure limit exceeded';

export class ConnectionBackpressure {
  dropped = 0;
  conflated = 0;
  /** Conflated messages waiting for 'drain', by key, oldest update first; null when none were held. */
  held: Map<string, Buffer> | null = null;
  waitingDrain = false;
  readingPaused = false;
  /**
   * The socket's 'drain' listener and the marker write's callback, made (and the listener added) the
   * first time the connection falls behind: a connection that never does costs no closures.
   */
  private onDrain: (() => void) | null = null;
  private onMarkerWritten: ((error?: Error | null) => void) | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly limit: number,
    readonly closeOnLimit: boolean,
    public policy: SlowConsumerPolicy,
  ) {}

  /** bufferedAmount > maxBackpressure. */
  overLimit(): boolean {
    return this.limit > 0 && this.ws.bufferedAmount > this.limit;
  }

  /** After a write of ours: is the connection now backpressured? If so, wait for it to drain. */
  statusAfterWrite(): SendStatusValue {
    const socket = this.ws._socket;
    const threshold = this.limit > 0 || socket === null ? this.limit : socket.writableHighWaterMark;
    if (this.ws.bufferedAmount <= threshold) return SEND_SUCCESS;
    this.watchDrain();
    return SEND_BACKPRESSURE;
  }

  /** Arms the drain detection once: the socket's 'drain' if it will emit one, else a marker write. */
  watchDrain(): void {
    const socket = this.ws._socket;
    if (this.waitingDrain || socket === null) return;
    this.waitingDrain = true;
    if (this.onDrain === null) {
      this.onDrain = () => drained(this);
      this.onMarkerWritten = (error) => {
        if (!error) drained(this);
      };
      socket.on('drain', this.onDrain);
    }
    if (!socket.writableNeedDrain) this.markEnd();
  }

  /**
   * The socket emits 'drain' only after a write returned false (its highWaterMark); below that, an
   * empty write queued behind everything buffered tells us, through its callback, when all of it went.
   */
  markEnd(): void {
    const ws = this.ws;
    const socket = ws._socket;
    if (socket === null || !socket.writable) return;
    // The tick's publishes and sends not yet written go first, or the marker would report them written.
    if (ws._shareBatch !== null) writeShare(ws);
    ws._sender?.flushBatch(undefined);
    // Made by watchDrain, which runs before any marker is written.
    socket.write(EMPTY_BUFFER, this.onMarkerWritten as (error?: Error | null) => void);
  }

  /** RFC 6455 section 7.4.1, 1008: the peer broke our policy by not reading what it is sent. */
  closeForLimit(): void {
    this.held = null;
    this.ws.close(CLOSE_POLICY_VIOLATION, LIMIT_REASON);
  }

  /** Stops reading a connection that is over its limit, until it drains. */
  pauseIfBehind(): void {
    if (this.readingPaused || !this.overLimit()) return;
    this.readingPaused = true;
    (this.ws._socket as NonNullable<WebSocket['_socket']>).pause();
    this.watchDrain();
  }

  stats(): BackpressureStats {
    return {
      dropped: this.dropped,
      conflated: this.conflated,
      held: this.held === null ? 0 : this.held.size,
      backpressured: this.waitingDrain,
      readingPaused: this.readingPaused,
    };
  }
}

function drained(state: ConnectionBackpressure): void {
  if (!state.waitingDrain) return;
  const ws = state.ws;
  const socket = ws._socket;
  if (socket === null || ws._readyState !== OPEN) {
    state.waitingDrain = false;
    state.held = null;
    return;
  }
  if (ws.bufferedAmount > 0) {
    // More was written since; wait for it too.
    if (!socket.writableNeedDrain) state.markEnd();
    return;
  }
  state.waitingDrain = false;
  const held = state.held;
  if (held !== null && held.size > 0) {
    state.held = null;
    socket.cork();
    for (const frame of held.values()) socket.write(frame);
    socket.uncork();
    if (state.statusAfterWrite() === SEND_BACKPRESSURE) return;
  }
  if (state.readingPaused) {
    state.readingPaused = false;
    if (!ws._paused) socket.resume();
  }
  ws.emit('drain');
}

/** The connection's limits from the server's (or the constructor's) options; null when none is asked for. */
export function createBackpressure(ws: WebSocket, options: BackpressureOptions): ConnectionBackpressure | null {
  validateBackpressureOptions(options);
  const limit = options.maxBackpressure ?? 0;
  const policy = options.slowConsumerPolicy;
  if (limit === 0 && policy === undefined) return null;
  const closeOnLimit = options.closeOnBackpressureLimit === true;
  return new ConnectionBackpressure(ws, limit, closeOnLimit, policy ?? (closeOnLimit ? 'close' : 'drop'));
}

/** Throws on a misused option (the server checks them once, when it is made). */
export function validateBackpressureOptions(options: BackpressureOptions): void {
  const limit = options.maxBackpressure ?? 0;
  if (typeof limit !== 'number' || !(limit >= 0)) {
    throw new RangeError(`maxBackpressure must be a number of bytes >= 0; got ${String(limit)}`);
  }
  if (options.slowConsumerPolicy !== undefined) checkPolicy(options.slowConsumerPolicy);
}

export function checkPolicy(policy: unknown): asserts policy is SlowConsumerPolicy {
  if (!POLICIES.includes(policy as SlowConsumerPolicy)) {
    throw new TypeError(`slowConsumerPolicy must be one of ${POLICIES.join(', ')}; got ${String(policy)}`);
  }
}

/** The connection's state, made (without a limit) the first time a connection without one needs it. */
export function backpressureOf(ws: WebSocket): ConnectionBackpressure {
  return (ws._backpressure ??= new ConnectionBackpressure(ws, 0, false, 'drop'));
}

/** ws.sendWithStatus: uWebSockets.js's send contract over ws's send. */
export function sendWithStatus(ws: WebSocket, data: WebSocketData, options?: WebSocketSendOptions): SendStatusValue {
  if (ws._readyState !== OPEN) {
    // While connecting, ws's send throws (API misuse); after close() nothing can go.
    if (ws._readyState === CONNECTING) ws.send(data, options);
    return SEND_DROPPED;
  }
  const state = backpressureOf(ws);
  if (state.overLimit()) {
    if (state.closeOnLimit) state.closeForLimit();
    else state.dropped++;
    return SEND_DROPPED;
  }
  ws.send(data, options);
  return state.statusAfterWrite();
}
