/**
 * The server's checks on an opening handshake request (RFC 6455 section 4.2.1), as a pure function
 * over the method and the headers. Statuses, messages and the order of the checks are ws 8's
 * (`WebSocketServer#handleUpgrade`), so a `wsClientError` listener or a client reading the response
 * sees the same thing, except where noted:
 *
 * - Upgrade and Connection are read as comma-separated lists (section 4.2.1 items 3 and 4: the header
 *   "contains" the token); ws 8 wants Upgrade to be exactly "websocket" and leaves Connection to
 *   Node's HTTP parser, which emits 'upgrade' only when Connection carries "upgrade".
 * - A Sec-WebSocket-Version that is present but not one we speak gets 426 Upgrade Required with the
 *   version we speak (section 4.2.2 item 4); ws answers 400 for it as for a missing one.
 */
import { isValidKey } from './accept-key';
import { ExtensionOffers, parse as parseExtensions } from './extension-header';
import type { UpgradeHeaders } from './handshake-fields';
import { headerListHas } from './header-list';
import { parse as parseSubprotocols } from './subprotocol-header';

export const MESSAGE_INVALID_METHOD = 'Invalid HTTP method';
export const MESSAGE_INVALID_UPGRADE = 'Invalid Upgrade header';
export const MESSAGE_INVALID_CONNECTION = 'Invalid Connection header';
export const MESSAGE_INVALID_KEY = 'Missing or invalid Sec-WebSocket-Key header';
export const MESSAGE_INVALID_VERSION = 'Missing or invalid Sec-WebSocket-Version header';
export const MESSAGE_INVALID_PROTOCOL = 'Invalid Sec-WebSocket-Protocol header';
/** Also the answer when an offer parses but the extension refuses it (ws uses one message for both). */
export const MESSAGE_INVALID_EXTENSIONS = 'Invalid or unacceptable Sec-WebSocket-Extensions header';

/** The protocol versions accepted: 13 (RFC 6455) and 8 (hybi-08, still sent by old clients), as ws. */
export type WebSocketVersion = 8 | 13;

/** ws's Sec-WebSocket-Version answer to a missing or unreadable version. */
const VERSIONS_HEADER_MISSING: Readonly<Record<string, string>> = {
  'Sec-WebSocket-Version': '13, 8',
};
/** Section 4.2.2 item 4: the answer to a version we do not speak names the one we prefer. */
const VERSIONS_HEADER_UNSUPPORTED: Readonly<Record<string, string>> = {
  'Sec-WebSocket-Version': '13',
};

export interface UpgradeRequestOptions {
  /**
   * Parse Sec-WebSocket-Extensions and refuse a malformed one. ws parses it only when its
   * `perMessageDeflate` option is on (off by default), and otherwise ignores the header.
   * Default: false.
   */
  readonly parseExtensions?: boolean;
}

export interface AcceptedUpgrade {
  readonly ok: true;
  /** Sec-WebSocket-Key, valid per section 4.2.1 item 5: hash it with `acceptKey`. */
  readonly key: string;
  readonly version: WebSocketVersion;
  /** Sec-WebSocket-Protocol's subprotocols in the client's order; empty when absent. */
  readonly protocols: Set<string>;
  /** Sec-WebSocket-Extensions as received, or undefined. */
  readonly extensions: string | undefined;
  /** The parsed extension offers; null unless `parseExtensions` is on and the header is present. */
  readonly offers: ExtensionOffers | null;
  /** Origin (Sec-WebSocket-Origin for version 8, as ws's `verifyClient` info); section 4.2.1 item 7. */
  readonly origin: string | undefined;
}

export interface RejectedUpgrade {
  readonly ok: false;
  /** The HTTP status to answer with (see `abortHandshake`). */
  readonly status: number;
  /** The response body, and the message of ws's `wsClientError` error. */
  readonly message: string;
  /** Extra response headers, or undefined. */
  readonly headers: Readonly<Record<string, string>> | undefined;
}

export type UpgradeRequestResult = AcceptedUpgrade | RejectedUpgrade;

function reject(
  status: number,
  message: string,
  headers?: Readonly<Record<string, string>>,
): RejectedUpgrade {
  return { ok: false, status, message, headers };
}

/** A header Node may hand over as an array (one it does not know) read as the list it stands for. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Checks an upgrade request in ws's order: method, Upgrade, (Connection), Sec-WebSocket-Key,
 * Sec-WebSocket-Version, Sec-WebSocket-Protocol, Sec-WebSocket-Extensions.
 */
export function validateUpgradeRequest(
  method: string | undefined,
  headers: UpgradeHeaders,
  options: UpgradeRequestOptions = {},
): UpgradeRequestResult {
  // Section 4.1 item 2 / 4.2.1 item 1: the handshake is a GET.
  if (method !== 'GET') return reject(405, MESSAGE_INVALID_METHOD);

  const upgrade = headers.upgrade;
  if (upgrade === undefined || !headerListHas(upgrade, 'websocket')) {
    return reject(400, MESSAGE_INVALID_UPGRADE);
  }

  const connection = headers.connection;
  if (connection === undefined || !headerListHas(connection, 'upgrade')) {
    return reject(400, MESSAGE_INVALID_CONNECTION);
  }

  const key = headers['sec-websocket-key'];
  if (key === undefined || !isValidKey(key)) return reject(400, MESSAGE_INVALID_KEY);

  // Section 4.2.1 item 6. ws reads the version with Number(), so it accepts what Number() reads as
  // 8 or 13; so do we. Only an absent or non-numeric value is "missing or invalid".
  const versionHeader = headers['sec-websocket-version'];
  const version = versionHeader === undefined || versionHeader.trim() === '' ? NaN : +versionHeader;
  if (Number.isNaN(version)) return reject(400, MESSAGE_INVALID_VERSION, VERSIONS_HEADER_MISSING);
  if (version !== 13 && version !== 8) {
    return reject(426, MESSAGE_INVALID_VERSION, VERSIONS_HEADER_UNSUPPORTED);
  }

  const protocolHeader = headers['sec-websocket-protocol'];
  let protocols = new Set<string>();
  if (protocolHeader !== undefined) {
    try {
      protocols = parseSubprotocols(protocolHeader);
    } catch {
      return reject(400, MESSAGE_INVALID_PROTOCOL);
    }
  }

  const extensions = headers['sec-websocket-extensions'];
  let offers: ExtensionOffers | null = null;
  if (options.parseExtensions === true && extensions !== undefined) {
    try {
      offers = parseExtensions(extensions);
    } catch {
      return reject(400, MESSAGE_INVALID_EXTENSIONS);
    }
  }

  const origin = version === 8 ? single(headers['sec-websocket-origin']) : headers.origin;
  return { ok: true, key, version, protocols, extensions, offers, origin };
}
