/**
 * The client's opening handshake (RFC 6455 sections 4.1 and 4.2.2) with ws 8.23's options, events
 * ('redirect', 'upgrade', 'unexpected-response') and error messages: the URL rules (ws:, wss:,
 * http:, https:, ws+unix:), redirects (with Authorization and Cookie dropped on a cross-host or
 * https-to-http redirect, as curl and ws do), the handshake timeout (on the shared timer wheel), and
 * the checks of the server's answer (section 4.1, "the client MUST validate the server's response").
 *
 * The request's listeners are module-level functions; the per-connection state sits on the request
 * under kHandshake.
 */
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as tls from 'tls';
import { unescape } from 'querystring';
import type { Duplex } from 'stream';
import { PerMessageDeflate } from '../extensions/permessage-deflate';
import type { PerMessageDeflateOptions } from '../extensions/permessage-deflate';
import { acceptKey, generateKey } from '../handshake/accept-key';
import { isTokenChar } from '../handshake/char-table';
import { ExtensionOffers, format as formatExtensions, parse as parseExtensions } from '../handshake/extension-header';
import type { GenerateMask } from '../protocol/sender';
import { timerWheel } from '../timers/timer-wheel';
import type { WebSocket, WebSocketOptions } from '../websocket';

/** ws's client options, with ws's defaults. Any http(s).request or TLS option passes through. */
export interface ClientOptions extends Omit<https.RequestOptions, 'timeout'>, WebSocketOptions {
  /** Emit several message/ping/pong events in one tick. Default true. */
  allowSynchronousEvents?: boolean;
  /** Called with the request instead of req.end(): it may add headers, then must end it. */
  finishRequest?: (request: http.ClientRequest, websocket: WebSocket) => void;
  /** Follow 3xx redirects. Default false. */
  followRedirects?: boolean;
  /** Masking keys from this function instead of the crypto pool (section 5.3). */
  generateMask?: GenerateMask;
  /** Milliseconds the opening handshake may take; no limit when absent. */
  handshakeTimeout?: number;
  /** Chunks held for one unfinished frame. Default 262144 (ws 8.23). */
  maxBufferedChunks?: number;
  /** Frames per message. Default 16384 (ws 8.23). */
  maxFragments?: number;
  /** Largest message in bytes. Default 104857600 (100 MiB). */
  maxPayload?: number;
  /** Redirects followed before the handshake fails. Default 10. */
  maxRedirects?: number;
  /** Origin (Sec-WebSocket-Origin for protocolVersion 8), section 4.1 item 8. */
  origin?: string;
  /**
   * Offer permessage-deflate (RFC 7692): true (ws's defaults), the extension's options, or false for
   * no offer. Default true, as ws. The server's answer decides whether it is used.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Sec-WebSocket-Version: 13 or 8. Default 13. */
  protocolVersion?: number;
  /** Subprotocols, when the second constructor argument is the options. */
  protocols?: string | string[];
  /** Skip the UTF-8 check of text messages and close reasons. Default false. */
  skipUTF8Validation?: boolean;
  /** Passed to tls.connect; defaults to the host unless it is an IP address. */
  servername?: string;
}

/** The options after defaults, as initAsClient resolves them (ws's `opts`). */
type ResolvedOptions = Omit<ClientOptions, 'headers' | 'createConnection'> & {
  headers: Record<string, string | number | string[]>;
  socketPath?: string;
  auth?: string;
  defaultPort?: number;
  createConnection: (options: ResolvedOptions) => Duplex;
};

const PROTOCOL_VERSIONS = [8, 13];

/** State of one handshake request, kept on the request itself. */
interface Handshake {
  readonly ws: WebSocket;
  readonly key: string;
  readonly protocols: Set<string>;
  readonly opts: ResolvedOptions;
  readonly address: string | URL;
  readonly protocolList: string[];
  readonly options: ClientOptions | undefined;
  /** The extension behind our offer; null when none was made. */
  readonly perMessageDeflate: PerMessageDeflate | null;
}

const kHandshake = Symbol('kHandshake');
/** A request we aborted: its later 'error' is ours, not the user's. */
const kAborted = Symbol('kAborted');

type HandshakeRequest = http.ClientRequest & { [kHandshake]?: Handshake; [kAborted]?: boolean };

