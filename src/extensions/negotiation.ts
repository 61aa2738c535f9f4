/**
 * permessage-deflate negotiation (RFC 7692 section 7): the client's offer, the server's choice among
 * the offers, and the client's check of the server's response, with ws's option names, results and
 * error messages.
 *
 * Where we part from ws, the RFC is the reason:
 * - Section 7: a server "MUST decline" an offer with an unknown, duplicated or invalid parameter, and
 *   goes on to the next offer. ws throws instead (its server answers 400). We decline that offer only.
 * - Sections 7.1.2.1 and 7.1.2.2: window bits are "a decimal integer value without leading zeroes
 *   between 8 to 15", so "08", "1e1" or "0xa" are invalid here; ws reads them with `+value`.
 * - Section 7.1.2.1: server_max_window_bits always carries a value, so `serverMaxWindowBits: true`
 *   puts nothing in our offer, where ws writes a bare server_max_window_bits that servers must refuse.
 */
import type { ZlibOptions } from 'zlib';
import type { ExtensionParams } from '../handshake/extension-header';

/** ws's `perMessageDeflate` options, with ws's defaults. */
export interface PerMessageDeflateOptions {
  /**
   * Server: accept offers asking the server not to keep its LZ77 window between messages, and ask it
   * ourselves when true; false declines such offers. Client: request it. Default: undefined (accept).
   * RFC 7692 section 7.1.1.1.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: tell the client not to keep its window between messages. Client: announce it; false refuses
   * a response that asks it. Default: undefined. RFC 7692 section 7.1.1.2.
   */
  clientNoContextTakeover?: boolean;
  /**
   * Base-2 log of the server's LZ77 window, 8-15. Server: the largest it will use (an offer asking for
   * less is declined); false declines offers that limit it. Client: requested from the server.
   * Default: undefined (15, or the offer's value). RFC 7692 section 7.1.2.1.
   */
  serverMaxWindowBits?: boolean | number;
  /**
   * Base-2 log of the client's LZ77 window, 8-15. Server: asked of clients (offers that do not allow it
   * are declined); false keeps the parameter out of the response. Client: offered with this value;
   * undefined offers it without a value; false does not offer it. RFC 7692 section 7.1.2.2.
   */
  clientMaxWindowBits?: boolean | number;
  /** Passed to zlib's deflateRaw (level, memLevel, strategy, chunkSize …); windowBits comes from params. */
  zlibDeflateOptions?: ZlibOptions;
  /** Passed to zlib's inflateRaw (chunkSize …); windowBits comes from params. */
  zlibInflateOptions?: ZlibOptions;
  /**
   * Messages shorter than this many bytes are sent uncompressed when our side keeps no context between
   * messages (nothing to gain from a fresh window). Default: 1024.
   */
  threshold?: number;
  /** Most zlib jobs running at once in the process; the first instance sets it. Default: 10. */
  concurrencyLimit?: number;
  /**
   * simdws's own: frames whose input is at most this many bytes are (de)compressed on the main thread,
   * on the connection's own zlib stream, with their callback run before compress/decompress returns;
   * 0 sends every frame to the thread pool, as ws. Default: SYNC_MAX_INPUT_BYTES (8 KiB, from the
   * deflate-sync crossover table in bench/RESULTS.md).
   */
  syncMaxInputBytes?: number;
  /** ws 8.23's form of the constructor's `isServer` argument. Default: false. */
  isServer?: boolean;
  /** ws 8.23's form of the constructor's `maxPayload` argument, in bytes; 0 = no limit. Default: 0. */
  maxPayload?: number;
}

/**
 * A configuration as negotiated: ws's `params` (parameter names as on the wire). A type, not an
 * interface, so that it passes as it is to the extension-header `format`.
 */
export type DeflateParams = {
  server_no_context_takeover?: true;
  client_no_context_takeover?: true;
  server_max_window_bits?: number;
  /** `true` only in an offer: the client supports the parameter without asking for a value. */
  client_max_window_bits?: number | true;
};

const PARAMETERS: ReadonlySet<string> = new Set([
  'server_no_context_takeover',
  'client_no_context_takeover',
  'server_max_window_bits',
  'client_max_window_bits',
]);

/** The client's offer for `options` (RFC 7692 section 7.1), parameters in ws's order. */
export function buildOffer(options: PerMessageDeflateOptions): DeflateParams {
  const offer: DeflateParams = {};
  if (options.serverNoContextTakeover) offer.server_no_context_takeover = true;
  if (options.clientNoContextTakeover) offer.client_no_context_takeover = true;
  if (typeof options.serverMaxWindowBits === 'number' && options.serverMaxWindowBits !== 0) {
    offer.server_max_window_bits = options.serverMaxWindowBits;
  }
  const clientBits = options.clientMaxWindowBits;
  if (typeof clientBits === 'number' && clientBits !== 0) {
    offer.client_max_window_bits = clientBits;
  } else if (clientBits === true || clientBits == null) {
    // Section 7.1.2.2: without a value it says "I can limit my window if you ask".
    offer.client_max_window_bits = true;
  }
  return offer;
}

/** "8" … "15" exactly: sections 7.1.2.1-7.1.2.2 allow no sign, no leading zero, no other notation. */
function parseWindowBits(value: string): number {
  const c0 = value.charCodeAt(0);
  if (value.length === 1 && (c0 === 0x38 || c0 === 0x39)) return c0 - 0x30;
  const c1 = value.charCodeAt(1);
  if (value.length === 2 && c0 === 0x31 && c1 >= 0x30 && c1 <= 0x35) return 10 + c1 - 0x30;
  return -1;
}

