/**
 * The WebSocket server: ws 8's `WebSocketServer`, option for option and event for event, so code
 * written against ws runs unchanged. It checks each opening handshake (RFC 6455 section 4.2.1),
 * answers it (section 4.2.2) and hands the socket to a WebSocket.
 *
 * simdws's addition: `allowedOrigins`, an Origin allow-list that refuses every other page with 403
 * (section 10.2), which stops cross-site WebSocket hijacking without writing a verifyClient.
 *
 * Where the answers differ from ws 8 (see handshake/upgrade-request.ts): a Sec-WebSocket-Version that
 * is present but not 8 or 13 gets 426 with `Sec-WebSocket-Version: 13` (section 4.2.2 item 4), and a
 * Connection header without "Upgrade" gets 400 (section 4.2.1 item 4). A permessage-deflate offer the
 * server cannot accept is declined and the connection opens uncompressed (RFC 7692 section 5: "the
 * server MUST NOT accept" it, and section 7: it "MUST decline"); ws answers 400 to it.
 */
import { EventEmitter } from 'events';
import type { IncomingMessage, Server as HttpServer } from 'http';
import type { Server as HttpsServer } from 'https';
import type { AddressInfo } from 'net';
import type { Duplex } from 'stream';
import { PerMessageDeflate } from './extensions/permessage-deflate';
import type { DeflateParams, PerMessageDeflateOptions } from './extensions/permessage-deflate';
import { abortHandshake } from './handshake/abort-handshake';
import { acceptKey } from './handshake/accept-key';
import { OriginDecision, allowedOrigins } from './handshake/allowed-origins';
import { format as formatExtensions } from './handshake/extension-header';
import type { ExtensionOffers } from './handshake/extension-header';
import {
  MESSAGE_INVALID_EXTENSIONS,
  MESSAGE_INVALID_PROTOCOL,
  RejectedUpgrade,
  validateUpgradeRequest,
} from './handshake/upgrade-request';
import {
  CLOSE_TIMEOUT,
  MAX_PENDING_AUTO_PONGS,
  SetSocketOptions,
  WebSocket,
  WebSocketOptions,
  kWebSocket,
} from './websocket';
import { ConnectionTimerOptions, validateConnectionTimerOptions } from './timers/connection-timers';
import type { BackpressureOptions } from './backpressure/send-status';
import { validateBackpressureOptions } from './backpressure/connection-backpressure';
import { TopicRegistry } from './pubsub/topic-registry';
import { HandshakeServer } from './server/handshake-server';
import { PortModeRequest } from './server/port-mode-request';
import type { PublishOptions } from './pubsub/publish-batch';
import type { SendData } from './protocol/sender';

/** The part of a WebSocket the server drives: ws's contract between its server and its WebSocket. */
export interface ServerWebSocket extends EventEmitter {
  _protocol: string;
  /** The negotiated extensions by name, read by setSocket. */
  _extensions: Record<string, unknown>;
  setSocket(socket: Duplex, head: Buffer, options: SetSocketOptions): void;
}

/**
 * A WebSocket class the server can instantiate, as ws calls it: `new WebSocket(null, undefined,
 * serverOptions)`; the constructor reads autoPong, closeTimeout and maxPendingAutoPongs.
 */
export type ServerWebSocketClass<T extends ServerWebSocket> = new (
  address: null,
  protocols: undefined,
  options: WebSocketOptions,
) => T;

/** What `verifyClient` sees (ws's `info`). */
export interface VerifyClientInfo {
  /** Origin (Sec-WebSocket-Origin for protocol version 8). */
  /** The Origin header (Sec-WebSocket-Origin for version 8); typed string as in @types/ws, though it
   * is undefined at run time when the client sent none, as in ws. */
  readonly origin: string;
  /** Whether the connection is TLS (`req.socket.authorized || req.socket.encrypted`). */
  readonly secure: boolean;
  readonly req: IncomingMessage;
}

/** Answers a verifyClient callback: refuse with `code` (default 401), body `message` and extra headers. */
export type VerifyClientCallback = (
  result: boolean,
  code?: number,
  message?: string,
  headers?: Readonly<Record<string, string | number>>,
) => void;

export type VerifyClientSync = (info: VerifyClientInfo) => boolean;
export type VerifyClientAsync = (info: VerifyClientInfo, callback: VerifyClientCallback) => void;

