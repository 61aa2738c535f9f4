/**
 * Payloads the peers exchange. The byte pattern is not periodic in 4, so a masking key applied at
 * the wrong offset or not at all (RFC 6455 section 5.3) changes the bytes and the comparison fails.
 */

/**
 * Deterministic bytes for a length and a seed. Kept free of inner functions and TypeScript-only
 * syntax: the browser page embeds its source text, so both ends build the same bytes.
 */
export function patternBytes(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >>> 11) * 7 + seed) & 0xff;
  return bytes;
}

export const KIB = 1024;
export const MIB = 1024 * KIB;

/**
 * Text from every UTF-8 length class (RFC 3629): ASCII, Latin-1 (2 bytes), CJK (3 bytes), emoji
 * and other astral characters as surrogate pairs (4 bytes), a ZWJ sequence, and combining marks.
 * No lone surrogates: a browser would replace them with U+FFFD before sending.
 */
export const UNICODE_SAMPLE = 'héllo wörld · 你好，世界 · こんにちは · 한국어 · 😀🎉👩‍💻🇫🇷 · 𝄞 𠜎 · é = é';

/** A close reason with multi-byte characters, within the 123 bytes a close frame allows (5.5, 5.5.1). */
export const UNICODE_CLOSE_REASON = 'au revoir 👋 再见';
