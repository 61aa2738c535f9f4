/**
 * Membership in a comma-separated header list (RFC 7230 section 7, the #rule), compared as ASCII
 * case-insensitive: RFC 6455 section 4.2.1 asks for the token "websocket" in Upgrade and "Upgrade" in
 * Connection, either of which may carry other tokens too ("keep-alive, Upgrade").
 */
import { isWhitespace } from './char-table';

function toLowerAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}

/** Whether `text[from..to)` equals `lowerToken` ignoring ASCII case. */
function equalsIgnoringCase(text: string, from: number, to: number, lowerToken: string): boolean {
  if (to - from !== lowerToken.length) return false;
  for (let i = 0; i < lowerToken.length; i++) {
    if (toLowerAscii(text.charCodeAt(from + i)) !== lowerToken.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether the list `value` has an element equal to `lowerToken` (given in lower case). Elements are
 * trimmed of OWS; empty elements are skipped, as section 7 allows. One pass, no allocation.
 */
export function headerListHas(value: string, lowerToken: string): boolean {
  let from = 0;
  while (from <= value.length) {
    let to = value.indexOf(',', from);
    if (to === -1) to = value.length;
    let first = from;
    let last = to;
    while (first < last && isWhitespace(value.charCodeAt(first))) first++;
    while (last > first && isWhitespace(value.charCodeAt(last - 1))) last--;
    if (equalsIgnoringCase(value, first, last, lowerToken)) return true;
    from = to + 1;
  }
  return false;
}
