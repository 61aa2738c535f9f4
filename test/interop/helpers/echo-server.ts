/**
 * simdws's WebSocketServer in `server` mode on a plain http.Server bound to 127.0.0.1, the setup a
 * browser-facing application has: the same server answers GET / with a page and upgrades the
 * WebSocket requests (RFC 6455 section 4.2). Every message is echoed as it came (text stays text,
 * RFC 6455 section 5.6), and every connection's events are recorded for the test to await.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventQueue } from './event-queue';
import { WebSocket, WebSocketServer } from './peer';
import type { ServerOptions } from '../../../src/websocket-server';

export interface ReceivedMessage {
  readonly data: Buffer;
  readonly isBinary: boolean;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

/** The server's side of one connection. */
export interface ServerConnection {
  readonly socket: WebSocket;
  readonly messages: EventQueue<ReceivedMessage>;
  readonly pings: EventQueue<Buffer>;
  readonly pongs: EventQueue<Buffer>;
  /** Settles with the close code and reason the server's WebSocket reported. */
  readonly closed: Promise<CloseInfo>;
}

export interface EchoServer {
  /** ws://127.0.0.1:port/ */
  readonly wsUrl: string;
  /** http://127.0.0.1:port/ — serves the page given to startEchoServer. */
  readonly pageUrl: string;
  readonly connections: EventQueue<ServerConnection>;
  /** Errors any server-side socket emitted; a passing exchange leaves this empty. */
  readonly errors: Error[];
  stop(): Promise<void>;
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

function track(socket: WebSocket, errors: Error[]): ServerConnection {
  const messages = new EventQueue<ReceivedMessage>();
  const pings = new EventQueue<Buffer>();
  const pongs = new EventQueue<Buffer>();
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const copy = toBuffer(data);
    messages.push({ data: copy, isBinary });
    socket.send(copy, { binary: isBinary });
  });
  socket.on('ping', (data: Buffer) => pings.push(data));
  socket.on('pong', (data: Buffer) => pongs.push(data));
  socket.on('error', (error: Error) => errors.push(error));
  const closed = new Promise<CloseInfo>((resolve) => {
    socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') }));
  });
  return { socket, messages, pings, pongs, closed };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startEchoServer(page = '', options: Omit<ServerOptions, 'server'> = {}): Promise<EchoServer> {
  const http = createServer((request, response) => {
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(page);
    } else {
      response.writeHead(404).end();
    }
  });
  const wss = new WebSocketServer({ ...options, server: http });
  const connections = new EventQueue<ServerConnection>();
  const errors: Error[] = [];
  wss.on('connection', (socket: WebSocket) => connections.push(track(socket, errors)));
  wss.on('error', (error: Error) => errors.push(error));
  const port = await listen(http);
  return {
    wsUrl: `ws://127.0.0.1:${port}/`,
    pageUrl: `http://127.0.0.1:${port}/`,
    connections,
    errors,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
