/**
 * Frame headers (RFC 6455 section 5.2), written in place into a caller's buffer: no allocation.
 *
 *   byte 0: FIN | RSV1 | RSV2 | RSV3 | opcode(4)
 *   byte 1: MASK | payload length(7): 0-125, or 126 (+ 16-bit length), or 127 (+ 64-bit length)
 *   then the masking key (4 bytes) when MASK is set
 */
import { MASK_BIT } from './constants';

/** The longest header: 2 + 8 (64-bit length) + 4 (masking key). */
export const MAX_HEADER_BYTES = 14;

/** The header's size for a payload of `length` bytes (section 5.2: the minimal length encoding). */
export function frameHeaderLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a header at target[offset..] and returns its length. `firstByte` is FIN/RSV/opcode as on the
 * wire; `key` (4 bytes) is copied after the length when the frame is masked, else pass null.
 */
export function writeFrameHeader(
  target: Uint8Array,
  offset: number,
  firstByte: number,
  length: number,
  key: Uint8Array | null,
): number {
  const maskBit = key === null ? 0 : MASK_BIT;
  target[offset] = firstByte;
  let at = offset + 2;
  if (length < 126) {
    target[offset + 1] = maskBit | length;
  } else if (length < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target[offset + 2] = length >>> 8;
    target[offset + 3] = length & 0xff;
    at += 2;
  } else {
    // Section 5.2: "the most significant bit MUST be 0"; lengths stay below 2^53, so split at 2^32.
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[offset + 1] = maskBit | 127;
    target[offset + 2] = high >>> 24;
    target[offset + 3] = (high >>> 16) & 0xff;
    target[offset + 4] = (high >>> 8) & 0xff;
    target[offset + 5] = high & 0xff;
    target[offset + 6] = low >>> 24;
    target[offset + 7] = (low >>> 16) & 0xff;
    target[offset + 8] = (low >>> 8) & 0xff;
    target[offset + 9] = low & 0xff;
    at += 8;
  }
  if (key !== null) {
    target[at] = key[0];
    target[at + 1] = key[1];
    target[at + 2] = key[2];
    target[at + 3] = key[3];
    at += 4;
  }
  return at - offset;
}
