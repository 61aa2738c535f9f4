/**
 * The public WebSocket class, in both roles, with ws 8.23's behaviour (node_modules/ws/doc/ws.md):
 * the same events in the same order, the same readyState transitions, errors and messages.
 *
 * Contract with the server (src/websocket-server.ts), exactly ws's:
 *   const ws = new (options.WebSocket ?? WebSocket)(null, undefined, options);
 *     `options.autoPong` (default true), `options.closeTimeout` (ms, default 30000) and
 *     `options.maxPendingAutoPongs` (default 60) are read here;
 *   ws._protocol = '<the subprotocol chosen>';   ws._extensions = { <name>: <negotiated extension> };
 *   ws.setSocket(socket, head, { allowSynchronousEvents, maxBufferedChunks, maxFragments, maxPayload,
 *                                skipUTF8Validation });
 * A client is `new WebSocket(address, protocols, options)`; src/client/connect.ts runs its handshake.
 *
 * Closing (RFC 6455 section 7.1): close() sends a close frame and starts the close timer; a received
 * close frame is echoed. Once both frames went, the server ends TCP; the client waits for the server's
 * FIN (7.1.1: "the underlying TCP connection, in most normal cases, SHOULD be closed first by the
 * server"), and the close timer (closeTimeout) destroys the socket of a peer that does not answer. A
 * protocol error from the Receiver closes with that error's status code (7.1.7), then emits 'error'.
 *
 * Socket and Receiver listeners are module-level functions that reach their WebSocket through
 * `socket[kWebSocket]` (or the one ReceiverLink per connection): a connection costs no closures.
 *
 * permessage-deflate (RFC 7692), when negotiated, as ws's Sender: whether a message is compressed is
 * decided on its first fragment (the `compress` option, then the extension's threshold) and holds for
 * its other fragments; only the first frame carries RSV1 (section 6). While a deflate runs, every later
 * send, ping, pong and close waits behind it, so frames leave in the order they were asked for.
 */
import { EventEmitter } from 'events';
import type { ClientRequest } from 'http';
import type { Duplex } from 'stream';
import { BinaryData, MessageInflater, Receiver, ReceiverHandler } from './protocol/receiver';
import { GenerateMask, SendData, SendOptions, Sender, SocketLike, WriteCallback } from './protocol/sender';
import { BINARY_TYPES, BinaryType, CLOSE_NO_STATUS, EMPTY_BUFFER, MAX_CONTROL_PAYLOAD } from './protocol/constants';
import { encodeCloseBody } from './protocol/close-frame';
import { kStatusCode } from './protocol/errors';
import { TimerHandle, timerWheel } from './timers/timer-wheel';
import { useListenerTable } from './listener-table';
import { ConnectionTimerOptions, ConnectionTimers, createConnectionTimers } from './timers/connection-timers';
import {
  CloseEvent,
  Event,
  MessageEvent,
  ErrorEvent,
  EventListener,
  EventType,
  addEventListener,
  getEventAttribute,
  removeEventListener,
  setEventAttribute,
} from './event-target';
import { ClientOptions, abortHandshake, initAsClient } from './client/connect';
import type { PerMessageDeflate } from './extensions/permessage-deflate';
import {
  ConnectionBackpressure,
  backpressureOf,
  checkPolicy,
  createBackpressure,
  sendWithStatus,
} from './backpressure/connection-backpressure';
import type { BackpressureOptions, BackpressureStats, SendStatusValue, SlowConsumerPolicy } from './backpressure/send-status';
import { TopicRegistry, registryOf } from './pubsub/topic-registry';
import { TopicBatch, shareBytes, writeShare } from './pubsub/topic-batch';
import { heldPublishedBytes, releaseHeldPublishes } from './pubsub/held-publishes';
import type { PublishOptions } from './pubsub/publish-batch';

/** Where a socket keeps its WebSocket (ws's kWebSocket). */
export const kWebSocket: unique symbol = Symbol('websocket');

/** ws's CLOSE_TIMEOUT: how long close() waits for the peer, in milliseconds. */
export const CLOSE_TIMEOUT = 30_000;
/** ws 8.23's maxPendingAutoPongs default: pings answered but not yet written before we give up. */
export const MAX_PENDING_AUTO_PONGS = 60;

const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** The options the constructor reads in both roles (ws: the server's and the client's options). */
export interface WebSocketOptions extends ConnectionTimerOptions, BackpressureOptions {
  /** Answer every ping with a pong (RFC 6455 5.5.2). Default true. ws: autoPong. */
  autoPong?: boolean;
  /** Milliseconds close() waits for the closing handshake before destroying the socket. Default 30000. */
  closeTimeout?: number;
  /** Automatic pongs not yet written before the connection is terminated; 0 = no limit. Default 60. */
  maxPendingAutoPongs?: number;
}

/** What setSocket receives (ws's private setSocket options). */
export interface SetSocketOptions {
  /** Emit several message/ping/pong events in one tick. Default true. */
  allowSynchronousEvents?: boolean;
  /** Masking keys from this function instead of the crypto pool (client only). */
  generateMask?: GenerateMask;
  /** Chunks held for one unfinished frame; 0 = no limit. */
  maxBufferedChunks?: number;
  /** Frames per message; 0 = no limit. */
  maxFragments?: number;
  /** Largest message in bytes; 0 = no limit. */
  maxPayload?: number;
  /** Skip the UTF-8 check of text messages and close reasons. Default false. */
  skipUTF8Validation?: boolean;
}

