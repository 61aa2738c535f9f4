/**
 * The TypeScript tier: always available. The payload loop XORs aligned 32-bit words; the few bytes
 * before the first aligned word and after the last one go byte by byte.
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
  Kernel,
  MAX_LENGTH_HIGH,
  RECORD_WORDS,
  SCAN_ALLOW_RSV1,
  SCAN_EXPECT_MASKED,
  writeRecord,
} from './contract';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this many bytes the byte loop wins over the lead/word/tail split. */
const WORD_LOOP_MIN_BYTES = 16;

/**
 * An Int32 view over the whole ArrayBuffer behind `bytes`, so that any aligned word in it is
 * words[absoluteOffset >> 2]. scan makes one per call, not one per frame: creating a view costs
 * about as much as XORing a hundred bytes.
 */
function wordView(bytes: Uint8Array): Int32Array {
  const buffer = bytes.buffer;
  return new Int32Array(buffer, 0, buffer.byteLength >>> 2);
}

function xorInPlace(
  buffer: Uint8Array,
  offset: number,
  length: number,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
  words: Int32Array | null,
): void {
  let i = 0;
  if (length >= WORD_LOOP_MIN_BYTES) {
    const absolute = buffer.byteOffset + offset;
    const lead = (4 - (absolute & 3)) & 3;
    for (; i < lead; i++) buffer[offset + i] ^= i === 0 ? k0 : i === 1 ? k1 : k2;
    const count = (length - lead) >>> 2;
    // The key as it lines up with the first aligned word, which starts `lead` bytes in.
    const a = lead === 0 ? k0 : lead === 1 ? k1 : lead === 2 ? k2 : k3;
    const b = lead === 0 ? k1 : lead === 1 ? k2 : lead === 2 ? k3 : k0;
    const c = lead === 0 ? k2 : lead === 1 ? k3 : lead === 2 ? k0 : k1;
    const d = lead === 0 ? k3 : lead === 1 ? k0 : lead === 2 ? k1 : k2;
    const keyWord = LITTLE_ENDIAN
      ? a | (b << 8) | (c << 16) | (d << 24)
      : (a << 24) | (b << 16) | (c << 8) | d;
    const view = words ?? wordView(buffer);
    let w = (absolute + lead) >>> 2;
    const last = w + count;
    const unrolledLast = last - 3;
    for (; w < unrolledLast; w += 4) {
      view[w] ^= keyWord;
      view[w + 1] ^= keyWord;
      view[w + 2] ^= keyWord;
      view[w + 3] ^= keyWord;
    }
    for (; w < last; w++) view[w] ^= keyWord;
    i = lead + count * 4;
  }
  for (; i < length; i++) {
    const r = i & 3;
    buffer[offset + i] ^= r === 0 ? k0 : r === 1 ? k1 : r === 2 ? k2 : k3;
  }
}

export function unmask(buffer: Uint8Array, key: Uint8Array, offset: number, length: number): void {
  xorInPlace(buffer, offset, length, key[0], key[1], key[2], key[3], null);
}

export function mask(
  source: Uint8Array,
  key: Uint8Array,
  output: Uint8Array,
  offset: number,
  length: number,
): void {
  // A copy then an aligned in-place pass beats a byte loop: source and output rarely share alignment.
  if (length >= WORD_LOOP_MIN_BYTES) {
    output.set(length === source.length ? source : source.subarray(0, length), offset);
    xorInPlace(output, offset, length, key[0], key[1], key[2], key[3], null);
    return;
  }
  for (let i = 0; i < length; i++) output[offset + i] = source[i] ^ key[i & 3];
}

