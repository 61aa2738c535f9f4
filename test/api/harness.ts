/**
 * Test plumbing for the WebSocket API tests: a hand-made server role (an http server whose 'upgrade'
 * handler answers the handshake with src/handshake helpers and calls setSocket, as ws's server does),
 * ws's own server and client from npm as the peers, and small event helpers. 127.0.0.1 only.
 */
import { createServer, IncomingMessage, Server } from 'http';
import type { EventEmitter } from 'events';
import type { AddressInfo, Socket } from 'net';
import type { Duplex } from 'stream';
import { createRequire } from 'module';
import { acceptKey } from '../../src/handshake/accept-key';
import { validateUpgradeRequest } from '../../src/handshake/upgrade-request';
import { SetSocketOptions, WebSocket, WebSocketOptions } from '../../src/websocket';

const require = createRequire(__filename);
// ws from npm, the oracle and the peer.
export const Ws = require('ws') as typeof import('ws');

export interface HandServer {
  readonly server: Server;
  readonly url: string;
  /** Server-side WebSockets in the order they connected. */
  readonly sockets: WebSocket[];
  /** The next server-side WebSocket to connect. */
  next(): Promise<WebSocket>;
  close(): Promise<void>;
}

export interface HandServerOptions extends WebSocketOptions, SetSocketOptions {
  /** The subprotocol to choose, if the client offered it. */
  protocol?: string;
}

/** Our WebSocket in the server role, behind a plain http server (the contract ws's server follows). */
export async function startHandServer(options: HandServerOptions = {}): Promise<HandServer> {
  const sockets: WebSocket[] = [];
  const waiting: ((ws: WebSocket) => void)[] = [];
  const raw = new Set<Duplex>();
  const server = createServer();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    raw.add(socket);
    socket.on('close', () => raw.delete(socket));
    const check = validateUpgradeRequest(req.method, req.headers);
    if (!check.ok) {
      socket.end(`HTTP/1.1 ${check.status} Bad\r\nConnection: close\r\n\r\n`);
      return;
    }
    const ws = new WebSocket(null, undefined, options);
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(check.key)}`,
    ];
    if (options.protocol !== undefined && check.protocols.has(options.protocol)) {
      lines.push(`Sec-WebSocket-Protocol: ${options.protocol}`);
      ws._protocol = options.protocol;
    }
    socket.write(lines.concat('\r\n').join('\r\n'));
    ws.setSocket(socket, head, {
      allowSynchronousEvents: options.allowSynchronousEvents ?? true,
      maxBufferedChunks: options.maxBufferedChunks ?? 0,
      maxFragments: options.maxFragments ?? 0,
      maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
      skipUTF8Validation: options.skipUTF8Validation ?? false,
    });
    sockets.push(ws);
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter(ws);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let taken = 0;
  return {
    server,
    url: `ws://127.0.0.1:${port}`,
    sockets,
    next() {
      const index = taken++;
      if (index < sockets.length) return Promise.resolve(sockets[index]);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close() {
      for (const socket of raw) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** ws's WebSocketServer from npm on an ephemeral port. */
export async function startWsServer(
  options: ConstructorParameters<typeof Ws.WebSocketServer>[0] = {},
): Promise<{ wss: InstanceType<typeof Ws.WebSocketServer>; url: string; close(): Promise<void> }> {
  const wss = new Ws.WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as AddressInfo;
  return {
    wss,
    url: `ws://127.0.0.1:${port}`,
    close() {
      for (const client of wss.clients) client.terminate();
      return new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A raw http server for handshake answers the tests write by hand. */
export async function startRawServer(
  onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void,
  onRequest?: Parameters<typeof createServer>[1],
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = onRequest ? createServer(onRequest) : createServer();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Resolves with the arguments of the next `event` on `emitter`. Unlike events.once it does not reject
 * when an 'error' comes first, so an expected error does not fail a wait for 'close'. T names the
 * listener's arguments for the caller.
 */
export function once<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** Records every event of interest, in order, as [name, ...summary]. */
export function record(ws: WebSocket | InstanceType<typeof Ws.WebSocket>): unknown[][] {
  const events: unknown[][] = [];
  ws.on('open', () => events.push(['open']));
  ws.on('message', (data: unknown, isBinary: boolean) => events.push(['message', summarize(data), isBinary]));
  ws.on('ping', (data: Buffer) => events.push(['ping', data.toString()]));
  ws.on('pong', (data: Buffer) => events.push(['pong', data.toString()]));
  ws.on('error', (error: Error) => events.push(['error', error.message]));
  ws.on('close', (code: number, reason: Buffer) => events.push(['close', code, reason.toString()]));
  return events;
}

function summarize(data: unknown): unknown {
  if (Buffer.isBuffer(data)) return data.length <= 64 ? data.toString() : `${data.length} bytes`;
  return data;
}
