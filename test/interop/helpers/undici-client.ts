/**
 * undici's WebSocket (the WHATWG client that Node's global WebSocket is built from), wrapped so a
 * test can await its events in order. Pongs are observed through undici's diagnostics channel, the
 * only place undici reports them.
 */
import type { Blob } from 'node:buffer';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { WebSocket, ping } from 'undici';
import type { BinaryType, MessageEvent } from 'undici';
import { EventQueue } from './event-queue';

export interface UndiciClose {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export interface UndiciClient {
  readonly socket: WebSocket;
  readonly messages: EventQueue<string | ArrayBuffer | Blob>;
  readonly pongs: EventQueue<Buffer>;
  readonly closed: Promise<UndiciClose>;
  /** Sends a ping (RFC 6455 section 5.5.2) through undici's `ping` helper. */
  ping(body: Buffer): void;
  /** Stops observing pongs; call once the client is done. */
  release(): void;
}

const PONG_CHANNEL = 'undici:websocket:pong';

interface PongEvent {
  readonly payload: Buffer;
  readonly websocket: WebSocket;
}

export function connectUndici(url: string, binaryType: BinaryType): Promise<UndiciClient> {
  const socket = new WebSocket(url);
  socket.binaryType = binaryType;
  const messages = new EventQueue<string | ArrayBuffer | Blob>();
  const pongs = new EventQueue<Buffer>();
  socket.addEventListener('message', (event: MessageEvent) => messages.push(event.data as string | ArrayBuffer | Blob));
  const onPong = (message: unknown): void => {
    const event = message as PongEvent;
    if (event.websocket === socket) pongs.push(Buffer.from(event.payload));
  };
  subscribe(PONG_CHANNEL, onPong);
  const closed = new Promise<UndiciClose>((resolve) => {
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason, wasClean: event.wasClean }));
  });
  const client: UndiciClient = {
    socket,
    messages,
    pongs,
    closed,
    ping: (body) => ping(socket, body),
    release: () => unsubscribe(PONG_CHANNEL, onPong),
  };
  return new Promise((resolve, reject) => {
    socket.addEventListener('open', () => resolve(client));
    socket.addEventListener('error', () => {
      client.release();
      reject(new Error(`undici could not open ${url}`));
    });
  });
}
