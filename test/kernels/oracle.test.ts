/**
 * Pins the oracle itself to the hand-built cases (worked out from the contract, not from any tier),
 * so the differential tests compare the tiers against something known to be right.
 */
import { describe, expect, it } from 'vitest';
import { RECORD_WORDS } from '../../src/kernels/contract';
import { payloadBytes } from '../helpers/frames';
import { oracleMask, oracleScan, oracleUnmask } from './oracle';
import { expectSameBytes } from './placement';
import { readRecords } from './records';
import { SCAN_CASES } from './scan-cases';

describe('oracle scan on the hand-built cases', () => {
  for (const c of SCAN_CASES) {
    it(c.title, () => {
      const chunk = c.bytes.slice();
      const records = new Int32Array(c.recordWords ?? 16 * RECORD_WORDS);
      const count = oracleScan(chunk, 0, chunk.length, records, c.options);
      expect(readRecords(records, count)).toEqual(c.expected);
      const after = c.bytes.slice();
      c.expected
        .filter((record) => record.kind === 'FRAME')
        .forEach((record, i) => after.set(payloadBytes(c.payloads[i]), record.payloadStart));
      expectSameBytes(chunk, after, 'the chunk');
    });
  }
});

describe('oracle mask and unmask', () => {
  const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

  it('masks and unmasks "Hello" as RFC 6455 5.7 shows', () => {
    const output = new Uint8Array(7);
    oracleMask(new TextEncoder().encode('Hello'), key, output, 1, 5);
    expect(Array.from(output)).toEqual([0, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0]);
    oracleUnmask(output, key, 1, 5);
    expect(new TextDecoder().decode(output.subarray(1, 6))).toBe('Hello');
  });
});