function invalidValue(key: string, value: string | true): TypeError {
  return new TypeError(`Invalid value for parameter "${key}": ${value}`);
}

/**
 * Checks one configuration against section 7's rules and returns it typed, or the error ws gives for
 * it. `inOffer`: the configuration is a client's offer (only there may client_max_window_bits come
 * without a value); otherwise it is a server's response.
 */
export function validateConfiguration(params: ExtensionParams, inOffer: boolean): DeflateParams | Error {
  const result: DeflateParams = {};
  for (const key of Object.keys(params)) {
    const values = params[key];
    // ws's order: a duplicate is reported before an unknown name.
    if (values.length > 1) return new Error(`Parameter "${key}" must have only a single value`);
    if (!PARAMETERS.has(key)) return new Error(`Unknown parameter "${key}"`);
    const value = values[0];
    if (key === 'server_no_context_takeover' || key === 'client_no_context_takeover') {
      // Sections 7.1.1.1-7.1.1.2: these parameters have no value.
      if (value !== true) return invalidValue(key, value);
      result[key] = true;
    } else if (value === true) {
      if (key === 'server_max_window_bits' || !inOffer) return invalidValue(key, value);
      result.client_max_window_bits = true;
    } else {
      const bits = parseWindowBits(value);
      if (bits === -1) return invalidValue(key, value);
      result[key as 'server_max_window_bits' | 'client_max_window_bits'] = bits;
    }
  }
  return result;
}

/**
 * Whether a server with `options` can take this (valid) offer, as ws decides it: it declines when the
 * offer forbids what the options insist on.
 */
function canAccept(offer: DeflateParams, options: PerMessageDeflateOptions): boolean {
  // Section 7.1.1.1: taking an offer with server_no_context_takeover means honouring it.
  if (options.serverNoContextTakeover === false && offer.server_no_context_takeover) return false;
  // Section 7.1.2.1: the response's server_max_window_bits must not exceed the offer's.
  if (offer.server_max_window_bits !== undefined) {
    const wanted = options.serverMaxWindowBits;
    if (wanted === false || (typeof wanted === 'number' && wanted > offer.server_max_window_bits)) return false;
  }
  // Section 7.1.2.2: a server may ask for client_max_window_bits only if the offer has it.
  const clientBits = options.clientMaxWindowBits;
  if (typeof clientBits === 'number') {
    const offered = offer.client_max_window_bits;
    if (offered === undefined) return false;
    if (typeof offered === 'number' && clientBits > offered) return false;
  }
  return true;
}

/** The response to an offer the server takes: the offer, adjusted by the options as ws does. */
function respond(offer: DeflateParams, options: PerMessageDeflateOptions): DeflateParams {
  const response: DeflateParams = { ...offer };
  if (options.serverNoContextTakeover) response.server_no_context_takeover = true;
  if (options.clientNoContextTakeover) response.client_no_context_takeover = true;
  if (typeof options.serverMaxWindowBits === 'number') response.server_max_window_bits = options.serverMaxWindowBits;
  if (typeof options.clientMaxWindowBits === 'number') {
    response.client_max_window_bits = options.clientMaxWindowBits;
  } else if (response.client_max_window_bits === true || options.clientMaxWindowBits === false) {
    // Section 7.1.2.2: a response's client_max_window_bits must have a value; without one, leave it out.
    delete response.client_max_window_bits;
  }
  return response;
}

/**
 * Server side (section 7): the response to the first offer that is valid and that the options can
 * satisfy; every other offer is declined. null when all are declined (no permessage-deflate).
 */
export function acceptOffer(offers: readonly ExtensionParams[], options: PerMessageDeflateOptions): DeflateParams | null {
  for (const params of offers) {
    const offer = validateConfiguration(params, true);
    if (!(offer instanceof Error) && canAccept(offer, options)) return respond(offer, options);
  }
  return null;
}

/**
 * Client side (section 7): the configuration the server's response sets, or throws with ws's message
 * when the client must fail the connection. Like ws, only the first element is read.
 */
export function acceptResponse(response: readonly ExtensionParams[], options: PerMessageDeflateOptions): DeflateParams {
  let params: DeflateParams | null = null;
  for (const element of response) {
    const checked = validateConfiguration(element, false);
    if (checked instanceof Error) throw checked;
    params ??= checked;
  }
  if (params === null) throw new Error('The response has no permessage-deflate configuration');
  // Section 7.1.1.2: a client may refuse to drop its context when asked.
  if (options.clientNoContextTakeover === false && params.client_no_context_takeover) {
    throw new Error('Unexpected parameter "client_no_context_takeover"');
  }
  const clientBits = options.clientMaxWindowBits;
  if (params.client_max_window_bits === undefined) {
    // Section 7.1.2.2: the value we offered still bounds our own window.
    if (typeof clientBits === 'number') params.client_max_window_bits = clientBits;
  } else if (
    clientBits === false ||
    (typeof clientBits === 'number' && (params.client_max_window_bits as number) > clientBits)
  ) {
    throw new Error('Unexpected or invalid parameter "client_max_window_bits"');
  }
  return params;
}