/** Where the first request went, to tell a cross-host redirect (ws: _originalIpc/Secure/HostOrSocketPath). */
interface OriginalTarget {
  readonly ipc: boolean;
  readonly secure: boolean;
  readonly hostOrSocketPath: string | undefined;
}
const originalTargets = new WeakMap<WebSocket, OriginalTarget>();

/** Starts (or, after a redirect, restarts) the handshake of `ws`. Returns the options with defaults. */
export function initAsClient(
  ws: WebSocket,
  address: string | URL,
  protocols: string[],
  options: ClientOptions | undefined,
): WebSocketOptions {
  const opts = {
    allowSynchronousEvents: true,
    autoPong: true,
    protocolVersion: 13,
    maxBufferedChunks: 256 * 1024,
    maxFragments: 16 * 1024,
    maxPayload: 100 * 1024 * 1024,
    skipUTF8Validation: false,
    perMessageDeflate: true,
    followRedirects: false,
    maxRedirects: 10,
    ...options,
    // The URL decides these; a value in the options must not override it.
    socketPath: undefined,
    hostname: undefined,
    protocol: undefined,
    protocols: undefined,
    timeout: undefined,
    method: 'GET',
    host: undefined,
    path: undefined,
    port: undefined,
  } as unknown as ResolvedOptions;

  if (!PROTOCOL_VERSIONS.includes(opts.protocolVersion as number)) {
    throw new RangeError(
      `Unsupported protocol version: ${opts.protocolVersion} (supported versions: ${PROTOCOL_VERSIONS.join(', ')})`,
    );
  }

  let url: URL;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    url = new URL(url);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  ws._url = url.href;

  const isSecure = url.protocol === 'wss:';
  const isIpc = url.protocol === 'ws+unix:';
  let invalid: string | undefined;
  if (url.protocol !== 'ws:' && !isSecure && !isIpc) {
    invalid = 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"';
  } else if (isIpc && !url.pathname) {
    invalid = "The URL's pathname is empty";
  } else if (url.hash) {
    // Section 3: "Fragment identifiers are meaningless in the context of WebSocket URIs".
    invalid = 'The URL contains a fragment identifier';
  }
  if (invalid !== undefined) {
    const error = new SyntaxError(invalid);
    if (ws._redirects === 0) throw error;
    emitErrorAndClose(ws, error);
    return opts;
  }

  const defaultPort = isSecure ? 443 : 80;
  const key = generateKey();
  const protocolSet = new Set<string>();

  opts.createConnection ??= isSecure ? tlsConnect : netConnect;
  opts.defaultPort = opts.defaultPort || defaultPort;
  opts.port = url.port || defaultPort;
  opts.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // Section 4.1 items 5-9: the fields every handshake carries.
  opts.headers = {
    ...(opts.headers as Record<string, string>),
    'Sec-WebSocket-Version': opts.protocolVersion as number,
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  opts.path = url.pathname + url.search;
  // RFC 7692 section 5: the client offers permessage-deflate; the server's answer is checked on upgrade.
  let perMessageDeflate: PerMessageDeflate | null = null;
  if (opts.perMessageDeflate) {
    perMessageDeflate = new PerMessageDeflate(
      opts.perMessageDeflate === true ? {} : opts.perMessageDeflate,
      false,
      opts.maxPayload,
    );
    opts.headers['Sec-WebSocket-Extensions'] = formatExtensions({
      [PerMessageDeflate.extensionName]: perMessageDeflate.offer(),
    });
  }

  if (protocols.length > 0) {
    for (const protocol of protocols) {
      // Section 4.1 item 10: each subprotocol is a distinct token.
      if (typeof protocol !== 'string' || !isToken(protocol) || protocolSet.has(protocol)) {
        throw new SyntaxError('An invalid or duplicated subprotocol was specified');
      }
      protocolSet.add(protocol);
    }
    opts.headers['Sec-WebSocket-Protocol'] = protocols.join(',');
  }
  if (opts.origin) {
    if ((opts.protocolVersion as number) < 13) opts.headers['Sec-WebSocket-Origin'] = opts.origin;
    else opts.headers.Origin = opts.origin;
  }
  if (url.username || url.password) opts.auth = `${unescape(url.username)}:${unescape(url.password)}`;

  if (isIpc) {
    // ws+unix:/path/to.sock:/request/path
    const path = opts.path;
    const colon = path.indexOf(':');
    if (colon === -1) {
      opts.socketPath = path;
      opts.path = '';
    } else {
      opts.socketPath = path.slice(0, colon);
      opts.path = path.slice(colon + 1);
    }
  }

  const request = isSecure ? https.request : http.request;
  let req: HandshakeRequest;
  if (opts.followRedirects) {
    if (ws._redirects === 0) {
      originalTargets.set(ws, { ipc: isIpc, secure: isSecure, hostOrSocketPath: isIpc ? opts.socketPath : url.host });
      // Headers are kept lower-cased in a copy, so a redirect can drop some without touching the user's.
      const headers = options?.headers as Record<string, string> | undefined;
      options = { ...options, headers: {} };
      if (headers) {
        for (const [name, value] of Object.entries(headers)) (options.headers as Record<string, string>)[name.toLowerCase()] = value;
      }
    } else if (ws.listenerCount('redirect') === 0) {
      const original = originalTargets.get(ws) as OriginalTarget;
      const sameHost = isIpc
        ? original.ipc && opts.socketPath === original.hostOrSocketPath
        : !original.ipc && url.host === original.hostOrSocketPath;
      if (!sameHost || (original.secure && !isSecure)) {
        // As curl 7.77.0: credentials do not follow a redirect to another host or to plain text.
        delete opts.headers.authorization;
        delete opts.headers.cookie;
        if (!sameHost) delete opts.headers.host;
        opts.auth = undefined;
      }
    }
    // As curl: the first Authorization wins, so the URL's credentials yield to a header.
    const headers = (options as ClientOptions).headers as Record<string, string>;
    if (opts.auth && !headers.authorization) {
      headers.authorization = 'Basic ' + Buffer.from(opts.auth).toString('base64');
    }
    req = request(opts as unknown as https.RequestOptions);
    ws._req = req;
    if (ws._redirects > 0) ws.emit('redirect', ws.url, req);
  } else {
    req = request(opts as unknown as https.RequestOptions);
    ws._req = req;
  }

  req[kHandshake] = { ws, key, protocols: protocolSet, opts, address, protocolList: protocols, options, perMessageDeflate };
  if (opts.handshakeTimeout) timerWheel.schedule(ws._timer, opts.handshakeTimeout);
  req.on('error', requestOnError);
  req.on('response', requestOnResponse);
  req.on('upgrade', requestOnUpgrade);

  if (opts.finishRequest) opts.finishRequest(req, ws);
  else req.end();
  return opts;
}

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (!isTokenChar(text.charCodeAt(i))) return false;
  return true;
}