/** ws's send options. */
export interface WebSocketSendOptions {
  /** Default: true unless data is a string. */
  binary?: boolean;
  /**
   * Compress the message with the negotiated permessage-deflate (RFC 7692). Read on the first fragment
   * of a message; its other fragments follow it. Ignored when the extension was not negotiated.
   * Default true (ws): messages under the extension's `threshold` still go uncompressed when our side
   * starts each message from an empty window.
   */
  compress?: boolean;
  /** Last fragment of the message (RFC 6455 5.4). Default true. */
  fin?: boolean;
  /** Default: true for a client, false for a server (5.3). */
  mask?: boolean;
}

/** What send/ping/pong accept: ws's types, plus Buffer fragments (binaryType 'fragments'), sent joined. */
export type WebSocketData = SendData | readonly Buffer[] | Blob | number | null | undefined;

type WsSocket = Duplex & {
  [kWebSocket]?: WebSocket;
  setTimeout?: (ms: number) => void;
  setNoDelay?: (noDelay?: boolean) => void;
};

/**
 * The extensions of a connection that negotiated none: one frozen object for all of them (the server
 * and the client handshake assign a fresh object when something was negotiated).
 */
const NO_EXTENSIONS: Record<string, unknown> = Object.freeze({});

/** Reused for every send: the Sender reads its options synchronously (no object per send). */
const sendOptions: SendOptions = { binary: false, fin: true, mask: false, rsv1: false };

export class WebSocket extends EventEmitter {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  /**
   * @internal The fields below are ws's; the server and src/client/connect.ts use some of them. Every
   * field costs each connection 8 bytes: the booleans are bits of `_flags` (see FLAGS below), and
   * state most connections never need is made when first needed.
   */
  _binaryType: BinaryType = 'nodebuffer';
  /** @internal The booleans below, one bit each. */
  _flags = 0;
  /** @internal */ declare _closeFrameReceived: boolean;
  /** @internal */ declare _closeFrameSent: boolean;
  /** @internal */ declare _errorEmitted: boolean;
  /** @internal */ declare _paused: boolean;
  /** @internal The Receiver failed the connection (ws: receiver errorEmitted). */
  declare _receiverFailed: boolean;
  /** @internal */ declare _isServer: boolean;
  /** @internal */ declare _autoPong: boolean;
  /** @internal A message was begun with fin: false and not finished (ws's !sender._firstFragment). */
  declare _inMessage: boolean;
  /** @internal Whether the message being sent is compressed: decided on its first fragment (ws's sender._compress). */
  declare _compressMessage: boolean;
  /** @internal Corked until the end of the tick by a publish (src/backpressure/tick-cork.ts). */
  declare _tickCorked: boolean;
  /** @internal Publishes wait for the end of this connection's fragmented message (src/pubsub/held-publishes.ts). */
  declare _holdingPublishes: boolean;
  /** @internal */ _closeCode = 1006;
  /** @internal */ _closeMessage: Buffer = EMPTY_BUFFER;
  /** @internal Negotiated extensions by name (set by the server or the client handshake). */
  _extensions: Record<string, unknown> = NO_EXTENSIONS;
  /** @internal The negotiated subprotocol (set by the server or the client handshake). */
  _protocol = '';
  /** @internal */ _readyState: number = CONNECTING;
  /** @internal */ _receiver: Receiver | null = null;
  /** @internal */ _sender: Sender | null = null;
  /** @internal */ _socket: WsSocket | null = null;
  /** @internal */ _url: string | undefined = undefined;
  /** @internal The client's handshake request, while it runs. */
  _req: ClientRequest | null = null;
  /** @internal */ _redirects = 0;
  /** @internal The wheel timer's node, made on first use (most server connections never close from our side). */
  _timerHandle: TimerHandle<WebSocket> | null = null;
  /** @internal */ _closeTimeout: number;
  /** @internal idleTimeout, automatic pings and maxLifetime on the wheel; null when all are off. */
  _timers: ConnectionTimers | null;
  /** @internal */ _pendingAutoPongs = 0;
  /** @internal */ _maxPendingAutoPongs: number;
  /** @internal Sends waiting behind a Blob being read (ws's Sender queue); null when none. */
  _sendQueue: QueuedSend[] | null = null;
  /**
   * @internal Bytes of Blobs being read, of the message being deflated, and of queued sends (ws's
   * sender._bufferedBytes); with no socket ever set, the bytes sent after close (ws's _bufferedAmount).
   */
  _queuedBytes = 0;
  /** @internal The negotiated permessage-deflate, read from _extensions by setSocket; null when none. */
  _deflate: PerMessageDeflate | null = null;
  /** @internal Topics this connection subscribed to; null when none (src/pubsub). */
  _topics: Set<string> | null = null;
  /** @internal The registry of the server that accepted it; null: the process-wide one. */
  _topicRegistry: TopicRegistry | null = null;
  /** @internal maxBackpressure and its companions; null while unused (src/backpressure). */
  _backpressure: ConnectionBackpressure | null;
  /** @internal The batch holding this connection's unwritten share of the tick's publishes, from _shareStart (src/pubsub/topic-batch.ts). */
  _shareBatch: TopicBatch | null = null;
  /** @internal */ _shareStart = 0;