/** Picks the subprotocol from the client's offer (in its order), or false for none. */
export type HandleProtocols = (protocols: Set<string>, request: IncomingMessage) => string | false;

/** Beyond ws: idleTimeout (s), sendPingsAutomatically, maxLifetime (min); all off by default. */
/** Beyond ws, also: maxBackpressure, closeOnBackpressureLimit, slowConsumerPolicy (all off by default). */
export interface ServerOptions<T extends ServerWebSocket = WebSocket> extends ConnectionTimerOptions, BackpressureOptions {
  /** ws `port`: listen here (with simdws's own HTTP/1.1 upgrade listener, server/handshake-server.ts). One of port, server or noServer is required. */
  port?: number;
  /** ws `host`: the address to listen on with `port`. Default: Node's (all interfaces). */
  host?: string;
  /** ws `backlog`: the pending-connection queue length with `port`. Default: Node's (511). */
  backlog?: number;
  /** ws `server`: an existing HTTP(S) server whose 'upgrade' events this server handles. */
  server?: HttpServer | HttpsServer;
  /** ws `noServer`: handle upgrades only through `handleUpgrade`. Default: false. */
  noServer?: boolean;
  /** ws `path`: accept only this pathname (the query is ignored); other paths get 400. */
  path?: string;
  /** ws `clientTracking`: keep open connections in `clients`. Default: true. */
  clientTracking?: boolean;
  /** ws `handleProtocols`. Default: the client's first offered subprotocol. */
  handleProtocols?: HandleProtocols;
  /** ws `maxPayload`: the largest message, in bytes. Default: 104857600 (100 MiB). */
  maxPayload?: number;
  /** ws `maxFragments`: the most frames one message may span. Default: 16384. */
  maxFragments?: number;
  /** ws `maxBufferedChunks`: the most socket chunks held for one message. Default: 262144. */
  maxBufferedChunks?: number;
  /** ws `maxPendingAutoPongs`: automatic pongs that may wait to be written. Default: 60. */
  maxPendingAutoPongs?: number;
  /**
   * ws `perMessageDeflate` (RFC 7692): true (ws's defaults) or the extension's options, e.g.
   * MEMORY_LEAN_DEFLATE. Default: false, as ws: compression costs memory per connection (zlib's window
   * and hash tables). When on, a malformed Sec-WebSocket-Extensions gets 400 as in ws, and an offer
   * that cannot be accepted is declined: the connection opens uncompressed (ws answers 400).
   */
  perMessageDeflate?: boolean | Readonly<PerMessageDeflateOptions>;
  /** ws `skipUTF8Validation`: do not check text messages and close reasons. Default: false. */
  skipUTF8Validation?: boolean;
  /** ws `verifyClient`: refuse a handshake (401 by default); the two-argument form is asynchronous. */
  verifyClient?: VerifyClientSync | VerifyClientAsync;
  /** ws `autoPong`: answer pings with pongs. Default: true. */
  autoPong?: boolean;
  /** ws `allowSynchronousEvents`: emit several messages in one tick. Default: true. */
  allowSynchronousEvents?: boolean;
  /** ws `closeTimeout`: milliseconds to wait for the closing handshake. Default: 30000. */
  closeTimeout?: number;
  /** ws `WebSocket`: the class to instantiate, WebSocket or a subclass. */
  WebSocket?: ServerWebSocketClass<T>;
  /**
   * simdws's addition. The serialized origins (`scheme://host[:port]`) whose pages may connect; an
   * upgrade whose Origin is missing or not listed gets 403 (RFC 6455 section 10.2). Default: any.
   */
  allowedOrigins?: readonly string[];
}

/** The options with ws's defaults filled in, as `server.options` (and the WebSocket constructor) see them. */
export interface ResolvedServerOptions<T extends ServerWebSocket = WebSocket> extends ServerOptions<T> {
  port: number | undefined;
  host: string | undefined;
  backlog: number | undefined;
  server: HttpServer | HttpsServer | undefined;
  noServer: boolean;
  path: string | undefined;
  clientTracking: boolean;
  handleProtocols: HandleProtocols | undefined;
  maxPayload: number;
  maxFragments: number;
  maxBufferedChunks: number;
  maxPendingAutoPongs: number;
  perMessageDeflate: false | Readonly<PerMessageDeflateOptions>;
  skipUTF8Validation: boolean;
  verifyClient: VerifyClientSync | VerifyClientAsync | undefined;
  autoPong: boolean;
  allowSynchronousEvents: boolean;
  closeTimeout: number;
  WebSocket: ServerWebSocketClass<T>;
  allowedOrigins: readonly string[] | undefined;
  idleTimeout: number;
  sendPingsAutomatically: boolean;
  maxLifetime: number;
}

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

