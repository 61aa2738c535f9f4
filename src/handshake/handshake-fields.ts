/**
 * The header fields an opening handshake reads (RFC 6455 section 4.2.1, and the two that say whether
 * a request has a body), taken from `rawHeaders` into an object of one fixed shape, under the names
 * `req.headers` gives them, so validateUpgradeRequest reads either.
 *
 * Why not `req.headers` itself in port mode: building that object (a property per field name, each
 * store to a name the object did not have) cost about 3 µs of a ~130 µs handshake. Node builds
 * `req.headers` when it is first read; the port-mode request does too (server/port-mode-request.ts),
 * and the handshake reads these instead: +2.0% handshakes/s on the load benchmark's handshakes
 * workload (7,439 -> 7,585, five interleaved 5 s runs each, bench/RESULTS.md "Handshake JS").
 *
 * Repeated fields combine as in `headerObject` (Node's rules): joined with ", ", except Content-Length,
 * whose first value wins.
 */
import type { IncomingHttpHeaders } from 'http';

/** The fields of `req.headers` that validateUpgradeRequest and the port-mode server read. */
export type UpgradeHeaders = Pick<
  IncomingHttpHeaders,
  | 'upgrade'
  | 'connection'
  | 'sec-websocket-key'
  | 'sec-websocket-version'
  | 'sec-websocket-protocol'
  | 'sec-websocket-extensions'
  | 'origin'
  | 'content-length'
  | 'transfer-encoding'
> & {
  /** Version 8's Origin (ws reads it for `verifyClient`); Node may hand over an unknown field as a list. */
  readonly 'sec-websocket-origin'?: string | string[];
};

/** Every field present (undefined until seen), so each object has the same shape. */
class HandshakeFields implements UpgradeHeaders {
  upgrade: string | undefined = undefined;
  connection: string | undefined = undefined;
  'sec-websocket-key': string | undefined = undefined;
  'sec-websocket-version': string | undefined = undefined;
  'sec-websocket-protocol': string | undefined = undefined;
  'sec-websocket-extensions': string | undefined = undefined;
  'sec-websocket-origin': string | undefined = undefined;
  origin: string | undefined = undefined;
  'content-length': string | undefined = undefined;
  'transfer-encoding': string | undefined = undefined;
}

function joined(previous: string | undefined, value: string): string {
  return previous === undefined ? value : `${previous}, ${value}`;
}

/**
 * The handshake's fields of `rawHeaders` (names and values alternating, as Node's). Each field is
 * stored by name, not through a computed key, so every store is to the one known shape.
 */
export function handshakeFields(rawHeaders: readonly string[]): UpgradeHeaders {
  const fields = new HandshakeFields();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const value = rawHeaders[i + 1];
    switch (rawHeaders[i].toLowerCase()) {
      case 'upgrade':
        fields.upgrade = joined(fields.upgrade, value);
        break;
      case 'connection':
        fields.connection = joined(fields.connection, value);
        break;
      case 'sec-websocket-key':
        fields['sec-websocket-key'] = joined(fields['sec-websocket-key'], value);
        break;
      case 'sec-websocket-version':
        fields['sec-websocket-version'] = joined(fields['sec-websocket-version'], value);
        break;
      case 'sec-websocket-protocol':
        fields['sec-websocket-protocol'] = joined(fields['sec-websocket-protocol'], value);
        break;
      case 'sec-websocket-extensions':
        fields['sec-websocket-extensions'] = joined(fields['sec-websocket-extensions'], value);
        break;
      case 'sec-websocket-origin':
        fields['sec-websocket-origin'] = joined(fields['sec-websocket-origin'], value);
        break;
      case 'origin':
        fields.origin = joined(fields.origin, value);
        break;
      case 'content-length':
        fields['content-length'] ??= value;
        break;
      case 'transfer-encoding':
        fields['transfer-encoding'] = joined(fields['transfer-encoding'], value);
        break;
    }
  }
  return fields;
}
