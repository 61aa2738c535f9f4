/**
 * The batch frame scan of src/kernels/contract.ts over the staging region: the same records, in the
 * same order, with the same checks in the same order as src/kernels/ts.ts, except that every offset
 * is relative to STAGING_START (the JavaScript side adds the chunk position).
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
  KIND_ERROR,
  KIND_FRAME,
  KIND_FULL,
  KIND_NEED_HEADER,
  KIND_PARTIAL,
  KIND_SHIFT,
  MAX_LENGTH_HIGH,
  SCAN_ALLOW_RSV1,
  SCAN_EXPECT_MASKED,
  WORD_EXTRA,
  WORD_FRAME_START,
  WORD_INFO,
  WORD_LENGTH_HIGH,
  WORD_LENGTH_LOW,
  WORD_PAYLOAD_START,
} from './contract';
import { RECORD_BYTES, RECORDS_START, STAGING_START } from './layout';
import { xorKey } from './mask';

/** The header checks that need only the first two bytes, in ws's order. 0 when the header is fine. */
function checkFirstBytes(b0: u32, b1: u32, options: u32): u32 {
  // 5.2: RSV2 and RSV3 mean nothing without an extension that defines them.
  if ((b0 & 0x30) != 0) return ERROR_RSV_2_3;
  // RFC 7692 section 6: RSV1 is the "Per-Message Compressed" bit, only with permessage-deflate.
  const rsv1 = (b0 & 0x40) != 0;
  if (rsv1 && (options & SCAN_ALLOW_RSV1) == 0) return ERROR_RSV_1;
  const opcode = b0 & 0x0f;
  if (opcode == 0x00) {
    // RFC 7692 section 6.1: RSV1 is set on the first frame of a message only.
    if (rsv1) return ERROR_RSV_1;
  } else if (opcode == 0x08 || opcode == 0x09 || opcode == 0x0a) {
    // 5.5: control frames are never fragmented, never compressed, and carry at most 125 bytes;
    // 5.5.1: a close body is empty or starts with a 2-byte status code.
    if ((b0 & 0x80) == 0) return ERROR_CONTROL_NOT_FIN;
    if (rsv1) return ERROR_RSV_1;
    const length7 = b1 & 0x7f;
    if (length7 > 125 || (opcode == 0x08 && length7 == 1)) return ERROR_CONTROL_PAYLOAD_LENGTH;
  } else if (opcode != 0x01 && opcode != 0x02) {
    // 5.2: opcodes 3-7 and 0xB-0xF are reserved.
    return ERROR_INVALID_OPCODE;
  }
  // 5.1: a client masks every frame it sends; a server masks none.
  const masked = (b1 & 0x80) != 0;
  if ((options & SCAN_EXPECT_MASKED) != 0) {
    if (!masked) return ERROR_EXPECTED_MASK;
  } else if (masked) {
    return ERROR_UNEXPECTED_MASK;
  }
  return 0;
}

// @ts-ignore: decorator
@inline
function write(
  index: u32,
  info: u32,
  frameStart: u32,
  payloadStart: u32,
  lengthLow: u32,
  lengthHigh: u32,
  extra: u32,
): void {
  const record = RECORDS_START + <usize>(index * RECORD_BYTES);
  store<u32>(record, info, WORD_INFO << 2);
  store<u32>(record, frameStart, WORD_FRAME_START << 2);
  store<u32>(record, payloadStart, WORD_PAYLOAD_START << 2);
  store<u32>(record, lengthLow, WORD_LENGTH_LOW << 2);
  store<u32>(record, lengthHigh, WORD_LENGTH_HIGH << 2);
  store<u32>(record, extra, WORD_EXTRA << 2);
}

/**
 * Scans staging[0, length) and returns the number of records written. 1 <= capacity <=
 * RECORDS_CAPACITY: the caller guarantees both, so no record lands outside the records region.
 */
export function scanStaging(length: u32, capacity: u32, options: u32): u32 {
  const base = STAGING_START;
  let count: u32 = 0;
  let pos: u32 = 0;
  while (pos < length) {
    if (count == capacity - 1) {
      write(count, KIND_FULL << KIND_SHIFT, pos, 0, 0, 0, 0);
      return count + 1;
    }
    if (length - pos < 2) break;
    const b0 = <u32>load<u8>(base + pos);
    const b1 = <u32>load<u8>(base + pos + 1);
    const info0 = b0 | ((b1 & 0x80) << 1);
    const error = checkFirstBytes(b0, b1, options);
    if (error != 0) {
      write(count, info0 | (KIND_ERROR << KIND_SHIFT), pos, 0, error, 0, CLOSE_PROTOCOL_ERROR);
      return count + 1;
    }
    // 5.2: a 7-bit length, or 126 then a 16-bit length, or 127 then a 64-bit length; then the key.
    const length7 = b1 & 0x7f;
    const masked = (b1 & 0x80) != 0;
    const headerLength: u32 =
      2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (length - pos < headerLength) break;
    let lengthLow = length7;
    let lengthHigh: u32 = 0;
    if (length7 == 126) {
      lengthLow = <u32>bswap<u16>(load<u16>(base + pos + 2));
    } else if (length7 == 127) {
      // 5.2: the most significant bit must be 0; above 2^53 - 1 a JS number is no longer exact.
      lengthHigh = bswap<u32>(load<u32>(base + pos + 2));
      if (lengthHigh > MAX_LENGTH_HIGH) {
        write(
          count,
          info0 | (KIND_ERROR << KIND_SHIFT),
          pos,
          0,
          ERROR_LENGTH_TOO_LARGE,
          0,
          CLOSE_MESSAGE_TOO_BIG,
        );
        return count + 1;
      }
      lengthLow = bswap<u32>(load<u32>(base + pos + 6));
    }
    const payloadStart = pos + headerLength;
    if (lengthHigh != 0 || lengthLow > length - payloadStart) {
      // The key as on the wire (big-endian), so the caller can unmask what arrives later.
      const key = masked ? bswap<u32>(load<u32>(base + payloadStart - 4)) : 0;
      write(count, info0 | (KIND_PARTIAL << KIND_SHIFT), pos, payloadStart, lengthLow, lengthHigh, key);
      return count + 1;
    }
    if (masked && lengthLow != 0) {
      xorKey(base + payloadStart, lengthLow, load<u32>(base + payloadStart - 4));
    }
    write(count, info0 | (KIND_FRAME << KIND_SHIFT), pos, payloadStart, lengthLow, 0, 0);
    count++;
    pos = payloadStart + lengthLow;
  }
  if (pos < length) {
    write(count, KIND_NEED_HEADER << KIND_SHIFT, pos, 0, 0, 0, 0);
    return count + 1;
  }
  return count;
}
