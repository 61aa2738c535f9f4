/**
 * The one suite every kernel tier runs (see tier-*.test.ts): which tier loaded, the hand-built scan
 * cases of scan-cases.ts with exact records, FULL and resume, mask/unmask basics, then the
 * fast-check differential against the oracle and the streaming equivalence.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Kernel, RECORD_WORDS, SCAN_EXPECT_MASKED, TierName } from '../../src/kernels/contract';
import { buildFrames, payloadBytes } from '../helpers/frames';
import { describeDifferential } from './differential-suite';
import { oracleMask, oracleUnmask } from './oracle';
import { Layout, clonePlaced, expectSameBytes, place } from './placement';
import { ScanRecord, readRecords, shiftRecord } from './records';
import { SCAN_CASES, pattern } from './scan-cases';
import { describeStreaming } from './streaming-suite';

export interface ExpectedTier {
  name: TierName;
  /** The builds this run may load; omitted: any. */
  variants?: readonly string[];
}

/** Where the hand-built bytes are put: at the start of a plain buffer, and misaligned with guards. */
const PLACEMENTS: readonly Layout[] = [
  { viewOffset: 0, lead: 0, trail: 0 },
  { viewOffset: 3, lead: 6, trail: 9 },
  { viewOffset: 1, lead: 2, trail: 3, asBuffer: true },
];

/**
 * `load` runs once, before the tests. When it throws, every test of the suite fails with its error:
 * a tier that cannot load must fail its run, not be skipped (a throwing beforeAll would only mark
 * the tests skipped).
 */
export function describeKernelSuite(label: string, load: () => Kernel | Promise<Kernel>, expected: ExpectedTier): void {
  describe(`kernel ${label}`, () => {
    let loaded: Kernel | undefined;
    let loadError: unknown;
    const kernel = (): Kernel => {
      if (loaded !== undefined) return loaded;
      const reason = loadError instanceof Error ? loadError.message : String(loadError);
      throw new Error(`the ${label} kernel did not load: ${reason}`, { cause: loadError });
    };
    beforeAll(async () => {
      try {
        loaded = await load();
      } catch (error) {
        loadError = error;
      }
    });

    it(`is the ${expected.name} tier${expected.variants ? ` (${expected.variants.join(' or ')})` : ''}`, () => {
      expect(kernel().name).toBe(expected.name);
      if (expected.variants !== undefined) expect(expected.variants).toContain(kernel().variant);
    });

    describeScanCases(kernel);
    describeFullAndResume(kernel);
    describeMaskBasics(kernel);
    describeDifferential(kernel);
    describeStreaming(kernel);
  });
}

function describeScanCases(kernel: () => Kernel): void {
  describe('scan: hand-built frames give exact records', () => {
    for (const c of SCAN_CASES) {
      it(c.title, () => {
        for (const layout of PLACEMENTS) {
          const placed = place(c.bytes, layout);
          const before = placed.arena.slice();
          const records = new Int32Array(c.recordWords ?? 16 * RECORD_WORDS);
          const count = kernel().scan(placed.view, placed.start, placed.end, records, c.options);
          expect(readRecords(records, count)).toEqual(c.expected.map((record) => shiftRecord(record, placed.start)));

          // Only FRAME payloads change (unmasked in place); every other byte, guards included, stays.
          const after = before.slice();
          const frames = c.expected.filter((record) => record.kind === 'FRAME');
          expect(frames.length, 'payloads listed for each FRAME').toBe(c.payloads.length);
          frames.forEach((record, i) => {
            after.set(payloadBytes(c.payloads[i]), layout.viewOffset + placed.start + record.payloadStart);
          });
          expectSameBytes(placed.arena, after, `the buffer at ${JSON.stringify(layout)}`);
        }
      });
    }
  });
}

function describeFullAndResume(kernel: () => Kernel): void {
  describe('scan: FULL at capacity, then resuming from FRAME_START', () => {
    const wire = buildFrames(
      Array.from({ length: 7 }, (_, i) => ({
        opcode: 2,
        mask: [i, 0x80 | i, 0x55, 0xaa],
        payload: pattern(i * 20, i),
      })),
    );

    it('gives the same records over several calls as in one call', () => {
      const once = place(wire, { viewOffset: 1, lead: 3, trail: 2 });
      const resumed = clonePlaced(once);
      const all = new Int32Array(16 * RECORD_WORDS);
      const expected = readRecords(all, kernel().scan(once.view, once.start, once.end, all, SCAN_EXPECT_MASKED));
      expect(expected.map((record) => record.kind)).toEqual(Array(7).fill('FRAME'));

      const small = new Int32Array(2 * RECORD_WORDS);
      const collected: ScanRecord[] = [];
      let pos = resumed.start;
      let calls = 0;
      for (;;) {
        calls++;
        const got = readRecords(small, kernel().scan(resumed.view, pos, resumed.end, small, SCAN_EXPECT_MASKED));
        collected.push(...got.filter((record) => record.kind === 'FRAME'));
        const last = got[got.length - 1];
        if (last?.kind !== 'FULL') break;
        expect(last.frameStart).toBe(got[0].payloadStart + got[0].lengthLow);
        pos = last.frameStart;
      }
      expect(calls).toBe(7);
      expect(collected).toEqual(expected);
      expectSameBytes(resumed.arena, once.arena, 'the buffer after resuming');
    });
  });
}

