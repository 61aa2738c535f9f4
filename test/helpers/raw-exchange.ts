/**
 * Talks to a server over raw TCP on 127.0.0.1, for the handshake tests that write requests by hand
 * and check the response bytes exactly (RFC 6455 section 4.2.2).
 */
import { connect } from 'net';

/** Sends `text` and collects every byte, as latin1, until the server closes the connection. */
export function untilClosed(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(text);
  });
}
