/**
 * Sec-WebSocket-Protocol (RFC 6455 section 4.1 item 10 and section 11.3.4): a comma-separated list of
 * tokens, parsed as ws's `subprotocol.parse` does, with the same SyntaxError messages.
 *
 * One pass, one table lookup per character, no regex: a long run of spaces or commas (the
 * CVE-2021-32640 shape) costs one step per character.
 */
import { isTokenChar, isWhitespace } from './char-table';

const COMMA = 0x2c;

function add(protocols: Set<string>, protocol: string): void {
  // Section 11.3.4: each value names a distinct subprotocol; a repeat is a malformed offer.
  if (protocols.has(protocol)) {
    throw new SyntaxError(`The "${protocol}" subprotocol is duplicated`);
  }
  protocols.add(protocol);
}

/** Parses a Sec-WebSocket-Protocol value into its subprotocol names, in header order. */
export function parse(header: string): Set<string> {
  const protocols = new Set<string>();
  // Bounds of the name being read; end is set by the whitespace that ends it.
  let start = -1;
  let end = -1;
  let i = 0;

  for (; i < header.length; i++) {
    const code = header.charCodeAt(i);

    if (end === -1 && isTokenChar(code)) {
      if (start === -1) start = i;
    } else if (i !== 0 && isWhitespace(code)) {
      if (end === -1 && start !== -1) end = i;
    } else if (code === COMMA) {
      if (start === -1) throw new SyntaxError(`Unexpected character at index ${i}`);
      add(protocols, header.slice(start, end === -1 ? i : end));
      start = end = -1;
    } else {
      throw new SyntaxError(`Unexpected character at index ${i}`);
    }
  }

  // Neither an empty last element nor trailing whitespace is accepted, as in ws.
  if (start === -1 || end !== -1) throw new SyntaxError('Unexpected end of input');

  add(protocols, header.slice(start, i));
  return protocols;
}
