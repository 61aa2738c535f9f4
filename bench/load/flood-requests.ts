/**
 * The two requests of the upgrade-rejection flood (issue 5), and the Origin allow-list every server
 * runs with during it. Each request is a well-formed opening handshake (RFC 6455 section 4.1) with one
 * fault, so the server must read it through before refusing it:
 *
 * - bad-key: a Sec-WebSocket-Key of the right length and alphabet that decodes to 18 bytes, not the
 *   16 that section 4.2.1 item 5 requires; the server must answer 400 Bad Request. Its Origin is an
 *   allowed one, so the key is the only reason to refuse it.
 * - bad-origin: a valid key from a page that is not on the allow-list; the server must answer
 *   403 Forbidden (section 4.2.2 item 4 and section 10.2).
 *
 * autocannon writes the fields in the order given here, after its own request line, Host and
 * `Connection: keep-alive` (so every request carries two Connection fields, which HTTP reads as one
 * list, "keep-alive, Upgrade": RFC 9110 section 5.3). The report shows the bytes it actually sent.
 */
export const ALLOWED_ORIGIN = 'https://app.example';
export const DISALLOWED_ORIGIN = 'https://evil.example';
/** The environment variable that gives a benchmark server its allow-list (servers/control.js). */
export const ORIGINS_ENV = 'SIMDWS_BENCH_ORIGINS';

/** 24 base64 characters without padding: 18 bytes once decoded (RFC 4648 section 4). */
export const BAD_KEY = 'AAAAAAAAAAAAAAAAAAAAAAAA';
/** The sample nonce of RFC 6455 section 1.3: 16 bytes in base64. */
export const VALID_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

export type FloodVariantId = 'bad-key' | 'bad-origin';

export interface FloodVariant {
  readonly id: FloodVariantId;
  /** What the table and the chart call it. */
  readonly label: string;
  /** The only status a correct server answers with. */
  readonly expectedStatus: 400 | 403;
  /** The header fields after autocannon's Host and Connection, in the order they are written. */
  readonly headers: Readonly<Record<string, string>>;
}

function handshakeFields(key: string, origin: string): Record<string, string> {
  return {
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    Origin: origin,
  };
}

export const FLOOD_VARIANTS: readonly FloodVariant[] = [
  { id: 'bad-key', label: 'bad key → 400', expectedStatus: 400, headers: handshakeFields(BAD_KEY, ALLOWED_ORIGIN) },
  { id: 'bad-origin', label: 'disallowed Origin → 403', expectedStatus: 403, headers: handshakeFields(VALID_KEY, DISALLOWED_ORIGIN) },
];

/** The request as the report prints it: the port replaced by a placeholder, CRLF shown as line ends. */
export function describeRequest(bytes: string, port: number): string {
  return bytes.split(`127.0.0.1:${port}`).join('127.0.0.1:PORT').replace(/\r\n/g, '\n').trimEnd();
}
