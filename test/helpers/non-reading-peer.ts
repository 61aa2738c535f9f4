/**
 * A peer that makes the opening handshake by hand (RFC 6455 section 4.1) over raw TCP and then stops
 * reading, so the kernel's socket buffers fill and whatever the server sends it next stays in the
 * server: the slow consumer of the backpressure tests. It counts what arrives once it reads again.
 */
import { randomBytes } from 'crypto';
import { Socket, connect } from 'net';

export interface NonReadingPeer {
  readonly socket: Socket;
  /** Bytes received after the 101 response: frames, once it reads again (socket.resume()). */
  frameBytes: number;
}

/** Resolves once the 101 came; `onSocket` gets the socket at once, so a test can end it whatever happens. */
export function openNonReadingPeer(port: number, path: string, onSocket: (socket: Socket) => void): Promise<NonReadingPeer> {
  const socket = connect(port, '127.0.0.1');
  onSocket(socket);
  const peer: NonReadingPeer = { socket, frameBytes: 0 };
  let head = '';
  let upgraded = false;
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) {
        peer.frameBytes += chunk.length;
        return;
      }
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!head.startsWith('HTTP/1.1 101 ')) reject(new Error(`no upgrade: ${head}`));
      upgraded = true;
      peer.frameBytes = head.length - end - 4;
      // From here on it reads nothing.
      socket.pause();
      resolve(peer);
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
  });
}
