/**
 * Smoke test of the native tier (native/, loaded by src/kernels/native.ts): it loads, says which
 * loop it runs, gives exact results with each loop, and turns bad arguments into JS errors instead
 * of aborting the process. The shared differential suite covers the contract in depth.
 *
 * Set SIMDWS_SKIP_NATIVE=1 (as for the install) to skip it where the addon was not built.
 */
import { describe, expect, it } from 'vitest';
import { loadNativeKernel } from '../../src/kernels/native';
import { tsKernel } from '../../src/kernels/ts';
import { selectKernel } from '../../src/kernels/select';
import { Kernel, RECORD_WORDS, SCAN_EXPECT_MASKED } from '../../src/kernels/contract';

const ISAS = ['avx2', 'sse2', 'words'] as const;

/** The obviously correct byte loop (RFC 6455 section 5.3). */
function xorBytes(source: Uint8Array, key: Uint8Array): Uint8Array {
  return source.map((byte, i) => byte ^ key[i & 3]);
}

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 7 + (i >> 3)) & 0xff);
}

/** The loops this CPU runs: every x86-64 runs sse2 and words; avx2 when the CPU has it. */
function kernelsToTest(): Kernel[] {
  const best = loadNativeKernel({});
  const others = ISAS.filter((isa) => isa !== best.variant && (isa !== 'avx2' || best.variant === 'avx2'));
  return [best, ...others.map((isa) => loadNativeKernel({ SIMDWS_NATIVE_ISA: isa }))];
}

const skip = process.env.SIMDWS_SKIP_NATIVE === '1';

