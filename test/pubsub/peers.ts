/**
 * Peers for the pub/sub and backpressure tests: a WebSocketServer of ours on 127.0.0.1, ws's client
 * from npm, message queues, and write counting on the server-side sockets (the Writable's _write and
 * _writev each hand one batch to libuv: one write syscall when the kernel takes it).
 */
import { createRequire } from 'module';
import type { AddressInfo } from 'net';
import type { Socket } from 'net';
import { WebSocket } from '../../src/websocket';
import { ServerOptions, WebSocketServer } from '../../src/websocket-server';

const require = createRequire(__filename);
export const Ws = require('ws') as typeof import('ws');
export type WsClient = import('ws').WebSocket;

export interface Harness {
  readonly wss: WebSocketServer;
  readonly url: string;
  /** Connects a ws client and returns it with its server-side WebSocket. */
  connect(options?: import('ws').ClientOptions): Promise<Pair>;
  close(): Promise<void>;
}

export interface Pair {
  readonly client: WsClient;
  readonly server: WebSocket;
  /** Everything the client received, as strings (text) or Buffers (binary). */
  readonly received: (string | Buffer)[];
  /** Resolves once the client has received `count` messages in all. */
  until(count: number): Promise<void>;
}

export async function startServer(options: Omit<ServerOptions, 'port'> = {}): Promise<Harness> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  const accepted: WebSocket[] = [];
  const waiting: ((ws: WebSocket) => void)[] = [];
  wss.on('connection', (ws: WebSocket) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter(ws);
    else accepted.push(ws);
  });
  const clients: WsClient[] = [];
  return {
    wss,
    url,
    async connect(clientOptions = { perMessageDeflate: false }) {
      const server = new Promise<WebSocket>((resolve) => {
        const ready = accepted.shift();
        if (ready !== undefined) resolve(ready);
        else waiting.push(resolve);
      });
      const client = new Ws(url, clientOptions);
      clients.push(client);
      const received: (string | Buffer)[] = [];
      const waiters: { count: number; resolve: () => void }[] = [];
      client.on('message', (data: Buffer, isBinary: boolean) => {
        received.push(isBinary ? data : data.toString());
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (received.length >= waiters[i].count) waiters.splice(i, 1)[0].resolve();
        }
      });
      client.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        client.once('open', resolve);
        client.once('error', reject);
      });
      return {
        client,
        server: await server,
        received,
        until(count: number) {
          if (received.length >= count) return Promise.resolve();
          return new Promise<void>((resolve) => waiters.push({ count, resolve }));
        },
      };
    },
    async close() {
      for (const client of clients) client.terminate();
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The socket a server-side WebSocket writes to. */
export function socketOf(ws: WebSocket): Socket {
  return ws._socket as unknown as Socket;
}

export interface WriteLog {
  /** Chunks passed to socket.write, in order. */
  readonly chunks: Buffer[];
  /** Batches the stream handed to the OS: one entry per _write or _writev call, with its chunks. */
  readonly batches: Buffer[][];
  reset(): void;
}

type Internal = Socket & {
  _write(chunk: Buffer, encoding: string, cb: (error?: Error | null) => void): void;
  _writev(chunks: { chunk: Buffer }[], cb: (error?: Error | null) => void): void;
};

/** Records what is written to `socket`: the Buffer objects and the batches they leave in. */
export function logWrites(socket: Socket): WriteLog {
  const target = socket as Internal;
  const log = {
    chunks: [] as Buffer[],
    batches: [] as Buffer[][],
    reset() {
      log.chunks.length = 0;
      log.batches.length = 0;
    },
  };
  const write = target.write;
  const writeOne = target._write;
  const writeMany = target._writev;
  target.write = function (this: Socket, chunk: Buffer, ...rest: unknown[]) {
    log.chunks.push(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Socket['write'];
  target._write = function (this: Socket, chunk, encoding, cb) {
    log.batches.push([chunk]);
    writeOne.call(this, chunk, encoding, cb);
  };
  target._writev = function (this: Socket, chunks, cb) {
    log.batches.push(chunks.map((entry) => entry.chunk));
    writeMany.call(this, chunks, cb);
  };
  return log;
}

/** The end of the current tick's batch: the flush runs in setImmediate, so one more turn is after it. */
export function afterTick(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** Waits for `predicate`, checking every few milliseconds, at most `tries` times (a bound, not a timing). */
export async function waitFor(predicate: () => boolean, tries = 5_000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error('condition not reached');
}