function requestOnError(this: HandshakeRequest, error: Error): void {
  const { ws } = this[kHandshake] as Handshake;
  if (this[kAborted] || ws._req !== this) return;
  ws._req = null;
  timerWheel.cancel(ws._timer);
  emitErrorAndClose(ws, error);
}

function requestOnResponse(this: HandshakeRequest, res: http.IncomingMessage): void {
  const { ws, opts, address, protocolList, options } = this[kHandshake] as Handshake;
  const location = res.headers.location;
  const status = res.statusCode as number;
  if (location && opts.followRedirects && status >= 300 && status < 400) {
    if (++ws._redirects > (opts.maxRedirects as number)) {
      abortHandshake(ws, this, 'Maximum redirects exceeded');
      return;
    }
    this[kAborted] = true;
    this.destroy();
    let next: URL;
    try {
      next = new URL(location, address);
    } catch {
      emitErrorAndClose(ws, new SyntaxError(`Invalid URL: ${location}`));
      return;
    }
    initAsClient(ws, next, protocolList, options);
  } else if (!ws.emit('unexpected-response', this, res)) {
    abortHandshake(ws, this, `Unexpected server response: ${status}`);
  }
}

/** Section 4.1: the server's 101 answer is checked field by field before any frame flows. */
function requestOnUpgrade(this: HandshakeRequest, res: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  const { ws, key, protocols, opts, perMessageDeflate } = this[kHandshake] as Handshake;
  ws.emit('upgrade', res);
  // A listener of 'upgrade' may have closed the WebSocket.
  if (ws._readyState !== ws.CONNECTING) return;
  ws._req = null;
  timerWheel.cancel(ws._timer);

  const upgrade = res.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    abortHandshake(ws, socket, 'Invalid Upgrade header');
    return;
  }
  if (res.headers['sec-websocket-accept'] !== acceptKey(key)) {
    abortHandshake(ws, socket, 'Invalid Sec-WebSocket-Accept header');
    return;
  }
  // Section 4.1 item 6 of the response checks: the subprotocol must be one we asked for.
  const serverProtocol = res.headers['sec-websocket-protocol'];
  let protocolError: string | undefined;
  if (serverProtocol !== undefined) {
    if (protocols.size === 0) protocolError = 'Server sent a subprotocol but none was requested';
    else if (!protocols.has(serverProtocol)) protocolError = 'Server sent an invalid subprotocol';
  } else if (protocols.size > 0) {
    protocolError = 'Server sent no subprotocol';
  }
  if (protocolError !== undefined) {
    abortHandshake(ws, socket, protocolError);
    return;
  }
  if (serverProtocol) ws._protocol = serverProtocol;

  const extensionsHeader = res.headers['sec-websocket-extensions'];
  if (extensionsHeader !== undefined) {
    const failure = acceptExtensions(ws, extensionsHeader, perMessageDeflate);
    if (failure !== null) {
      abortHandshake(ws, socket, failure);
      return;
    }
  }

  ws.setSocket(socket, head, {
    allowSynchronousEvents: opts.allowSynchronousEvents,
    generateMask: opts.generateMask,
    maxBufferedChunks: opts.maxBufferedChunks,
    maxFragments: opts.maxFragments,
    maxPayload: opts.maxPayload,
    skipUTF8Validation: opts.skipUTF8Validation,
  });
}

