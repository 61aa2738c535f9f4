/**
 * Refuses an opening handshake (RFC 6455 section 4.2.2 item 4: "the server MUST abort the WebSocket
 * handshake ... and instead send an appropriate HTTP error code") with a complete HTTP/1.1 response,
 * then destroys the socket once the response is flushed, as ws's abortHandshake does.
 */
import { STATUS_CODES } from 'http';
import type { Duplex } from 'stream';

/** RFC 7230 section 3.2: a header line break here would let a caller's value inject headers. */
function assertNoLineBreak(text: string): void {
  if (text.includes('\r') || text.includes('\n')) {
    throw new TypeError(`Invalid character in response header: ${JSON.stringify(text)}`);
  }
}

/**
 * Writes `HTTP/1.1 <status> <reason>` with Connection: close, Content-Type: text/html and
 * Content-Length, then `headers` (which may replace those three, key for key, as in ws), then the
 * body `message` (default: the status's reason phrase), and ends the socket; it is destroyed on
 * 'finish'.
 */
export function abortHandshake(
  socket: Duplex,
  status: number,
  message?: string,
  headers?: Readonly<Record<string, string | number>>,
): void {
  const reason = STATUS_CODES[status] ?? '';
  const body = message || reason;
  const fields: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  };

  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name of Object.keys(fields)) {
    const value = String(fields[name]);
    assertNoLineBreak(name);
    assertNoLineBreak(value);
    head += `${name}: ${value}\r\n`;
  }

  socket.once('finish', () => socket.destroy());
  socket.end(`${head}\r\n${body}`);
}