type OriginCheck = (origin: string | undefined) => OriginDecision;


/** A socket error during the handshake ends only that socket; the process and the others live on. */
function socketOnError(this: Duplex): void {
  this.destroy();
}

/** The rejections ws checks after the path: a request to another path gets 400 before these. */
function isCheckedAfterPath(rejection: RejectedUpgrade): boolean {
  return rejection.message === MESSAGE_INVALID_PROTOCOL || rejection.message === MESSAGE_INVALID_EXTENSIONS;
}

function resolveOptions<T extends ServerWebSocket>(options: ServerOptions<T>): ResolvedServerOptions<T> {
  const resolved: ResolvedServerOptions<T> = {
    allowSynchronousEvents: true,
    autoPong: true,
    maxBufferedChunks: 256 * 1024,
    maxFragments: 16 * 1024,
    maxPayload: 100 * 1024 * 1024,
    maxPendingAutoPongs: MAX_PENDING_AUTO_PONGS,
    skipUTF8Validation: false,
    perMessageDeflate: false,
    handleProtocols: undefined,
    clientTracking: true,
    closeTimeout: CLOSE_TIMEOUT,
    verifyClient: undefined,
    noServer: false,
    backlog: undefined,
    server: undefined,
    host: undefined,
    path: undefined,
    port: undefined,
    WebSocket: WebSocket as unknown as ServerWebSocketClass<T>,
    allowedOrigins: undefined,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    maxLifetime: 0,
    ...options,
  } as ResolvedServerOptions<T>;
  if (options.perMessageDeflate === true) resolved.perMessageDeflate = {};
  return resolved;
}

export class WebSocketServer<T extends ServerWebSocket = WebSocket> extends EventEmitter {
  readonly options: ResolvedServerOptions<T>;
  /** The open connections; undefined when `clientTracking` is false, as in ws. */
  declare readonly clients: Set<T>;

  private state = RUNNING;
  /** Set by close() in server/noServer mode: emit 'close' once the last tracked client is gone. */
  private shouldEmitClose = false;
  /** The listener: our own in `port` mode (server/handshake-server.ts), the user's with `server`. */
  private server: HttpServer | HttpsServer | HandshakeServer | null = null;
  private removeServerListeners: (() => void) | null = null;
  private readonly originCheck: OriginCheck | null;
  /** The topics of the connections this server accepted (publish, numSubscribers). */
  private readonly topics = new TopicRegistry();

  /** `callback` becomes a 'listening' listener when the server is created here (`port`). */
  constructor(options: ServerOptions<T>, callback?: () => void) {
    super();
    const resolved = resolveOptions(options);
    validateConnectionTimerOptions(resolved);
    validateBackpressureOptions(resolved);

    const hasPort = resolved.port != null;
    if (
      (!hasPort && !resolved.server && !resolved.noServer) ||
      (hasPort && (resolved.server || resolved.noServer)) ||
      (resolved.server && resolved.noServer)
    ) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    this.originCheck = resolved.allowedOrigins === undefined ? null : allowedOrigins(resolved.allowedOrigins);

    if (hasPort) {
      const server = new HandshakeServer();
      server.listen(resolved.port, resolved.host, resolved.backlog, callback);
      this.server = server;
    } else if (resolved.server) {
      this.server = resolved.server;
    }
    if (this.server !== null) this.removeServerListeners = this.attach(this.server);

    // Options the extension refuses (window bits outside 8-15) throw here, not on a client's upgrade.
    if (resolved.perMessageDeflate) new PerMessageDeflate(resolved.perMessageDeflate, true);
    if (resolved.clientTracking) (this as { clients: Set<T> }).clients = new Set();
    this.options = resolved;
  }