/**
 * Section 4.1 item 5 of the response checks: the server may only name extensions we offered, and RFC
 * 7692 section 7: its permessage-deflate parameters must answer our offer. Returns ws's message for a
 * failed handshake, or null once the extension is in `ws._extensions`.
 */
function acceptExtensions(ws: WebSocket, header: string, perMessageDeflate: PerMessageDeflate | null): string | null {
  if (perMessageDeflate === null) return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  let extensions: ExtensionOffers;
  try {
    extensions = parseExtensions(header);
  } catch {
    return 'Invalid Sec-WebSocket-Extensions header';
  }
  const names = Object.keys(extensions);
  if (names.length !== 1 || names[0] !== PerMessageDeflate.extensionName) {
    return 'Server indicated an extension that was not requested';
  }
  try {
    perMessageDeflate.accept(extensions[PerMessageDeflate.extensionName]);
  } catch {
    return 'Invalid Sec-WebSocket-Extensions header';
  }
  ws._extensions[PerMessageDeflate.extensionName] = perMessageDeflate;
  return null;
}

/** 'error' then 'close': the handshake failed. */
export function emitErrorAndClose(ws: WebSocket, error: Error): void {
  ws._readyState = ws.CLOSING;
  ws._errorEmitted = true;
  ws.emit('error', error);
  ws.emitClose();
}

/**
 * Fails the handshake with `message`: aborts the request (or destroys the upgraded socket), then
 * emits 'error' and 'close', as ws's abortHandshake.
 */
export function abortHandshake(ws: WebSocket, stream: http.ClientRequest | Duplex | null, message: string): void {
  ws._readyState = ws.CLOSING;
  timerWheel.cancel(ws._timer);
  const error = new Error(message);
  Error.captureStackTrace(error, abortHandshake);
  if (stream === null) {
    process.nextTick(emitErrorAndClose, ws, error);
  } else if (stream instanceof http.ClientRequest) {
    const req = stream as HandshakeRequest;
    req[kAborted] = true;
    req.destroy();
    // A finished request's destroy() leaves its socket open (ws issue 1869).
    if (req.socket && !req.socket.destroyed) req.socket.destroy();
    process.nextTick(emitErrorAndClose, ws, error);
  } else {
    stream.destroy(error);
    stream.once('error', ws.emit.bind(ws, 'error'));
    stream.once('close', ws.emitClose.bind(ws));
  }
}

function netConnect(options: ResolvedOptions): Duplex {
  return net.connect({ ...(options as net.NetConnectOpts), path: options.socketPath } as net.NetConnectOpts);
}

function tlsConnect(options: ResolvedOptions): Duplex {
  const servername =
    options.servername || options.servername === '' ? options.servername : net.isIP(options.host as string) ? '' : (options.host as string);
  return tls.connect({ ...(options as tls.ConnectionOptions), path: undefined, servername });
}