/** The header checks that need only the first two bytes, in ws's order. 0 when the header is fine. */
function checkFirstBytes(b0: number, b1: number, options: number): number {
  if ((b0 & 0x30) !== 0) return ERROR_RSV_2_3;
  const rsv1 = (b0 & 0x40) !== 0;
  if (rsv1 && (options & SCAN_ALLOW_RSV1) === 0) return ERROR_RSV_1;
  const opcode = b0 & 0x0f;
  if (opcode === 0x00) {
    if (rsv1) return ERROR_RSV_1;
  } else if (opcode === 0x08 || opcode === 0x09 || opcode === 0x0a) {
    if ((b0 & 0x80) === 0) return ERROR_CONTROL_NOT_FIN;
    if (rsv1) return ERROR_RSV_1;
    const length7 = b1 & 0x7f;
    if (length7 > 125 || (opcode === 0x08 && length7 === 1)) return ERROR_CONTROL_PAYLOAD_LENGTH;
  } else if (opcode !== 0x01 && opcode !== 0x02) {
    return ERROR_INVALID_OPCODE;
  }
  const masked = (b1 & 0x80) !== 0;
  if ((options & SCAN_EXPECT_MASKED) !== 0) {
    if (!masked) return ERROR_EXPECTED_MASK;
  } else if (masked) {
    return ERROR_UNEXPECTED_MASK;
  }
  return 0;
}

export function scan(
  chunk: Uint8Array,
  start: number,
  end: number,
  records: Int32Array,
  options: number,
): number {
  const capacity = (records.length / RECORD_WORDS) | 0;
  let count = 0;
  let pos = start;
  let words: Int32Array | null = null;
  while (pos < end) {
    if (count === capacity - 1) {
      writeRecord(records, count, KIND_FULL << KIND_SHIFT, pos, 0, 0, 0, 0);
      return count + 1;
    }
    if (end - pos < 2) break;
    const b0 = chunk[pos];
    const b1 = chunk[pos + 1];
    const info0 = b0 | ((b1 & 0x80) << 1);
    const error = checkFirstBytes(b0, b1, options);
    if (error !== 0) {
      writeRecord(records, count, info0 | (KIND_ERROR << KIND_SHIFT), pos, 0, error, 0, CLOSE_PROTOCOL_ERROR);
      return count + 1;
    }
    const length7 = b1 & 0x7f;
    const masked = (b1 & 0x80) !== 0;
    const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    if (end - pos < headerLength) break;
    let lengthLow = length7;
    let lengthHigh = 0;
    if (length7 === 126) {
      lengthLow = (chunk[pos + 2] << 8) | chunk[pos + 3];
    } else if (length7 === 127) {
      lengthHigh =
        ((chunk[pos + 2] << 24) | (chunk[pos + 3] << 16) | (chunk[pos + 4] << 8) | chunk[pos + 5]) >>> 0;
      if (lengthHigh > MAX_LENGTH_HIGH) {
        writeRecord(
          records,
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
      lengthLow =
        ((chunk[pos + 6] << 24) | (chunk[pos + 7] << 16) | (chunk[pos + 8] << 8) | chunk[pos + 9]) >>> 0;
    }
    const payloadStart = pos + headerLength;
    const info = info0 | (masked ? INFO_MASKED : 0);
    if (lengthHigh !== 0 || lengthLow > end - payloadStart) {
      const k = payloadStart - 4;
      const key = masked
        ? (chunk[k] << 24) | (chunk[k + 1] << 16) | (chunk[k + 2] << 8) | chunk[k + 3]
        : 0;
      writeRecord(records, count, info | (KIND_PARTIAL << KIND_SHIFT), pos, payloadStart, lengthLow | 0, lengthHigh, key);
      return count + 1;
    }
    if (masked && lengthLow !== 0) {
      const k = payloadStart - 4;
      if (words === null && lengthLow >= WORD_LOOP_MIN_BYTES) words = wordView(chunk);
      xorInPlace(chunk, payloadStart, lengthLow, chunk[k], chunk[k + 1], chunk[k + 2], chunk[k + 3], words);
    }
    writeRecord(records, count, info | (KIND_FRAME << KIND_SHIFT), pos, payloadStart, lengthLow, 0, 0);
    count++;
    pos = payloadStart + lengthLow;
  }
  if (pos < end) {
    writeRecord(records, count, KIND_NEED_HEADER << KIND_SHIFT, pos, 0, 0, 0, 0);
    return count + 1;
  }
  return count;
}

export const tsKernel: Kernel = { name: 'ts', variant: 'words', scan, mask, unmask };
