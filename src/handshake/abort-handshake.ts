/**
 * Refuses an opening handshake (RFC 6455 section 4.2.2 item 4: "the server MUST abort the WebSocket
 * handshake ... and instead send an appropriate HTTP error code") with a complete HTTP/1.1 response,
 * then destroys the socket once the response is flushed, as ws's abortHandshake does.
 */
import { STATUS_CODES } from 'http';
import type { Duplex } from 'stream';

/**
 * RFC 7230 section 3.2: a line break in a header name or value would let it inject headers. Such a
 * field (from verifyClient's callback, say) is left out rather than thrown over: a throw here would
 * leave the client without an answer and the socket open.
 */
function hasLineBreak(text: string): boolean {
  return text.includes('\r') || text.includes('\n');
}

/**
 * Writes `HTTP/1.1 <status> <reason>` with Connection: close, Content-Type: text/html and
 * Content-Length, then `headers` (which may replace those three, key for key, as in ws; a field
 * with a line break is left out), then the body `message` (default: the status's reason phrase), and ends the socket; it is destroyed on
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
    if (hasLineBreak(name) || hasLineBreak(value)) continue;
    head += `${name}: ${value}\r\n`;
  }

  socket.once('finish', () => socket.destroy());
  socket.end(`${head}\r\n${body}`);
}
