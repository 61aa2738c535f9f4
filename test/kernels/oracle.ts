/**
 * The reference every kernel tier is compared against: scan, mask and unmask written byte by byte,
 * straight from src/kernels/contract.ts and RFC 6455 section 5.2, with no word tricks and BigInt
 * lengths, so that it is easy to check by reading. Independent of src/kernels/ts.ts on purpose.
 */
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_PROTOCOL_ERROR,
  ERROR_CONTROL_NOT_FIN,
  ERROR_CONTROL_PAYLOAD_LENGTH,
  ERROR_EXPECTED_MASK,
  ERROR_INVALID_OPCODE,
  ERROR_LENGTH_TOO_LARGE,
  ERROR_RSV_1,
  ERROR_RSV_2_3,
  ERROR_UNEXPECTED_MASK,
  INFO_MASKED,
  KIND_ERROR,
  KIND_FRAME,
  KIND_FULL,
  KIND_NEED_HEADER,
  KIND_PARTIAL,
  KIND_SHIFT,
  RECORD_WORDS,
  SCAN_ALLOW_RSV1,
  SCAN_EXPECT_MASKED,
} from '../../src/kernels/contract';

/** 5.3: byte i is XORed with key byte i mod 4. */
export function oracleUnmask(buffer: Uint8Array, key: Uint8Array, offset: number, length: number): void {
  for (let i = 0; i < length; i++) buffer[offset + i] = buffer[offset + i] ^ key[i % 4];
}

export function oracleMask(
  source: Uint8Array,
  key: Uint8Array,
  output: Uint8Array,
  offset: number,
  length: number,
): void {
  for (let i = 0; i < length; i++) output[offset + i] = source[i] ^ key[i % 4];
}

/** 2^53 - 1: the contract refuses larger 64-bit lengths along with those whose MSB is set (5.2). */
const MAX_LENGTH = 2n ** 53n - 1n;

/** The checks that need only the first two header bytes, in the order contract.ts lists them. */
function firstBytesError(byte0: number, byte1: number, options: number): number {
  const fin = (byte0 & 0x80) !== 0;
  const rsv1 = (byte0 & 0x40) !== 0;
  const rsv2 = (byte0 & 0x20) !== 0;
  const rsv3 = (byte0 & 0x10) !== 0;
  const opcode = byte0 & 0x0f;
  const masked = (byte1 & 0x80) !== 0;
  const length7 = byte1 & 0x7f;
  const isContinuation = opcode === 0;
  const isData = opcode === 1 || opcode === 2;
  const isControl = opcode === 8 || opcode === 9 || opcode === 10;

  if (rsv2 || rsv3) return ERROR_RSV_2_3;
  if (rsv1 && (options & SCAN_ALLOW_RSV1) === 0) return ERROR_RSV_1;
  if (!isContinuation && !isData && !isControl) return ERROR_INVALID_OPCODE;
  // RFC 7692 section 6.1: RSV1 marks the first frame of a compressed message only.
  if (isContinuation && rsv1) return ERROR_RSV_1;
  if (isControl && !fin) return ERROR_CONTROL_NOT_FIN;
  if (isControl && rsv1) return ERROR_RSV_1;
  if (isControl && length7 > 125) return ERROR_CONTROL_PAYLOAD_LENGTH;
  if (opcode === 8 && length7 === 1) return ERROR_CONTROL_PAYLOAD_LENGTH;
  const expectMasked = (options & SCAN_EXPECT_MASKED) !== 0;
  if (expectMasked && !masked) return ERROR_EXPECTED_MASK;
  if (!expectMasked && masked) return ERROR_UNEXPECTED_MASK;
  return 0;
}

export function oracleScan(
  chunk: Uint8Array,
  start: number,
  end: number,
  records: Int32Array,
  options: number,
): number {
  const capacity = Math.floor(records.length / RECORD_WORDS);
  let count = 0;
  const put = (kind: number, info: number, words: readonly number[]): void => {
    records.set([(kind << KIND_SHIFT) | info, ...words], count * RECORD_WORDS);
    count++;
  };

  let pos = start;
  while (pos < end) {
    if (count === capacity - 1) {
      put(KIND_FULL, 0, [pos, 0, 0, 0, 0]);
      return count;
    }
    const available = end - pos;
    if (available < 2) {
      put(KIND_NEED_HEADER, 0, [pos, 0, 0, 0, 0]);
      return count;
    }
    const byte0 = chunk[pos];
    const byte1 = chunk[pos + 1];
    const masked = (byte1 & 0x80) !== 0;
    const info = byte0 | (masked ? INFO_MASKED : 0);

    const error = firstBytesError(byte0, byte1, options);
    if (error !== 0) {
      put(KIND_ERROR, info, [pos, 0, error, 0, CLOSE_PROTOCOL_ERROR]);
      return count;
    }

    const length7 = byte1 & 0x7f;
    const extensionBytes = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
    const headerLength = 2 + extensionBytes + (masked ? 4 : 0);
    if (available < headerLength) {
      put(KIND_NEED_HEADER, 0, [pos, 0, 0, 0, 0]);
      return count;
    }

    let length = BigInt(length7);
    if (extensionBytes !== 0) {
      length = 0n;
      for (let i = 0; i < extensionBytes; i++) length = length * 256n + BigInt(chunk[pos + 2 + i]);
    }
    if (length > MAX_LENGTH) {
      put(KIND_ERROR, info, [pos, 0, ERROR_LENGTH_TOO_LARGE, 0, CLOSE_MESSAGE_TOO_BIG]);
      return count;
    }

    const payloadStart = pos + headerLength;
    const key = masked ? chunk.slice(payloadStart - 4, payloadStart) : null;
    const lengthLow = Number(length % 2n ** 32n);
    const lengthHigh = Number(length / 2n ** 32n);
    if (BigInt(payloadStart) + length > BigInt(end)) {
      const keyWord = key !== null ? key[0] * 0x1000000 + key[1] * 0x10000 + key[2] * 0x100 + key[3] : 0;
      // Int32Array stores lengthLow and keyWord modulo 2^32, as the contract's Int32 words do.
      put(KIND_PARTIAL, info, [pos, payloadStart, lengthLow, lengthHigh, keyWord]);
      return count;
    }
    if (key !== null) oracleUnmask(chunk, key, payloadStart, lengthLow);
    put(KIND_FRAME, info, [pos, payloadStart, lengthLow, 0, 0]);
    pos = payloadStart + lengthLow;
  }
  return count;
}