  constructor(
    address: string | URL | null,
    protocols?: string | string[] | (ClientOptions & WebSocketOptions),
    options?: ClientOptions & WebSocketOptions,
  ) {
    super();
    useListenerTable(this);
    let resolved: WebSocketOptions;
    if (address !== null) {
      this._isServer = false;
      // The client handshake adds what the server accepted to this object (src/client/connect.ts).
      this._extensions = {};
      let list: string[];
      if (protocols === undefined || protocols === null) {
        list = toList(options?.protocols);
      } else if (Array.isArray(protocols)) {
        list = protocols;
      } else if (typeof protocols === 'object') {
        options = protocols;
        list = toList(options.protocols);
      } else {
        list = [protocols];
      }
      resolved = initAsClient(this, address, list, options);
    } else {
      this._isServer = true;
      resolved = options ?? {};
    }
    this._autoPong = resolved.autoPong !== false;
    this._maxPendingAutoPongs = (resolved.maxPendingAutoPongs ?? MAX_PENDING_AUTO_PONGS) | 0;
    this._closeTimeout = resolved.closeTimeout ?? CLOSE_TIMEOUT;
    this._timers = createConnectionTimers(this, resolved);
    this._backpressure = createBackpressure(this, resolved);
  }

  /** @internal One wheel timer per connection: the handshake timeout, then the close timeout. */
  get _timer(): TimerHandle<WebSocket> {
    return (this._timerHandle ??= new TimerHandle<WebSocket>(onTimer, this));
  }

  /** 'nodebuffer' (default, for historical reasons as in ws), 'arraybuffer', 'fragments' or 'blob'. */
  get binaryType(): BinaryType {
    return this._binaryType;
  }

  set binaryType(type: BinaryType) {
    if (!BINARY_TYPES.includes(type)) return;
    this._binaryType = type;
    // ws lets binaryType change on the fly: the next message uses it.
    if (this._receiver !== null) this._receiver.binaryType = type;
  }

  /** Bytes accepted by send() and not yet handed to the network. */
  get bufferedAmount(): number {
    if (this._socket === null) return this._queuedBytes;
    // Frames gathered for this chunk's one write, or held in the backlog until the tick ends, count too.
    const held = this._sender === null ? 0 : this._sender.heldBytes;
    return this._socket.writableLength + held + this._queuedBytes + shareBytes(this) + heldPublishedBytes(this);
  }

  /** The negotiated extensions, comma-separated. */
  get extensions(): string {
    return Object.keys(this._extensions).join();
  }

  get isPaused(): boolean {
    return this._paused;
  }

  get protocol(): string {
    return this._protocol;
  }

  get readyState(): number {
    return this._readyState;
  }

  /** The URL the client connected to; undefined for a server-side WebSocket. */
  get url(): string {
    return this._url as string;
  }

