/**
 * A uWebSockets.js echo server on 127.0.0.1: the C++ implementation of RFC 6455 that simdws's client
 * must interoperate with. The package falls back to a JavaScript imitation, with only a warning,
 * when its binary does not match Node's ABI; that would test nothing, so the binary for this
 * platform and ABI is loaded by path and a mismatch fails the test run.
 */
import { createRequire } from 'node:module';
import type { WebSocket as UwsSocket, us_listen_socket } from '@trufflesuite/uws-js-unofficial';
import { EventQueue } from './event-queue';
import type { CloseInfo, ReceivedMessage } from './echo-server';

type Uws = typeof import('@trufflesuite/uws-js-unofficial');

/** The binary's name as the package spells it: uws_<platform>_<arch>_<Node ABI>.node. */
export const UWS_BINARY = `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;

/**
 * Whether the package ships a binary for this Node's ABI at all (it stops at Node 20's ABI 115).
 * Where it does not, there is no uWebSockets.js to test against; where it does, it must load.
 */
export function uwsBinaryShipped(): boolean {
  try {
    createRequire(__filename).resolve(UWS_BINARY);
    return true;
  } catch {
    return false;
  }
}

export function loadUwsNative(): Uws {
  try {
    return createRequire(__filename)(UWS_BINARY) as Uws;
  } catch (error) {
    throw new Error(
      `uWebSockets.js has no native binary for Node ${process.version} (ABI ${process.versions.modules}); ` +
        'refusing its JavaScript fallback',
      { cause: error },
    );
  }
}

/** uWebSockets.js's default maxPayloadLength is 16 KiB; the large-message tests send 16 MiB. */
const MAX_PAYLOAD = 32 * 1024 * 1024;

export interface UwsConnection {
  readonly messages: EventQueue<ReceivedMessage>;
  readonly closed: Promise<CloseInfo>;
  /** Starts the closing handshake from the server (RFC 6455 section 7.1.2). */
  end(code: number, reason: string): void;
}

export interface UwsEchoServer {
  readonly url: string;
  readonly connections: EventQueue<UwsConnection>;
  stop(): void;
}

interface Tracker {
  connection: UwsConnection;
  onMessage(data: ReceivedMessage): void;
  onClose(info: CloseInfo): void;
}

function tracker(socket: UwsSocket<unknown>): Tracker {
  const messages = new EventQueue<ReceivedMessage>();
  let onClose: (info: CloseInfo) => void = () => undefined;
  const closed = new Promise<CloseInfo>((resolve) => {
    onClose = resolve;
  });
  return {
    connection: { messages, closed, end: (code, reason) => socket.end(code, reason) },
    onMessage: (data) => messages.push(data),
    onClose,
  };
}

export function startUwsEcho(): Promise<UwsEchoServer> {
  const uws = loadUwsNative();
  const connections = new EventQueue<UwsConnection>();
  const open = new Map<UwsSocket<unknown>, Tracker>();
  const app = uws.App().ws('/*', {
    maxPayloadLength: MAX_PAYLOAD,
    maxBackpressure: 2 * MAX_PAYLOAD,
    idleTimeout: 0,
    open(socket) {
      const entry = tracker(socket);
      open.set(socket, entry);
      connections.push(entry.connection);
    },
    // The ArrayBuffer is valid only during this call: keep a copy, echo with the same opcode.
    message(socket, message, isBinary) {
      open.get(socket)?.onMessage({ data: Buffer.from(new Uint8Array(message)), isBinary });
      socket.send(message, isBinary);
    },
    close(socket, code, message) {
      open.get(socket)?.onClose({ code, reason: Buffer.from(new Uint8Array(message)).toString('utf8') });
      open.delete(socket);
    },
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (token: us_listen_socket | false) => {
      if (token === false) {
        reject(new Error('uWebSockets.js could not listen on 127.0.0.1'));
        return;
      }
      resolve({
        url: `ws://127.0.0.1:${uws.us_socket_local_port(token)}/`,
        connections,
        stop() {
          uws.us_listen_socket_close(token);
          for (const socket of [...open.keys()]) socket.close();
        },
      });
    });
  });
}
