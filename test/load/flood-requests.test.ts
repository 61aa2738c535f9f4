/**
 * The flood's requests, as autocannon builds them from our fields: each must be a complete opening
 * handshake (RFC 6455 section 4.1) with exactly one fault, judged by simdws's own checks, so a 400 or
 * 403 answer means the server read the request through to that fault.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_ORIGIN, BAD_KEY, describeRequest, DISALLOWED_ORIGIN, FLOOD_VARIANTS, FloodVariant, VALID_KEY,
} from '../../bench/load/flood-requests';
import { isValidKey } from '../../src/handshake/accept-key';
import { allowedOrigins } from '../../src/handshake/allowed-origins';
import { validateUpgradeRequest } from '../../src/handshake/upgrade-request';

type BuildRequest = (request: { headers: Record<string, string> }) => Buffer;
const requestBuilder = createRequire(__filename)('autocannon/lib/httpRequestBuilder') as (defaults: object) => BuildRequest;

const PORT = 40123;

/** The bytes autocannon writes for a variant: its request line, Host, Connection: keep-alive, then our fields. */
function wireRequest(variant: FloodVariant): string {
  const build = requestBuilder({ hostname: '127.0.0.1', port: PORT, method: 'GET', path: '/' });
  return build({ headers: { ...variant.headers } }).toString('latin1');
}

/** The request's fields as Node's HTTP parser hands them over: lower-case names, repeated ones joined with ", ". */
function parsedHeaders(request: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of request.split('\r\n').slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return headers;
}

function variant(id: FloodVariant['id']): FloodVariant {
  return FLOOD_VARIANTS.find((entry) => entry.id === id) as FloodVariant;
}

const originCheck = allowedOrigins([ALLOWED_ORIGIN]);

describe('the flood requests', () => {
  it('are whole GET requests that end with the blank line and carry every handshake field', () => {
    for (const entry of FLOOD_VARIANTS) {
      const request = wireRequest(entry);
      expect(request.startsWith('GET / HTTP/1.1\r\n')).toBe(true);
      expect(request.endsWith('\r\n\r\n')).toBe(true);
      expect(request.split('\r\n\r\n')).toHaveLength(2);
      const headers = parsedHeaders(request);
      expect(headers.host).toBe(`127.0.0.1:${PORT}`);
      expect(headers.upgrade).toBe('websocket');
      // autocannon's own keep-alive field and ours: one list that contains "upgrade" (RFC 9110 section 5.3).
      expect(headers.connection).toBe('keep-alive, Upgrade');
      expect(headers['sec-websocket-version']).toBe('13');
    }
  });

  it('bad-key: refused for its key alone (400), its Origin being allowed', () => {
    const entry = variant('bad-key');
    expect(entry.expectedStatus).toBe(400);
    const headers = parsedHeaders(wireRequest(entry));
    expect(headers['sec-websocket-key']).toBe(BAD_KEY);
    expect(BAD_KEY).toHaveLength(24);
    expect(Buffer.from(BAD_KEY, 'base64')).toHaveLength(18);
    expect(isValidKey(BAD_KEY)).toBe(false);
    expect(originCheck(headers.origin).ok).toBe(true);
    const result = validateUpgradeRequest('GET', headers);
    expect(result).toMatchObject({ ok: false, status: 400 });
  });

  it('bad-origin: a valid handshake from a page not on the list (403)', () => {
    const entry = variant('bad-origin');
    expect(entry.expectedStatus).toBe(403);
    const headers = parsedHeaders(wireRequest(entry));
    expect(headers['sec-websocket-key']).toBe(VALID_KEY);
    expect(Buffer.from(VALID_KEY, 'base64')).toHaveLength(16);
    expect(validateUpgradeRequest('GET', headers).ok).toBe(true);
    expect(headers.origin).toBe(DISALLOWED_ORIGIN);
    expect(originCheck(headers.origin)).toMatchObject({ ok: false, status: 403 });
  });

  it('are printed with the port as PORT and one field per line', () => {
    const text = describeRequest(wireRequest(variant('bad-origin')), PORT);
    expect(text).not.toContain(String(PORT));
    expect(text).not.toContain('\r');
    expect(text.split('\n')).toEqual([
      'GET / HTTP/1.1',
      'Host: 127.0.0.1:PORT',
      'Connection: keep-alive',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${VALID_KEY}`,
      'Sec-WebSocket-Version: 13',
      `Origin: ${DISALLOWED_ORIGIN}`,
    ]);
  });
});