  get onopen(): ((event: Event) => void) | null {
    return getEventAttribute(this, 'open') as ((event: Event) => void) | null;
  }
  set onopen(handler: ((event: Event) => void) | null) {
    setEventAttribute(this, 'open', handler);
  }
  get onmessage(): ((event: MessageEvent) => void) | null {
    return getEventAttribute(this, 'message') as ((event: MessageEvent) => void) | null;
  }
  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    setEventAttribute(this, 'message', handler);
  }
  get onclose(): ((event: CloseEvent) => void) | null {
    return getEventAttribute(this, 'close') as ((event: CloseEvent) => void) | null;
  }
  set onclose(handler: ((event: CloseEvent) => void) | null) {
    setEventAttribute(this, 'close', handler);
  }
  get onerror(): ((event: ErrorEvent) => void) | null {
    return getEventAttribute(this, 'error') as ((event: ErrorEvent) => void) | null;
  }
  set onerror(handler: ((event: ErrorEvent) => void) | null) {
    setEventAttribute(this, 'error', handler);
  }

  addEventListener(type: EventType | string, listener: EventListener, options?: { once?: boolean }): void {
    addEventListener.call(this, type, listener, options);
  }

  removeEventListener(type: EventType | string, listener: EventListener): void {
    removeEventListener.call(this, type, listener);
  }

  /** Takes over an upgraded socket: from here on frames flow. Called by the server and the client. */
  setSocket(socket: Duplex, head: Buffer, options: SetSocketOptions): void {
    const ws = socket as WsSocket;
    const receiver = new Receiver(new ReceiverLink(this), {
      allowSynchronousEvents: options.allowSynchronousEvents,
      binaryType: this._binaryType,
      isServer: this._isServer,
      maxBufferedChunks: options.maxBufferedChunks,
      maxFragments: options.maxFragments,
      maxPayload: options.maxPayload,
      // The permessage-deflate hook (RFC 7692): a negotiated extension inflates what arrives.
      perMessageDeflate: this._extensions['permessage-deflate'] as MessageInflater | undefined,
      skipUTF8Validation: options.skipUTF8Validation,
    });
    this._receiver = receiver;
    this._deflate = (this._extensions['permessage-deflate'] as PerMessageDeflate | undefined) ?? null;
    this._sender = new Sender(ws as SocketLike, this._extensions, options.generateMask);
    this._socket = ws;
    ws[kWebSocket] = this;

    // A plain Duplex has neither.
    if (typeof ws.setTimeout === 'function') ws.setTimeout(0);
    if (typeof ws.setNoDelay === 'function') ws.setNoDelay();

    if (head.length > 0) ws.unshift(head);

    ws.on('close', socketOnClose);
    ws.on('data', socketOnData);
    ws.on('end', socketOnEnd);
    ws.on('error', socketOnError);

    this._readyState = OPEN;
    if (this._timers !== null) this._timers.start();
    this.emit('open');
  }

  /** @internal Emits 'close' with the code and reason the closing handshake left (ws's emitClose). */
  emitClose(): void {
    // Before CLOSED, as ws: the callbacks of a deflate that cleanup() cuts short see CLOSING.
    if (this._socket !== null) {
      const extension = this._extensions['permessage-deflate'] as { cleanup?: () => void } | undefined;
      if (extension !== undefined && typeof extension.cleanup === 'function') extension.cleanup();
    }
    this._readyState = CLOSED;
    this.emit('close', this._closeCode, this._closeMessage);
  }

  /**
   * Starts the closing handshake (RFC 6455 section 7.1.2), or, when it is already under way, ends TCP
   * once both close frames went. Throws on an invalid code or a reason over 123 bytes, as ws.
   */
  close(code?: number, reason?: string | Buffer): void {
    if (this._readyState === CLOSED) return;
    if (this._readyState === CONNECTING) {
      abortHandshake(this, this._req, 'WebSocket was closed before the connection was established');
      return;
    }
    const socket = this._socket as WsSocket;
    if (this._readyState === CLOSING) {
      if (this._closeFrameSent && (this._closeFrameReceived || this._receiverFailed)) socket.end();
      return;
    }
    if (this._shareBatch !== null) writeShare(this);
    if (this._sendQueue !== null) {
      encodeCloseBody(code, reason);
      this._sendQueue.push({
        op: OP_CLOSE,
        data: reason,
        code,
        binary: false,
        fin: true,
        mask: !this._isServer,
        compress: false,
        cb: undefined,
      });
    } else {
      (this._sender as Sender).close(code, reason, !this._isServer, (error) => closeFrameWritten(this, error));
    }
    this._readyState = CLOSING;
    timerWheel.schedule(this._timer, this._closeTimeout);
  }

  /** Stops reading from the socket (its 'data' events); the peer sees TCP backpressure. */
  pause(): void {
    if (this._readyState === CONNECTING || this._readyState === CLOSED) return;
    this._paused = true;
    (this._socket as WsSocket).pause();
  }

  resume(): void {
    if (this._readyState === CONNECTING || this._readyState === CLOSED) return;
    this._paused = false;
    (this._socket as WsSocket).resume();
  }

  /** Sends a ping (RFC 6455 5.5.2); data is at most 125 bytes. */
  ping(data?: WebSocketData | WriteCallback, mask?: boolean | WriteCallback, cb?: WriteCallback): void {
    this.control(OP_PING, data, mask, cb);
  }

  /** Sends an unsolicited pong (RFC 6455 5.5.3, a unidirectional heartbeat). */
  pong(data?: WebSocketData | WriteCallback, mask?: boolean | WriteCallback, cb?: WriteCallback): void {
    this.control(OP_PONG, data, mask, cb);
  }

  /**
   * Sends a message, or a fragment of one with `fin: false` (RFC 6455 5.4). `cb` runs when the data
   * is written, or with an error. A Blob is read, and a compressed message deflated, first; what is
   * sent meanwhile waits behind it, as ws.
   */
  send(data: WebSocketData, options?: WebSocketSendOptions | WriteCallback, cb?: WriteCallback): void {
    if (this._readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    else if (isFragments(data)) data = joinArray(data);
    if (this._readyState !== OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    const binary = options?.binary ?? typeof data !== 'string';
    const fin = options?.fin ?? true;
    const mask = options?.mask ?? !this._isServer;
    const payload = data || EMPTY_BUFFER;
    const compress = this._deflate !== null && this.compressFragment(payload, options?.compress ?? true, fin);
    // What the tick's publishes gave this connection so far goes first (src/pubsub/topic-batch.ts).
    if (this._shareBatch !== null) writeShare(this);
    if (this._sendQueue !== null) {
      this.enqueue(OP_SEND, payload, binary, fin, mask, cb, compress);
    } else if (isBlob(payload)) {
      readBlob(this, { op: OP_SEND, data: payload, code: undefined, binary, fin, mask, compress, cb });
    } else if (compress) {
      deflate(this, { op: OP_SEND, data: payload, code: undefined, binary, fin, mask, compress, cb });
    } else {
      sendOptions.binary = binary;
      sendOptions.fin = fin;
      sendOptions.mask = mask;
      sendOptions.rsv1 = false;
      (this._sender as Sender).send(payload, sendOptions, cb);
      if (fin && this._holdingPublishes) releaseHeldPublishes(this);
    }
  }

  /**
   * RFC 7692 section 6: a message is compressed as a whole or not at all, so the first fragment decides
   * (the caller's `compress`, then the extension's threshold) and the others follow it.
   */
  private compressFragment(payload: SendData | Blob, compress: boolean, fin: boolean): boolean {
    if (!this._inMessage) {
      this._compressMessage =
        compress && (this._deflate as PerMessageDeflate).shouldCompress(isBlob(payload) ? payload.size : byteLength(payload));
    }
    this._inMessage = !fin;
    return this._compressMessage;
  }

  /** Destroys the socket at once, without a closing handshake. */
  terminate(): void {
    if (this._readyState === CLOSED) return;
    if (this._readyState === CONNECTING) {
      abortHandshake(this, this._req, 'WebSocket was closed before the connection was established');
      return;
    }
    if (this._socket !== null) {
      this._readyState = CLOSING;
      this._socket.destroy();
    }
  }

  // ---- Beyond ws (uWebSockets.js's shape), opt-in: pub/sub, send status, corking ----

  /** Subscribes this (server-side) connection to `topic`; false if it already was or is not open. */
  subscribe(topic: string): boolean {
    if (typeof topic !== 'string') throw new TypeError('The topic must be a string');
    // Published frames are shared and unmasked: a client must mask each frame with its own key (5.3).
    if (!this._isServer) throw new Error('Only server-side connections can subscribe to topics');
    if (this._readyState !== OPEN) return false;
    // A publish's share is written to the socket itself (src/pubsub/topic-batch.ts), not through the
    // Sender: what this chunk gathered must leave before it.
    if (this._sender !== null) this._sender.endBatch();
    return registryOf(this).subscribe(this, topic);
  }

  /** False if it was not subscribed. */
  unsubscribe(topic: string): boolean {
    return registryOf(this).unsubscribe(this, topic);
  }

  isSubscribed(topic: string): boolean {
    return this._topics !== null && this._topics.has(topic);
  }

  getTopics(): string[] {
    return this._topics === null ? [] : [...this._topics];
  }

  /** Publishes to every other subscriber of `topic` (see WebSocketServer#publish). */
  publish(topic: string, data: SendData, options?: PublishOptions): boolean {
    return registryOf(this).publish(topic, data, options, this);
  }

  /**
   * send() that reports SendStatus: SUCCESS, BACKPRESSURE (sent; now over maxBackpressure, or the
   * socket's highWaterMark without one: wait for 'drain') or DROPPED (not sent: over maxBackpressure,
   * which closes with 1008 under closeOnBackpressureLimit, or not open).
   */
  sendWithStatus(data: WebSocketData, options?: WebSocketSendOptions): SendStatusValue {
    return sendWithStatus(this, data, options);
  }

  /** Runs `fn`; everything it sends on this connection leaves in one write. */
  cork(fn: () => void): this {
    const socket = this._socket;
    if (socket === null) {
      fn();
      return this;
    }
    socket.cork();
    try {
      fn();
    } finally {
      socket.uncork();
    }
    return this;
  }

  /** What maxBackpressure did to this connection so far (a snapshot). */
  get backpressureStats(): BackpressureStats {
    return backpressureOf(this).stats();
  }

  /** What a publish does when this connection is over maxBackpressure. */
  get slowConsumerPolicy(): SlowConsumerPolicy {
    return this._backpressure === null ? 'drop' : this._backpressure.policy;
  }

  set slowConsumerPolicy(policy: SlowConsumerPolicy) {
    checkPolicy(policy);
    backpressureOf(this).policy = policy;
  }

  private control(
    op: number,
    data: WebSocketData | WriteCallback,
    mask: boolean | WriteCallback | undefined,
    cb: WriteCallback | undefined,
  ): void {
    if (this._readyState === CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    if (typeof data === 'function') {
      cb = data;
      data = mask = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
      mask = undefined;
    }
    if (typeof data === 'number') data = data.toString();
    else if (isFragments(data)) data = joinArray(data);
    if (this._readyState !== OPEN) {
      sendAfterClose(this, data, cb);
      return;
    }
    const masked = mask ?? !this._isServer;
    const payload = data || EMPTY_BUFFER;
    const blob = isBlob(payload);
    // Section 5.5: control payloads are at most 125 bytes; checked now even when the frame waits.
    if ((blob ? payload.size : byteLength(payload)) > MAX_CONTROL_PAYLOAD) {
      throw new RangeError('The data size must not be greater than 125 bytes');
    }
    if (this._shareBatch !== null) writeShare(this);
    if (this._sendQueue !== null) {
      this.enqueue(op, payload, false, true, masked, cb, false);
    } else if (blob) {
      readBlob(this, { op, data: payload, code: undefined, binary: false, fin: true, mask: masked, compress: false, cb });
    } else if (op === OP_PING) {
      (this._sender as Sender).ping(payload, masked, cb);
    } else {
      (this._sender as Sender).pong(payload, masked, cb);
    }
  }

  private enqueue(
    op: number,
    data: SendData | Blob,
    binary: boolean,
    fin: boolean,
    mask: boolean,
    cb: WriteCallback | undefined,
    compress: boolean,
  ): void {
    const queue = this._sendQueue as QueuedSend[];
    queue.push({ op, data, code: undefined, binary, fin, mask, compress, cb });
    this._queuedBytes += isBlob(data) ? data.size : byteLength(data);
  }
}

for (const [name, value] of [
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSING', CLOSING],
  ['CLOSED', CLOSED],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value });
}
// ws makes these accessors enumerable.
for (const name of [
  'binaryType',
  'bufferedAmount',
  'extensions',
  'isPaused',
  'protocol',
  'readyState',
  'url',
  'onopen',
  'onerror',
  'onclose',
  'onmessage',
]) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}

