/**
 * Fail-fast UTF-8 validation of a text message that arrives in pieces (fragments, or a frame split
 * across socket chunks). RFC 6455 section 8.1: an endpoint that finds invalid UTF-8 "MUST _Fail the
 * WebSocket Connection_", and may do so as soon as the bytes seen so far cannot start valid text.
 * Each piece is checked with Node's `buffer.isUtf8` up to its last complete code point; the incomplete
 * tail (at most 3 bytes) is checked as a prefix and carried into the next piece.
 */
import { isUtf8 } from 'buffer';

/** The length of the sequence a lead byte starts (RFC 3629 section 4), or 0 for a byte no sequence starts with. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Whether `bytes[0..length)` (shorter than its sequence) can still become a valid code point. The
 * second byte's range depends on the lead byte, which rules out overlong forms, surrogates and code
 * points above U+10FFFF (RFC 3629 section 4, "UTF8-3" and "UTF8-4").
 */
function isValidPrefix(bytes: Uint8Array, length: number): boolean {
  const lead = bytes[0];
  if (sequenceLength(lead) === 0) return false;
  if (length < 2) return true;
  const second = bytes[1];
  const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
  const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
  if (second < low || second > high) return false;
  return length < 3 || (bytes[2] & 0xc0) === 0x80;
}

export class Utf8Stream {
  private readonly tail = new Uint8Array(4);
  private tailLength = 0;

  /** Forget any carried bytes: a new message starts. */
  reset(): void {
    this.tailLength = 0;
  }

  /**
   * Checks the next piece of the text. `final` says it is the last one, so an incomplete code point
   * at its end is an error. Returns false as soon as the text cannot be valid.
   */
  write(piece: Uint8Array, final: boolean): boolean {
    let start = 0;
    if (this.tailLength > 0) {
      const need = sequenceLength(this.tail[0]);
      while (this.tailLength < need && start < piece.length) this.tail[this.tailLength++] = piece[start++];
      if (this.tailLength < need) return !final && isValidPrefix(this.tail, this.tailLength);
      this.tailLength = 0;
      if (!isUtf8(this.tail.subarray(0, need))) return false;
    }
    const end = piece.length;
    // Find where the last sequence starts: at most 3 continuation bytes (10xxxxxx) can precede the end.
    let last = end - 1;
    while (last > start && last >= end - 3 && (piece[last] & 0xc0) === 0x80) last--;
    let cut = end;
    if (last >= start) {
      const need = sequenceLength(piece[last]);
      if (need > end - last) cut = last;
    }
    if (cut > start && !isUtf8(piece.subarray(start, cut))) return false;
    if (cut === end) return true;
    if (final) return false;
    const length = end - cut;
    this.tail.set(piece.subarray(cut, end));
    this.tailLength = length;
    return isValidPrefix(this.tail, length);
  }
}
