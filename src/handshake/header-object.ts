/**
 * `req.headers` from `req.rawHeaders`, by Node's rules (http.IncomingMessage), so a request read by
 * the server's own listener looks to verifyClient, handleProtocols and 'connection' listeners exactly
 * as one read by http.Server: names in lower case; a repeated field joined with ", " (RFC 9110
 * section 5.3: the same as one comma-separated field), Cookie with "; " (RFC 6265 section 5.4),
 * Set-Cookie kept as an array, and the fields that cannot be lists keeping their first value.
 */
import type { IncomingHttpHeaders } from 'http';

/** The single-valued fields whose repeats Node drops (its `matchKnownFields`). */
const FIRST_VALUE_WINS = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

export function headerObject(rawHeaders: readonly string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const value = rawHeaders[i + 1];
    const previous = headers[name];
    if (name === 'set-cookie') {
      if (previous === undefined) headers[name] = [value];
      else (previous as string[]).push(value);
    } else if (previous === undefined) {
      headers[name] = value;
    } else if (!FIRST_VALUE_WINS.has(name)) {
      headers[name] = `${previous as string}${name === 'cookie' ? '; ' : ', '}${value}`;
    }
  }
  return headers as IncomingHttpHeaders;
}
