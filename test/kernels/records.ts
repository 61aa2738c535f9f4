/**
 * Scan records as readable objects, so a failing comparison names the kind and the word that
 * differs. Every word of the contract's record layout (src/kernels/contract.ts) is kept, and INFO
 * keeps every bit but the kind's, so a stray bit still shows.
 */
import {
  INFO_MASKED,
  KIND_ERROR,
  KIND_FRAME,
  KIND_FULL,
  KIND_NEED_HEADER,
  KIND_PARTIAL,
  KIND_SHIFT,
  RECORD_WORDS,
} from '../../src/kernels/contract';

export type KindName = 'FRAME' | 'PARTIAL' | 'NEED_HEADER' | 'ERROR' | 'FULL';

const KIND_NAMES: Record<number, KindName> = {
  [KIND_FRAME]: 'FRAME',
  [KIND_PARTIAL]: 'PARTIAL',
  [KIND_NEED_HEADER]: 'NEED_HEADER',
  [KIND_ERROR]: 'ERROR',
  [KIND_FULL]: 'FULL',
};

export interface ScanRecord {
  kind: KindName | `unknown kind ${number}`;
  /** Word 0 without the kind bits: the first header byte and the MASK bit (INFO_MASKED). */
  info: number;
  frameStart: number;
  payloadStart: number;
  lengthLow: number;
  lengthHigh: number;
  extra: number;
}

export function readRecord(records: Int32Array, index: number): ScanRecord {
  const base = index * RECORD_WORDS;
  const word0 = records[base];
  const kind = (word0 >>> KIND_SHIFT) & 7;
  return {
    kind: KIND_NAMES[kind] ?? `unknown kind ${kind}`,
    info: word0 & ~(7 << KIND_SHIFT),
    frameStart: records[base + 1],
    payloadStart: records[base + 2],
    lengthLow: records[base + 3],
    lengthHigh: records[base + 4],
    extra: records[base + 5],
  };
}

export function readRecords(records: Int32Array, count: number): ScanRecord[] {
  return Array.from({ length: count }, (_, index) => readRecord(records, index));
}

/** A FRAME's or PARTIAL's length; the high word holds at most 21 bits, so the sum is exact. */
export function lengthOf(record: ScanRecord): number {
  return record.lengthHigh * 0x100000000 + (record.lengthLow >>> 0);
}

/** The records a test expects, with offsets relative to wherever the bytes are placed. */
export const expectRecord = {
  frame(info: number, frameStart: number, payloadStart: number, length: number): ScanRecord {
    return { kind: 'FRAME', info, frameStart, payloadStart, lengthLow: length, lengthHigh: 0, extra: 0 };
  },
  /** `key` is the masking key as a big-endian word (0 for an unmasked frame). */
  partial(info: number, frameStart: number, payloadStart: number, length: number, key: number): ScanRecord {
    return {
      kind: 'PARTIAL',
      info,
      frameStart,
      payloadStart,
      lengthLow: (length % 0x100000000) | 0,
      lengthHigh: Math.floor(length / 0x100000000),
      extra: key | 0,
    };
  },
  needHeader(offset: number): ScanRecord {
    return { kind: 'NEED_HEADER', info: 0, frameStart: offset, payloadStart: 0, lengthLow: 0, lengthHigh: 0, extra: 0 };
  },
  error(info: number, frameStart: number, errorId: number, closeCode: number): ScanRecord {
    return { kind: 'ERROR', info, frameStart, payloadStart: 0, lengthLow: errorId, lengthHigh: 0, extra: closeCode };
  },
  full(offset: number): ScanRecord {
    return { kind: 'FULL', info: 0, frameStart: offset, payloadStart: 0, lengthLow: 0, lengthHigh: 0, extra: 0 };
  },
};

/** Moves a record's offsets by `by`: FRAME_START always, PAYLOAD_START where it is an offset. */
export function shiftRecord(record: ScanRecord, by: number): ScanRecord {
  const hasPayload = record.kind === 'FRAME' || record.kind === 'PARTIAL';
  return {
    ...record,
    frameStart: record.frameStart + by,
    payloadStart: hasPayload ? record.payloadStart + by : record.payloadStart,
  };
}

/** The MASK bit as it appears in INFO, for building expected records. */
export const M = INFO_MASKED;
