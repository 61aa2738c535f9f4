/**
 * The kernel contract: the pure functions over bytes that every tier (native, wasm, ts)
 * implements with byte-identical results. No tier keeps state between calls.
 *
 * scan(chunk, start, end, records, options) parses every complete frame in chunk[start..end),
 * unmasks each payload in place, and appends one record per frame to `records`. It stops at the
 * first frame it cannot finish and says why in a terminal record. It never throws on malformed
 * input and never reads or writes outside [start, end) of `chunk`.
 *
 * Record layout: RECORD_WORDS consecutive Int32 words.
 *
 *   word  name            FRAME            PARTIAL          NEED_HEADER   ERROR            FULL
 *   0     INFO            byte0|MASK<<8|kind<<12 (the first header byte, the MASK bit, the kind)
 *   1     FRAME_START     header offset    header offset    offset        header offset    offset
 *   2     PAYLOAD_START   payload offset   payload offset   0             0                0
 *   3     LENGTH_LOW      length (low 32)  length (low 32)  0             error id         0
 *   4     LENGTH_HIGH     length (high 21) length (high)    0             0                0
 *   5     EXTRA           0                masking key      0             close code       0
 *
 * Kinds:
 *   FRAME        a whole frame; its payload is unmasked in place.
 *   PARTIAL      the header is whole but the payload runs past `end`; nothing was unmasked. The
 *                masking key (big-endian, as on the wire) lets the caller unmask what arrives.
 *   NEED_HEADER  fewer bytes than the header needs remain; keep chunk[FRAME_START..end).
 *   ERROR        a header breaks RFC 6455; EXTRA is the close code it calls for (section 7.4.1).
 *   FULL         `records` has one slot left and bytes remain; call again from FRAME_START.
 * A call that consumes exactly up to `end` ends with a FRAME record (or writes nothing when
 * start === end); every other call ends with one terminal record.
 *
 * Pinned readings (the shared suite in test/kernels holds every tier to them):
 * - NEED_HEADER and FULL records carry only their kind in INFO (byte0 and MASK are 0).
 * - Header checks start once two bytes are in: a lone first byte is NEED_HEADER, whatever it holds.
 * - A 64-bit length that is too large is reported once the whole header (masking key included) is
 *   in; ws reports it four bytes earlier, before the key. Either way the connection fails with 1009.
 * - Non-minimal length encodings are accepted, as ws accepts them.
 */

export const RECORD_WORDS = 6;

export const WORD_INFO = 0;
export const WORD_FRAME_START = 1;
export const WORD_PAYLOAD_START = 2;
export const WORD_LENGTH_LOW = 3;
export const WORD_LENGTH_HIGH = 4;
export const WORD_EXTRA = 5;

export const KIND_SHIFT = 12;
export const KIND_FRAME = 0;
export const KIND_PARTIAL = 1;
export const KIND_NEED_HEADER = 2;
export const KIND_ERROR = 3;
export const KIND_FULL = 4;

/** INFO bits 0-7 are the first header byte as on the wire (RFC 6455 section 5.2). */
export const INFO_FIN = 0x80;
export const INFO_RSV1 = 0x40;
export const INFO_RSV2 = 0x20;
export const INFO_RSV3 = 0x10;
export const INFO_OPCODE = 0x0f;
/** INFO bit 8 is the MASK bit of the second header byte. */
export const INFO_MASKED = 0x100;

/** Options for scan: which side we are, and which extensions were negotiated. */
export const SCAN_EXPECT_MASKED = 1; // we are the server: every client frame must be masked (5.1)
export const SCAN_ALLOW_RSV1 = 2; // permessage-deflate was negotiated (RFC 7692 section 6)

/**
 * Error ids, in the order they are checked (the order ws's Receiver checks them, so the same bytes
 * give the same error). The first four need only the first two header bytes.
 */
export const ERROR_RSV_2_3 = 1; // 5.2: RSV2/RSV3 set without an extension defining them
export const ERROR_RSV_1 = 2; // 5.2, RFC 7692 6.1: RSV1 without deflate, or on a control/continuation frame
export const ERROR_INVALID_OPCODE = 3; // 5.2: opcodes 3-7 and 0xB-0xF are reserved
export const ERROR_CONTROL_NOT_FIN = 4; // 5.5: control frames must not be fragmented
export const ERROR_CONTROL_PAYLOAD_LENGTH = 5; // 5.5: control payload <= 125; 5.5.1: close body is 0 or >= 2
export const ERROR_EXPECTED_MASK = 6; // 5.1: a server must close on an unmasked frame
export const ERROR_UNEXPECTED_MASK = 7; // 5.1: a client must close on a masked frame
export const ERROR_LENGTH_TOO_LARGE = 8; // 5.2: MSB must be 0; we also refuse lengths above 2^53 - 1

export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_MESSAGE_TOO_BIG = 1009;

/** The most payload bytes a 64-bit length may declare: 2^53 - 1, the largest exact JS integer. */
export const MAX_LENGTH_HIGH = 0x1fffff;

/** records must hold at least this many words: one frame and one terminal record. */
export const MIN_RECORDS_WORDS = 2 * RECORD_WORDS;

export type TierName = 'native' | 'wasm' | 'ts';

export interface Kernel {
  /** Which tier this is; `variant` says which build of it (e.g. 'avx2', 'simd', 'scalar', 'words'). */
  readonly name: TierName;
  readonly variant: string;
  /** Returns the number of records written. See the contract above. */
  scan(chunk: Uint8Array, start: number, end: number, records: Int32Array, options: number): number;
  /** output[offset + i] = source[i] ^ key[i & 3] for i < length (bufferutil's mask). */
  mask(source: Uint8Array, key: Uint8Array, output: Uint8Array, offset: number, length: number): void;
  /** buffer[offset + i] ^= key[i & 3] for i < length. */
  unmask(buffer: Uint8Array, key: Uint8Array, offset: number, length: number): void;
}

/** Writes record `index` (the layout above); every tier's JavaScript side writes records through it. */
export function writeRecord(
  records: Int32Array,
  index: number,
  info: number,
  frameStart: number,
  payloadStart: number,
  lengthLow: number,
  lengthHigh: number,
  extra: number,
): void {
  const base = index * RECORD_WORDS;
  records[base + WORD_INFO] = info;
  records[base + WORD_FRAME_START] = frameStart;
  records[base + WORD_PAYLOAD_START] = payloadStart;
  records[base + WORD_LENGTH_LOW] = lengthLow;
  records[base + WORD_LENGTH_HIGH] = lengthHigh;
  records[base + WORD_EXTRA] = extra;
}

export function recordKind(records: Int32Array, index: number): number {
  return (records[index * RECORD_WORDS + WORD_INFO] >>> KIND_SHIFT) & 7;
}

/** The payload length of a FRAME or PARTIAL record, exact up to 2^53 - 1. */
export function recordLength(records: Int32Array, index: number): number {
  const base = index * RECORD_WORDS;
  return records[base + WORD_LENGTH_HIGH] * 0x100000000 + (records[base + WORD_LENGTH_LOW] >>> 0);
}