describe.skipIf(skip)('native tier', () => {
  it('loads as the native tier, and select.ts can force it', () => {
    const kernel = loadNativeKernel({});
    expect(kernel.name).toBe('native');
    expect(ISAS).toContain(kernel.variant);
    if (process.arch === 'x64') expect(kernel.variant).not.toBe('words');
    const { info } = selectKernel({ SIMDWS_KERNEL: 'native' });
    expect(info.name).toBe('native');
    expect(info.variant).toBe(kernel.variant);
  });

  it('SIMDWS_NATIVE_ISA=sse2 selects the SSE2 loop; an unknown ISA is an error', () => {
    if (process.arch === 'x64') expect(loadNativeKernel({ SIMDWS_NATIVE_ISA: 'sse2' }).variant).toBe('sse2');
    expect(loadNativeKernel({ SIMDWS_NATIVE_ISA: 'words' }).variant).toBe('words');
    expect(() => loadNativeKernel({ SIMDWS_NATIVE_ISA: 'neon512' })).toThrow(/SIMDWS_NATIVE_ISA=neon512/);
    expect(() => loadNativeKernel({ SIMDWS_NATIVE_ISA: 'toString' })).toThrow(/not available/);
  });

  for (const kernel of skip ? [] : kernelsToTest()) {
    describe(`loop ${kernel.variant}`, () => {
      it('scans a masked frame, a ping and a partial frame into the exact records (5.2, 5.3)', () => {
        const key = [0x37, 0xfa, 0x21, 0x3d];
        const hello = xorBytes(Buffer.from('Hello'), Uint8Array.from(key));
        const chunk = Uint8Array.from([
          0x81, 0x85, ...key, ...hello, // FIN text "Hello", masked (RFC 6455 section 5.7)
          0x89, 0x80, 1, 2, 3, 4, // FIN ping, empty, masked
          0x82, 0xfe, 0x01, 0x00, 0xa, 0xb, 0xc, 0xd, 0xee, // binary, 256 bytes declared, 1 present
        ]);
        const records = new Int32Array(4 * RECORD_WORDS);
        const count = kernel.scan(chunk, 0, chunk.length, records, SCAN_EXPECT_MASKED);
        expect(count).toBe(3);
        expect(Array.from(records.subarray(0, count * RECORD_WORDS))).toEqual([
          0x181, 0, 6, 5, 0, 0,
          0x189, 11, 17, 0, 0, 0,
          0x182 | (1 << 12), 17, 25, 256, 0, 0x0a0b0c0d,
        ]);
        expect(Buffer.from(chunk.subarray(6, 11)).toString()).toBe('Hello');
        expect(chunk[25]).toBe(0xee);
      });

      it('unmasks and masks like the byte loop at sizes around word and vector edges', () => {
        const key = Uint8Array.from([0x01, 0x80, 0xfe, 0x5a]);
        for (const length of [1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 10 * 1024 - 1]) {
          const source = pattern(length, length);
          const unmasked = Uint8Array.from(source);
          kernel.unmask(unmasked, key, 0, length);
          expect(unmasked).toEqual(xorBytes(source, key));
          const output = new Uint8Array(length + 2).fill(0x55);
          kernel.mask(source, key, output, 1, length);
          expect(output.subarray(1, length + 1)).toEqual(xorBytes(source, key));
          expect([output[0], output[length + 1]]).toEqual([0x55, 0x55]);
        }
      });

      it('works in place on a Buffer at an odd byteOffset and touches nothing outside the range', () => {
        const backing = new ArrayBuffer(300);
        new Uint8Array(backing).fill(0xcc);
        const buffer = Buffer.from(backing, 3, 290);
        const payload = pattern(257, 9);
        buffer.set(payload, 5);
        const key = Buffer.from([9, 8, 7, 6]);
        kernel.unmask(buffer, key, 5, 257);
        expect(buffer.subarray(5, 262)).toEqual(Buffer.from(xorBytes(payload, key)));
        const all = new Uint8Array(backing);
        expect(all.subarray(0, 8).every((b) => b === 0xcc)).toBe(true);
        expect(all.subarray(3 + 262).every((b) => b === 0xcc)).toBe(true);

        // The same frame bytes scanned at an odd byteOffset give what the ts tier gives.
        const frame = Uint8Array.from([0x82, 0xfe, 0x01, 0x01, ...key, ...payload]);
        const odd = Buffer.from(new ArrayBuffer(frame.length + 1), 1, frame.length);
        odd.set(frame);
        const copy = Uint8Array.from(frame);
        const [mine, theirs] = [new Int32Array(2 * RECORD_WORDS), new Int32Array(2 * RECORD_WORDS)];
        expect(kernel.scan(odd, 0, odd.length, mine, SCAN_EXPECT_MASKED)).toBe(1);
        expect(tsKernel.scan(copy, 0, copy.length, theirs, SCAN_EXPECT_MASKED)).toBe(1);
        expect(mine).toEqual(theirs);
        expect(new Uint8Array(odd)).toEqual(copy);
      });
    });
  }

  it('throws TypeError or RangeError on bad arguments instead of aborting', () => {
    const kernel = loadNativeKernel({});
    const chunk = new Uint8Array(8);
    const records = new Int32Array(2 * RECORD_WORDS);
    const key = new Uint8Array(4);
    const call = (fn: (...args: unknown[]) => unknown, ...args: unknown[]) => () => fn(...args);
    const scan = kernel.scan as (...args: unknown[]) => number;
    const mask = kernel.mask as (...args: unknown[]) => void;
    const unmask = kernel.unmask as (...args: unknown[]) => void;

    const typeErrors = [
      call(scan, 'not bytes', 0, 1, records, 0),
      call(scan, chunk, '0', 1, records, 0),
      call(scan, chunk, 0, 1, new Float64Array(12), 0),
      call(scan, chunk, 0, 1, records),
      call(unmask, chunk, [1, 2, 3, 4], 0, 4),
      call(unmask, new Uint16Array(4), key, 0, 4),
      call(mask, chunk, key, null, 0, 4),
      call(unmask),
    ];
    for (const thunk of typeErrors) {
      expect(thunk).toThrow(TypeError);
      expect(thunk).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    }

    const rangeErrors = [
      call(scan, chunk, 0, 9, records, 0),
      call(scan, chunk, 5, 4, records, 0),
      call(scan, chunk, -1, 4, records, 0),
      call(scan, chunk, 0.5, 4, records, 0),
      call(scan, chunk, 0, Number.NaN, records, 0),
      call(scan, chunk, 0, 8, new Int32Array(2 * RECORD_WORDS - 1), 0),
      call(unmask, chunk, new Uint8Array(3), 0, 4),
      call(unmask, chunk, key, 6, 3),
      call(mask, new Uint8Array(2), key, chunk, 0, 3),
      call(mask, chunk, key, chunk, 7, 2),
    ];
    for (const thunk of rangeErrors) {
      expect(thunk).toThrow(RangeError);
      expect(thunk).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(chunk.every((b) => b === 0)).toBe(true);
  });
});