/**
 * The booleans of a WebSocket are bits of its `_flags`: one field instead of one per boolean (with
 * ten of them, 72 bytes less per connection). Each is read and written under its own name (ws's, where ws has it) through accessors.
 */
const FLAGS = [
  '_closeFrameReceived',
  '_closeFrameSent',
  '_errorEmitted',
  '_paused',
  '_receiverFailed',
  '_isServer',
  '_autoPong',
  '_inMessage',
  '_compressMessage',
  '_tickCorked',
  '_holdingPublishes',
] as const satisfies readonly (keyof WebSocket)[];
FLAGS.forEach((name, bit) => {
  const mask = 1 << bit;
  Object.defineProperty(WebSocket.prototype, name, {
    configurable: true,
    get(this: WebSocket): boolean {
      return (this._flags & mask) !== 0;
    },
    set(this: WebSocket, value: boolean): void {
      this._flags = value ? this._flags | mask : this._flags & ~mask;
    },
  });
});

function toList(protocols: string | string[] | undefined): string[] {
  if (protocols === undefined) return [];
  return Array.isArray(protocols) ? protocols : [protocols];
}

/** ws's isBlob: a Blob or a File. */
function isBlob(value: unknown): value is Blob {
  return value instanceof Blob;
}

function byteLength(data: SendData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  return Buffer.from(data as unknown as string).length;
}

