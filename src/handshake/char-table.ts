/**
 * One 256-entry table of character classes for the handshake parsers, so every per-character test is
 * a single load and mask instead of a regex or a chain of comparisons.
 *
 * A code unit above 0xff is in no class: look it up through `charClass`, which answers 0 for it.
 */

/** RFC 7230 section 3.2.6: tchar, the characters of a token (extension, parameter, subprotocol). */
export const CHAR_TOKEN = 1;
/** RFC 4648 section 4: the base64 alphabet without the '=' pad (Sec-WebSocket-Key, RFC 6455 4.1). */
export const CHAR_BASE64 = 2;

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** The punctuation RFC 7230 section 3.2.6 allows in a tchar, besides DIGIT and ALPHA. */
const TOKEN_PUNCTUATION = "!#$%&'*+-.^_`|~";
const BASE64_PUNCTUATION = '+/';

function buildTable(): Uint8Array {
  const table = new Uint8Array(256);
  const mark = (characters: string, flag: number): void => {
    for (let i = 0; i < characters.length; i++) table[characters.charCodeAt(i)] |= flag;
  };
  mark(DIGITS + UPPER + LOWER + TOKEN_PUNCTUATION, CHAR_TOKEN);
  mark(DIGITS + UPPER + LOWER + BASE64_PUNCTUATION, CHAR_BASE64);
  return table;
}

const CHAR_TABLE = buildTable();

/** The class bits of a UTF-16 code unit (0 for anything above 0xff). */
export function charClass(code: number): number {
  return code < 256 ? CHAR_TABLE[code] : 0;
}

/** Whether a UTF-16 code unit is an RFC 7230 tchar. */
export function isTokenChar(code: number): boolean {
  return (charClass(code) & CHAR_TOKEN) !== 0;
}

/** RFC 7230 section 3.2.3: OWS is space or horizontal tab. */
export function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