  /** The listening address as the OS reports it; null when not listening. Throws in noServer mode. */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    if (this.server === null) return null;
    return this.server.address();
  }

  /**
   * Stops accepting connections and emits 'close' once the ones open are closed (a server created
   * here closes too; open connections are not closed, as in ws). `cb` runs on 'close', with an error
   * if the server had already closed.
   */
  close(cb?: (error?: Error) => void): void {
    if (this.state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(WebSocketServer.emitClose, this);
      return;
    }
    if (cb) this.once('close', cb);
    if (this.state === CLOSING) return;
    this.state = CLOSING;

    const server = this.server;
    this.removeServerListeners?.();
    this.removeServerListeners = this.server = null;

    if (this.options.port != null && server !== null) {
      server.close(() => WebSocketServer.emitClose(this));
    } else if (this.clients !== undefined && this.clients.size > 0) {
      this.shouldEmitClose = true;
    } else {
      process.nextTick(WebSocketServer.emitClose, this);
    }
  }

  /**
   * simdws's addition (uWebSockets.js's app.publish): sends `data` to every connection subscribed to
   * `topic` (ws.subscribe), framed once and compressed once per compatible deflate profile; each
   * subscriber gets its share of the tick's publishes in one write. Returns whether it had subscribers.
   */
  publish(topic: string, data: SendData, options?: PublishOptions): boolean {
    return this.topics.publish(topic, data, options, null);
  }

  /** How many connections are subscribed to `topic`. */
  numSubscribers(topic: string): number {
    return this.topics.numSubscribers(topic);
  }

  /** Whether this server takes the request: its pathname (without the query) must equal `path`. */
  shouldHandle(req: IncomingMessage): boolean {
    const path = this.options.path;
    if (!path) return true;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    return (query === -1 ? url : url.slice(0, query)) === path;
  }

  /**
   * Checks and answers an opening handshake (RFC 6455 section 4.2), then calls `cb` with the new
   * WebSocket. A refused handshake gets an HTTP error response and its socket is destroyed; `cb` is
   * not called.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: T, req: IncomingMessage) => void): void {
    socket.on('error', socketOnError);

    const result = validateUpgradeRequest(req.method, PortModeRequest.upgradeHeadersOf(req), {
      // ws reads the option by truthiness: an explicit undefined is off.
      parseExtensions: Boolean(this.options.perMessageDeflate),
    });
    if (!result.ok && !isCheckedAfterPath(result)) return this.rejectMalformed(req, socket, result);
    if (!this.shouldHandle(req)) return abortHandshake(socket, 400);
    if (!result.ok) return this.rejectMalformed(req, socket, result);

    // Section 10.2: the Origin allow-list runs before verifyClient, which may then refine it.
    if (this.originCheck !== null) {
      const decision = this.originCheck(result.origin);
      if (!decision.ok) return abortHandshake(socket, decision.status, decision.message, decision.headers);
    }

    const verifyClient = this.options.verifyClient;
    if (verifyClient !== undefined) {
      const info: VerifyClientInfo = {
        origin: result.origin as string,
        secure: isSecure(req),
        req,
      };
      if (verifyClient.length === 2) {
        (verifyClient as VerifyClientAsync)(info, (verified, code, message, headers) => {
          if (!verified) return abortHandshake(socket, code || 401, message, headers);
          this.completeUpgrade(result.key, result.protocols, result.offers, req, socket, head, cb);
        });
        return;
      }
      if (!(verifyClient as VerifyClientSync)(info)) return abortHandshake(socket, 401);
    }

    this.completeUpgrade(result.key, result.protocols, result.offers, req, socket, head, cb);
  }

  private static emitClose<C extends ServerWebSocket>(server: WebSocketServer<C>): void {
    server.state = CLOSED;
    server.emit('close');
  }

  /**
   * The 'close' listener of this server's tracked clients (`this` is the client): drops it, and emits
   * 'close' if close() waits for the last one. One function per server, so a connection costs no
   * closure and no map entry.
   */
  private readonly onClientClose = ((server: WebSocketServer<T>) =>
    function onClientClose(this: T): void {
      server.clients.delete(this);
      if (server.shouldEmitClose && server.clients.size === 0) process.nextTick(WebSocketServer.emitClose, server);
    })(this);

  /** Forwards the HTTP server's 'listening' and 'error', and takes its upgrades. */
  private attach(server: HttpServer | HttpsServer | HandshakeServer): () => void {
    const onListening = (): boolean => this.emit('listening');
    const onError = (error: Error): boolean => this.emit('error', error);
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void =>
      this.handleUpgrade(req, socket, head, (ws) => this.emit('connection', ws, req));
    server.on('listening', onListening);
    server.on('error', onError);
    server.on('upgrade', onUpgrade);
    return () => {
      server.removeListener('listening', onListening);
      server.removeListener('error', onError);
      server.removeListener('upgrade', onUpgrade);
    };
  }

  /**
   * A malformed request: with a 'wsClientError' listener, the listener owns the socket and answers
   * it; without one, the server answers with the status (ws's behaviour).
   */
  private rejectMalformed(req: IncomingMessage, socket: Duplex, rejection: RejectedUpgrade): void {
    if (this.listenerCount('wsClientError') > 0) {
      const error = new Error(rejection.message);
      Error.captureStackTrace(error, this.rejectMalformed);
      this.emit('wsClientError', error, socket, req);
      return;
    }
    abortHandshake(socket, rejection.status, rejection.message, rejection.headers);
  }

  /**
   * RFC 7692 section 5: the extension for the first permessage-deflate offer the options can honour,
   * or null when the option is off, nothing was offered, or every offer is declined (section 7: the
   * server declines what it cannot accept, and the connection goes on uncompressed).
   */
  private negotiateDeflate(offers: ExtensionOffers | null): PerMessageDeflate | null {
    const options = this.options.perMessageDeflate;
    const offered = offers === null ? undefined : offers[PerMessageDeflate.extensionName];
    if (!options || offered === undefined) return null;
    const deflate = new PerMessageDeflate(options, true, this.options.maxPayload);
    try {
      deflate.accept(offered);
    } catch {
      return null;
    }
    return deflate;
  }

  /** Section 4.2.2 item 5: the 101 response, then the socket belongs to a new WebSocket. */
  private completeUpgrade(
    key: string,
    protocols: Set<string>,
    offers: ExtensionOffers | null,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: T, req: IncomingMessage) => void,
  ): void {
    // The client may have sent FIN (or the socket died) while verifyClient was deciding.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    // A socket handed to a WebSocket carries it (websocket.ts setSocket), as in ws.
    if ((socket as { [kWebSocket]?: unknown })[kWebSocket] !== undefined) {
      throw new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      );
    }
    if (this.state !== RUNNING) return abortHandshake(socket, 503);

    const headers = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ];
    const ws = new this.options.WebSocket(null, undefined, this.options);
    if (ws instanceof WebSocket) ws._topicRegistry = this.topics;

    // Section 4.2.2 item 5.4: at most one of the client's subprotocols, or none.
    if (protocols.size > 0) {
      const handleProtocols = this.options.handleProtocols;
      const protocol = handleProtocols ? handleProtocols(protocols, req) : protocols.values().next().value;
      if (protocol) {
        headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
        ws._protocol = protocol;
      }
    }

    const deflate = this.negotiateDeflate(offers);
    if (deflate !== null) {
      const value = formatExtensions({ [PerMessageDeflate.extensionName]: deflate.params as DeflateParams });
      headers.push(`Sec-WebSocket-Extensions: ${value}`);
      ws._extensions = { [PerMessageDeflate.extensionName]: deflate };
    }

    this.emit('headers', headers, req);

    socket.write(`${headers.join('\r\n')}\r\n\r\n`);
    socket.removeListener('error', socketOnError);

    ws.setSocket(socket, head, {
      allowSynchronousEvents: this.options.allowSynchronousEvents,
      maxBufferedChunks: this.options.maxBufferedChunks,
      maxFragments: this.options.maxFragments,
      maxPayload: this.options.maxPayload,
      skipUTF8Validation: this.options.skipUTF8Validation,
    });

    if (this.clients !== undefined) {
      this.clients.add(ws);
      ws.on('close', this.onClientClose);
    }

    cb(ws, req);
  }
}

/** ws's `info.secure`: the request came over TLS. */
function isSecure(req: IncomingMessage): boolean {
  const socket = req.socket as IncomingMessage['socket'] & { authorized?: boolean; encrypted?: boolean };
  return Boolean(socket.authorized || socket.encrypted);
}