/** An array: fragments received with binaryType 'fragments' (joined), or bytes as numbers (as ws's Buffer.from). */
function isFragments(data: unknown): data is readonly Buffer[] {
  return Array.isArray(data);
}

function joinArray(data: readonly Buffer[]): Buffer {
  return data.every((part) => Buffer.isBuffer(part)) ? Buffer.concat(data) : Buffer.from(data as unknown as number[]);
}

/**
 * send/ping/pong after close() (readyState CLOSING or CLOSED): nothing is sent, the bytes count in
 * bufferedAmount and the callback gets an error, as ws.
 */
function sendAfterClose(ws: WebSocket, data: WebSocketData, cb: WriteCallback | undefined): void {
  if (data) {
    const length = isBlob(data) ? data.size : byteLength(data as SendData);
    ws._queuedBytes += length;
  }
  if (cb !== undefined) {
    const state = ws._readyState;
    process.nextTick(cb, new Error(`WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`));
  }
}

/** What close()'s frame callback does: ws's rule for who ends TCP, with the client waiting (7.1.1). */
function closeFrameWritten(ws: WebSocket, error: Error | null | undefined): void {
  // A write error reaches the socket's 'error' listener; only a written frame counts.
  if (error) return;
  ws._closeFrameSent = true;
  if (ws._receiverFailed || (ws._closeFrameReceived && ws._isServer)) (ws._socket as WsSocket).end();
}

/** The wheel timer: during the handshake it is handshakeTimeout, afterwards closeTimeout. */
function onTimer(ws: WebSocket): void {
  if (ws._readyState === CONNECTING) {
    abortHandshake(ws, ws._req, 'Opening handshake has timed out');
  } else if (ws._socket !== null) {
    ws._socket.destroy();
  }
}

// ---- Sends that wait: Blobs and deflates (ws 8.23's Sender: GET_BLOB_DATA and DEFLATING, one queue) ----

const OP_SEND = 0;
const OP_PING = 1;
const OP_PONG = 2;
const OP_CLOSE = 3;

/** A send waiting for a Blob or a deflate ahead of it. */
interface QueuedSend {
  op: number;
  data: SendData | Blob | undefined;
  /** The close code (OP_CLOSE only). */
  code: number | undefined;
  binary: boolean;
  fin: boolean;
  mask: boolean;
  /** Deflate this fragment and set RSV1 on the message's first frame (OP_SEND only; RFC 7692 section 6). */
  compress: boolean;
  cb: WriteCallback | undefined;
}

/** Reads a Blob, then sends it and whatever queued behind it; frames keep their order. */
function readBlob(ws: WebSocket, send: QueuedSend): void {
  const blob = send.data as Blob;
  ws._sendQueue ??= [];
  ws._queuedBytes += blob.size;
  blob.arrayBuffer().then(
    (contents) => blobRead(ws, send, blob.size, contents),
    (error: Error) => process.nextTick(sendFailed, ws, error, send.cb),
  );
}

function blobRead(ws: WebSocket, send: QueuedSend, size: number, contents: ArrayBuffer): void {
  const socket = ws._socket as WsSocket;
  if (socket.destroyed) {
    // Next tick, so that an error thrown by a callback is not swallowed by the promise.
    process.nextTick(callQueuedCallbacks, ws, new Error('The socket was closed while the blob was being read'), send.cb);
    return;
  }
  ws._queuedBytes -= size;
  const read: QueuedSend = { ...send, data: Buffer.from(contents) };
  if (read.compress) {
    // The queue keeps waiting, now for the deflate.
    deflate(ws, read);
  } else {
    dispatch(ws, read);
    drain(ws);
  }
}

/**
 * Deflates one fragment (RFC 7692 section 7.2.1), then frames it. The send queue exists while it runs,
 * so every later send, ping, pong and close waits: frames leave in call order (ws's DEFLATING state).
 */
