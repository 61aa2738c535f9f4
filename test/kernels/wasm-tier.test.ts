// Smoke test of the wasm tier: which build loads, and a few exact results from each build. The
// shared kernel suite and the differential tests cover the contract in depth.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLOSE_PROTOCOL_ERROR,
  ERROR_RSV_2_3,
  INFO_MASKED,
  KIND_ERROR,
  KIND_FRAME,
  KIND_FULL,
  KIND_NEED_HEADER,
  KIND_SHIFT,
  Kernel,
  RECORD_WORDS,
  SCAN_EXPECT_MASKED,
} from '../../src/kernels/contract';
import { loadWasmKernel, wasmInPlaceUnmask, wasmStagingView } from '../../src/kernels/wasm';

const savedBuild = process.env.SIMDWS_WASM_BUILD;

afterEach(() => {
  if (savedBuild === undefined) delete process.env.SIMDWS_WASM_BUILD;
  else process.env.SIMDWS_WASM_BUILD = savedBuild;
});

function loadBuild(build: 'simd' | 'scalar'): Kernel {
  process.env.SIMDWS_WASM_BUILD = build;
  return loadWasmKernel();
}

/** RFC 6455 section 5.7: a single-frame masked text message "Hello". */
const MASKED_HELLO = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
const HELLO = [0x48, 0x65, 0x6c, 0x6c, 0x6f];

/** A masked binary frame with a 64-bit length (RFC 6455 section 5.2) and its plain payload. */
function maskedBinaryFrame(length: number, key: number[]): { frame: Uint8Array; payload: Uint8Array } {
  const frame = new Uint8Array(14 + length);
  frame.set([0x82, 0xff, 0, 0, 0, 0, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  frame.set(key, 10);
  const payload = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    payload[i] = (i * 7 + 3) & 0xff;
    frame[14 + i] = payload[i] ^ key[i & 3];
  }
  return { frame, payload };
}

/** The first index where a and b differ, or -1: deep equality on 600 KB arrays takes seconds. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function record(records: Int32Array, index: number): number[] {
  return Array.from(records.subarray(index * RECORD_WORDS, (index + 1) * RECORD_WORDS));
}

describe('loadWasmKernel', () => {
  it('loads the SIMD build by default (Node 20 runs WebAssembly SIMD)', () => {
    delete process.env.SIMDWS_WASM_BUILD;
    const kernel = loadWasmKernel();
    expect(kernel.name).toBe('wasm');
    expect(kernel.variant).toBe('simd');
  });

  it('loads the scalar build when SIMDWS_WASM_BUILD=scalar', () => {
    expect(loadBuild('scalar').variant).toBe('scalar');
  });

  it('refuses an unknown SIMDWS_WASM_BUILD value', () => {
    process.env.SIMDWS_WASM_BUILD = 'avx';
    expect(() => loadWasmKernel()).toThrow(/SIMDWS_WASM_BUILD must be simd or scalar/);
  });
});

describe.each(['simd', 'scalar'] as const)('the %s build', (build) => {
  it('unmasks RFC 6455 5.7 "Hello" in place and reports absolute offsets', () => {
    const kernel = loadBuild(build);
    const chunk = Uint8Array.from([0xaa, 0xbb, ...MASKED_HELLO, 0x81]);
    const records = new Int32Array(4 * RECORD_WORDS);
    const count = kernel.scan(chunk, 2, chunk.length, records, SCAN_EXPECT_MASKED);
    expect(count).toBe(2);
    expect(record(records, 0)).toEqual([0x81 | INFO_MASKED | (KIND_FRAME << KIND_SHIFT), 2, 8, 5, 0, 0]);
    expect(record(records, 1)).toEqual([KIND_NEED_HEADER << KIND_SHIFT, 13, 0, 0, 0, 0]);
    expect(Array.from(chunk.subarray(8, 13))).toEqual(HELLO);
    expect(Array.from(chunk.subarray(0, 8))).toEqual([0xaa, 0xbb, ...MASKED_HELLO.slice(0, 6)]);
  });

  it('reports RSV2 as an error record with close code 1002', () => {
    const kernel = loadBuild(build);
    const chunk = Uint8Array.from([0xa1, 0x80, 0, 0, 0, 0]);
    const records = new Int32Array(2 * RECORD_WORDS);
    expect(kernel.scan(chunk, 0, chunk.length, records, SCAN_EXPECT_MASKED)).toBe(1);
    expect(record(records, 0)).toEqual([
      0xa1 | INFO_MASKED | (KIND_ERROR << KIND_SHIFT),
      0,
      0,
      ERROR_RSV_2_3,
      0,
      CLOSE_PROTOCOL_ERROR,
    ]);
  });

  it('ends with FULL when one record slot is left and bytes remain', () => {
    const kernel = loadBuild(build);
    const chunk = Uint8Array.from([...MASKED_HELLO, ...MASKED_HELLO, ...MASKED_HELLO]);
    const records = new Int32Array(2 * RECORD_WORDS);
    expect(kernel.scan(chunk, 0, chunk.length, records, SCAN_EXPECT_MASKED)).toBe(2);
    expect(record(records, 1)).toEqual([KIND_FULL << KIND_SHIFT, 11, 0, 0, 0, 0]);
  });

  it('gives a whole frame larger than the staging region one FRAME record, unmasked', () => {
    const kernel = loadBuild(build);
    const { frame, payload } = maskedBinaryFrame(600_001, [0x12, 0x34, 0x56, 0x78]);
    const records = new Int32Array(2 * RECORD_WORDS);
    expect(kernel.scan(frame, 0, frame.length, records, SCAN_EXPECT_MASKED)).toBe(1);
    expect(record(records, 0)).toEqual([0x82 | INFO_MASKED | (KIND_FRAME << KIND_SHIFT), 0, 14, 600_001, 0, 0]);
    expect(firstDifference(frame.subarray(14), payload)).toBe(-1);
  });

  it('masks and unmasks at an odd offset, across staging pieces', () => {
    const kernel = loadBuild(build);
    const key = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);
    const source = new Uint8Array(300_007).map((_, i) => i & 0xff);
    const output = new Uint8Array(source.length + 3);
    kernel.mask(source, key, output, 3, source.length);
    expect(output[3 + 262_145]).toBe(source[262_145] ^ key[1]);
    expect(output[3 + 300_006]).toBe(source[300_006] ^ key[2]);
    kernel.unmask(output, key, 3, source.length);
    expect(firstDifference(output.subarray(3), source)).toBe(-1);
  });

  it('unmasks in place in staging for the benchmark', () => {
    loadBuild(build);
    const staging = wasmStagingView();
    staging.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    wasmInPlaceUnmask(17, Uint8Array.from([0xff, 0, 0xff, 0]));
    expect(Array.from(staging.subarray(0, 18))).toEqual([
      0xfe, 2, 0xfc, 4, 0xfa, 6, 0xf8, 8, 0xf6, 10, 0xf4, 12, 0xf2, 14, 0xf0, 16, 0xee, 18,
    ]);
  });
});