function describeMaskBasics(kernel: () => Kernel): void {
  describe('mask and unmask', () => {
    const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
    const hello = new TextEncoder().encode('Hello');
    const maskedHello = Uint8Array.of(0x7f, 0x9f, 0x4d, 0x51, 0x58);

    it('masks "Hello" as RFC 6455 5.7 shows, at an offset, leaving the rest of the output alone', () => {
      const output = new Uint8Array(12).fill(0xee);
      kernel().mask(hello, key, output, 3, 5);
      expect(Array.from(output)).toEqual([0xee, 0xee, 0xee, ...maskedHello, 0xee, 0xee, 0xee, 0xee]);
    });

    it('unmasks the RFC 6455 5.7 example in place, only within [offset, offset + length)', () => {
      const buffer = Uint8Array.of(0x11, 0x22, ...maskedHello, 0x33);
      kernel().unmask(buffer, key, 2, 5);
      expect(Array.from(buffer)).toEqual([0x11, 0x22, ...hello, 0x33]);
    });

    it('reads only `length` bytes of a longer source, and writes only `length` bytes', () => {
      for (const length of [3, 20, 100]) {
        const source = pattern(length + 9, 1);
        const output = new Uint8Array(length + 16).fill(0xee);
        const expected = output.slice();
        kernel().mask(source, key, output, 5, length);
        oracleMask(source, key, expected, 5, length);
        expectSameBytes(output, expected, `the output of a ${length}-byte mask`);
      }
    });

    it('does nothing for length 0', () => {
      const buffer = pattern(8);
      kernel().unmask(buffer, key, 4, 0);
      kernel().mask(pattern(4), key, buffer, 2, 0);
      expect(buffer).toEqual(pattern(8));
    });

    it('leaves data alone with an all-zero key', () => {
      const buffer = pattern(100);
      kernel().unmask(buffer, new Uint8Array(4), 0, 100);
      expect(buffer).toEqual(pattern(100));
    });

    it('uses a key that sits at an offset inside a bigger array', () => {
      const holder = Uint8Array.of(9, 9, 9, 0x37, 0xfa, 0x21, 0x3d, 9);
      const buffer = maskedHello.slice();
      kernel().unmask(buffer, holder.subarray(3, 7), 0, 5);
      expect(buffer).toEqual(hello);
    });

    // Sizes around word and vector widths and unroll factors, as bufferutil's own tests do.
    const sizes = [
      ...Array.from({ length: 70 }, (_, i) => i),
      ...[128, 256, 1024, 10240, 65536].flatMap((n) => [n - 1, n, n + 1]),
    ];

    it('unmask equals the oracle for sizes 0-69 and around 128, 256, 1 KiB, 10 KiB, 64 KiB at offsets 0-3', () => {
      const odd = Uint8Array.of(0x9a, 0x01, 0xfe, 0x7c);
      for (const size of sizes) {
        for (let offset = 0; offset < 4; offset++) {
          const placed = place(pattern(size, size), { viewOffset: offset, lead: offset, trail: 4 });
          const reference = clonePlaced(placed);
          kernel().unmask(placed.view, odd, placed.start, size);
          oracleUnmask(reference.view, odd, reference.start, size);
          expectSameBytes(placed.arena, reference.arena, `unmask of ${size} bytes at offset ${offset}`);
        }
      }
    });

    it('mask equals the oracle for the same sizes at odd output offsets', () => {
      const odd = Uint8Array.of(0x03, 0xc0, 0x5a, 0xff);
      for (const size of sizes) {
        for (const offset of [1, 3, 6]) {
          const source = pattern(size, offset);
          const output = place(new Uint8Array(size), { viewOffset: 2, lead: offset, trail: 5 });
          const reference = clonePlaced(output);
          kernel().mask(source, odd, output.view, output.start, size);
          oracleMask(source, odd, reference.view, reference.start, size);
          expectSameBytes(output.arena, reference.arena, `mask of ${size} bytes at offset ${offset}`);
          expectSameBytes(source, pattern(size, offset), `the source of ${size} bytes`);
        }
      }
    });
  });
}