function deflate(ws: WebSocket, send: QueuedSend): void {
  ws._sendQueue ??= [];
  ws._queuedBytes += byteLength(send.data as SendData);
  const input = toDeflateInput(send.data as SendData);
  // A closure per compressed fragment (as ws's), not two fields on every connection: zlib's work dwarfs it.
  (ws._deflate as PerMessageDeflate).compress(input, send.fin, (error, result) => deflated(ws, send, error, result));
}

/** zlib takes strings and Buffers; other views are wrapped, never copied. */
function toDeflateInput(data: SendData): Buffer | string {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as unknown as string);
}

function deflated(ws: WebSocket, send: QueuedSend, error: Error | null, result: Buffer | undefined): void {
  const socket = ws._socket as WsSocket;
  if (socket.destroyed) {
    // ws's message, whatever the extension said (cleanup() on close reports its own).
    callQueuedCallbacks(ws, new Error('The socket was closed while data was being compressed'), send.cb);
    return;
  }
  if (error !== null) {
    // The deflate stream's window is lost: later messages could not be inflated, so the connection ends.
    sendFailed(ws, error, send.cb);
    return;
  }
  ws._queuedBytes -= byteLength(send.data as SendData);
  sendOptions.binary = send.binary;
  sendOptions.fin = send.fin;
  sendOptions.mask = send.mask;
  // RFC 7692 section 6: RSV1 marks a compressed message; the Sender sets it on the first frame only.
  sendOptions.rsv1 = true;
  (ws._sender as Sender).send(result as Buffer, sendOptions, send.cb);
  if (send.fin && ws._holdingPublishes) releaseHeldPublishes(ws);
  drain(ws);
}

/** Sends what waited, in order, until the queue is empty or a send must wait again (a Blob, a deflate). */
function drain(ws: WebSocket): void {
  const queue = ws._sendQueue as QueuedSend[];
  ws._sendQueue = null;
  for (let index = 0; index < queue.length; index++) {
    const waiting = ws._sendQueue as QueuedSend[] | null;
    if (waiting !== null) {
      for (let rest = index; rest < queue.length; rest++) waiting.push(queue[rest]);
      return;
    }
    const next = queue[index];
    if (next.data !== undefined && next.op !== OP_CLOSE) {
      ws._queuedBytes -= isBlob(next.data) ? next.data.size : byteLength(next.data);
    }
    if (isBlob(next.data)) readBlob(ws, next);
    else dispatch(ws, next);
  }
}

function dispatch(ws: WebSocket, send: QueuedSend): void {
  const sender = ws._sender as Sender;
  const data = send.data as SendData;
  if (send.op === OP_SEND) {
    if (send.compress) {
      deflate(ws, send);
      return;
    }
    sendOptions.binary = send.binary;
    sendOptions.fin = send.fin;
    sendOptions.mask = send.mask;
    sendOptions.rsv1 = false;
    sender.send(data, sendOptions, send.cb);
    if (send.fin && ws._holdingPublishes) releaseHeldPublishes(ws);
  } else if (send.op === OP_PING) {
    sender.ping(data, send.mask, send.cb);
  } else if (send.op === OP_PONG) {
    sender.pong(data, send.mask, send.cb);
  } else {
    sender.close(send.code, data as string | Buffer | undefined, send.mask, (error) => closeFrameWritten(ws, error));
  }
}

function callQueuedCallbacks(ws: WebSocket, error: Error, cb: WriteCallback | undefined): void {
  if (cb !== undefined) cb(error);
  for (const queued of ws._sendQueue ?? []) if (queued.cb !== undefined) queued.cb(error);
}

/** A Blob could not be read or a deflate failed: every waiting callback gets the error, then the connection ends (ws). */
function sendFailed(ws: WebSocket, error: Error, cb: WriteCallback | undefined): void {
  callQueuedCallbacks(ws, error, cb);
  if (ws._readyState === CLOSED) return;
  if (ws._readyState === OPEN) {
    ws._readyState = CLOSING;
    timerWheel.schedule(ws._timer, ws._closeTimeout);
  }
  // end(), not destroy(): the peer may still finish sending what it queued. What was sent before goes first.
  ws._sender?.flushBatch(undefined);
  (ws._socket as WsSocket).end();
  if (!ws._errorEmitted) {
    ws._errorEmitted = true;
    ws.emit('error', error);
  }
}

// ---- Receiver events (RFC 6455 sections 5.5 and 5.6) ----

/** The Receiver's handler: one small object per connection, its methods on the prototype. */
class ReceiverLink implements ReceiverHandler {
  constructor(private readonly ws: WebSocket) {}

  onMessage(data: Buffer | BinaryData, isBinary: boolean): void {
    // After 'close' nothing more is emitted (ws removes the Receiver's listeners).
    if (this.ws._readyState !== CLOSED) this.ws.emit('message', data, isBinary);
  }

  onPing(data: Buffer): void {
    const ws = this.ws;
    if (ws._readyState === CLOSED) return;
    // Section 5.5.2: a ping is answered with a pong carrying the same data, while open.
    if (ws._autoPong && ws._readyState === OPEN) {
      if (ws._maxPendingAutoPongs > 0 && ws._pendingAutoPongs >= ws._maxPendingAutoPongs) {
        ws.terminate();
      } else {
        ws._pendingAutoPongs++;
        ws.pong(data, !ws._isServer, autoPongCallback(ws));
      }
    }
    ws.emit('ping', data);
  }

