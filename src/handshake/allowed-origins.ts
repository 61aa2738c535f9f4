/**
 * An Origin allow-list (RFC 6455 section 4.2.2 item 4 and section 10.2): a browser always sends the
 * page's origin, so a server that only serves its own pages refuses the others with 403 Forbidden,
 * which stops cross-site WebSocket hijacking.
 *
 * Entries are exact serialized origins, `scheme://host[:port]` (RFC 6454 section 6.2), compared
 * ASCII case-insensitively (scheme and host are case-insensitive; a port is digits). A request with
 * no Origin, or the opaque origin "null", is refused: the list says which pages may connect, and a
 * request without a page is none of them.
 */
import type { RejectedUpgrade } from './upgrade-request';

export const MESSAGE_ORIGIN_NOT_ALLOWED = 'Forbidden';

export type OriginDecision = { readonly ok: true } | RejectedUpgrade;

/**
 * Serialized origins are visible ASCII (RFC 6454 section 6.2 writes hosts in punycode); refusing the
 * rest first also keeps toLowerCase to ASCII, where it cannot fold a non-ASCII letter ("\u212a",
 * KELVIN SIGN) onto an allowed host's "k".
 */
const OUTSIDE_VISIBLE_ASCII = /[^\x21-\x7e]/;

const ACCEPTED: OriginDecision = { ok: true };
const FORBIDDEN: OriginDecision = {
  ok: false,
  status: 403,
  message: MESSAGE_ORIGIN_NOT_ALLOWED,
  headers: undefined,
};

function isSchemeChar(code: number, first: boolean): boolean {
  const letter = (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
  if (first) return letter;
  // RFC 3986 section 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  return (
    letter || (code >= 0x30 && code <= 0x39) || code === 0x2b || code === 0x2d || code === 0x2e
  );
}

/** RFC 6454 section 6.2: scheme "://" host [ ":" port ], with no userinfo, path, query or fragment. */
function isSerializedOrigin(entry: string): boolean {
  const separator = entry.indexOf('://');
  if (separator <= 0) return false;
  for (let i = 0; i < separator; i++) {
    if (!isSchemeChar(entry.charCodeAt(i), i === 0)) return false;
  }
  const authority = entry.slice(separator + 3);
  if (authority === '' || OUTSIDE_VISIBLE_ASCII.test(authority) || /[/?#@]/.test(authority)) {
    return false;
  }
  const colon = authority.lastIndexOf(':');
  // An IPv6 literal ("[::1]") holds colons of its own; the port's colon follows its "]".
  if (colon === -1 || colon < authority.lastIndexOf(']')) return true;
  const port = authority.slice(colon + 1);
  return colon > 0 && port.length > 0 && port.length <= 5 && /^[0-9]+$/.test(port);
}

/**
 * Builds the check for a fixed list of allowed origins. Throws a TypeError (API misuse) for an entry
 * that is not a bare serialized origin, such as one with a trailing "/" or a path.
 */
export function allowedOrigins(
  origins: readonly string[],
): (origin: string | undefined) => OriginDecision {
  const allowed = new Set<string>();
  for (const entry of origins) {
    if (!isSerializedOrigin(entry)) {
      throw new TypeError(`Not an origin (scheme://host[:port]): ${JSON.stringify(entry)}`);
    }
    allowed.add(entry.toLowerCase());
  }
  return (origin) =>
    origin !== undefined && !OUTSIDE_VISIBLE_ASCII.test(origin) && allowed.has(origin.toLowerCase())
      ? ACCEPTED
      : FORBIDDEN;
}