  onPong(data: Buffer): void {
    if (this.ws._readyState !== CLOSED) this.ws.emit('pong', data);
  }

  /** Section 5.5.1: a close frame is echoed with its code (none when it had none). */
  onClose(code: number, reason: Buffer): void {
    const ws = this.ws;
    ws._closeFrameReceived = true;
    ws._closeCode = code;
    // The reason is a view of the socket's chunk: a copy of its own keeps that chunk from being held.
    if (reason.length === 0) {
      ws._closeMessage = EMPTY_BUFFER;
    } else {
      ws._closeMessage = Buffer.allocUnsafeSlow(reason.length);
      ws._closeMessage.set(reason);
    }
    const socket = ws._socket as WsSocket;
    if (socket[kWebSocket] === undefined) return;
    // Nothing is read after a close frame, but the socket must flow to see the peer's FIN.
    socket.removeListener('data', socketOnData);
    process.nextTick(resumeSocket, socket);
    if (ws._readyState === CLOSING) {
      // Our close frame went first: this is the answer. The server ends TCP; the client waits (7.1.1).
      if (ws._closeFrameSent && ws._isServer) socket.end();
    } else if (code === CLOSE_NO_STATUS) {
      ws.close();
    } else {
      ws.close(code, reason);
    }
  }

  /** Section 7.1.7: fail the connection with the error's close code, then report it. */
  onError(error: Error): void {
    const ws = this.ws;
    ws._receiverFailed = true;
    const socket = ws._socket as WsSocket;
    if (socket[kWebSocket] !== undefined) {
      socket.removeListener('data', socketOnData);
      process.nextTick(resumeSocket, socket);
      ws.close((error as Error & { [kStatusCode]?: number })[kStatusCode]);
    }
    if (!ws._errorEmitted) {
      ws._errorEmitted = true;
      ws.emit('error', error);
    }
  }

}

/**
 * The write callback of an automatic pong (ws's autoPongComplete). One per pong: pings are rare, and
 * keeping it would cost every connection a field.
 */
function autoPongCallback(ws: WebSocket): WriteCallback {
  return () => {
    ws._pendingAutoPongs--;
  };
}

// ---- Socket listeners ----

function resumeSocket(socket: Duplex): void {
  socket.resume();
}

function socketOnData(this: WsSocket, chunk: Buffer): void {
  const ws = this[kWebSocket] as WebSocket;
  // Whatever arrives, pongs included, resets idleness (idleTimeout).
  if (ws._timers !== null) ws._timers.touch();
  const sender = ws._sender as Sender;
  // The small frames this chunk calls for (echoes, pongs) are gathered into one write. A subscribed
  // connection does not gather: its share of the publishes is written to the socket itself, and must not
  // overtake earlier sends (subscribe ends the gathering for the same reason).
  if (ws._topics === null) sender.startBatch();
  // Per-chunk corking: every write made while this chunk is handled leaves in one syscall.
  this.cork();
  try {
    (ws._receiver as Receiver).push(chunk);
  } finally {
    sender.endBatch();
    this.uncork();
  }
  if (ws._backpressure !== null && ws._backpressure.limit > 0) ws._backpressure.pauseIfBehind();
}

/** The peer's FIN: answer with ours (RFC 6455 7.1.1, the TCP half of the closing handshake). */
function socketOnEnd(this: WsSocket): void {
  const ws = this[kWebSocket] as WebSocket;
  // Frames sent or published to it earlier in this tick still go out, before our FIN.
  if (ws._shareBatch !== null) writeShare(ws);
  ws._sender?.flushBatch(undefined);
  ws._readyState = CLOSING;
  // A second end() on a finished socket only builds an error (with its stack trace) that nobody sees.
  if (!this.writableEnded && !this.destroyed) this.end();
}

function socketOnError(this: WsSocket): void {
  const ws = this[kWebSocket];
  this.removeListener('error', socketOnError);
  // Later errors of a dying socket are expected; without a listener they would throw.
  this.on('error', noop);
  if (ws !== undefined) {
    ws._readyState = CLOSING;
    this.destroy();
  }
}

function socketOnClose(this: WsSocket): void {
  const ws = this[kWebSocket] as WebSocket;
  this.removeListener('close', socketOnClose);
  this.removeListener('data', socketOnData);
  this.removeListener('end', socketOnEnd);
  ws._readyState = CLOSING;
  // A paused socket may hold bytes never read; they may complete a message or hold the close frame.
  if (!this.readableEnded && !ws._closeFrameReceived && !ws._receiverFailed && this.readableLength !== 0) {
    const chunk = this.read(this.readableLength) as Buffer | null;
    if (chunk !== null) (ws._receiver as Receiver).push(chunk);
  }
  this[kWebSocket] = undefined;
  if (ws._timerHandle !== null) timerWheel.cancel(ws._timerHandle);
  if (ws._timers !== null) ws._timers.stop();
  if (ws._topics !== null) registryOf(ws).unsubscribeAll(ws);
  // Messages that arrived before the socket closed but wait for their macrotask (allowSynchronousEvents
  // false) or for the inflater are delivered before 'close' (RFC 6455 7.1.4; ws's receiverOnFinish).
  (ws._receiver as Receiver).end(() => ws.emitClose());
}

function noop(): void {}
