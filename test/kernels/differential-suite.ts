/**
 * Differential properties: a tier and the byte-loop oracle (oracle.ts) get identical copies of the
 * same bytes; the records, every byte of the surrounding ArrayBuffer, and the guard words around
 * the records must come out identical. fast-check prints the seed and the shrunk case on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Kernel, RECORD_WORDS } from '../../src/kernels/contract';
import { buildFrames } from '../helpers/frames';
import {
  anyFrame,
  largePayloadLength,
  layout,
  oddOffset,
  offset,
  payloadLength,
  placedMaskKey,
  recordCapacity,
  recordSlack,
  scanOptions,
  seed,
  toFrameSpec,
} from './arbitraries';
import { oracleMask, oracleScan, oracleUnmask } from './oracle';
import { Layout, clonePlaced, expectSameBytes, fillPseudoRandom, place } from './placement';
import { readRecords } from './records';

/** Words before and after the records view, filled with this value, that a tier must not write. */
const RECORD_GUARD_WORDS = 8;
const RECORD_GUARD = 0x5a5a5a5a;

function guardedRecords(words: number): { all: Int32Array; records: Int32Array } {
  const all = new Int32Array(RECORD_GUARD_WORDS + words + RECORD_GUARD_WORDS).fill(RECORD_GUARD);
  return { all, records: all.subarray(RECORD_GUARD_WORDS, RECORD_GUARD_WORDS + words) };
}

function expectGuardsKept(all: Int32Array, words: number): void {
  const guards = [...all.subarray(0, RECORD_GUARD_WORDS), ...all.subarray(RECORD_GUARD_WORDS + words)];
  expect(
    guards.every((word) => word === RECORD_GUARD),
    'guard words around records',
  ).toBe(true);
}

function randomBytes(length: number, seedValue: number): Uint8Array {
  const bytes = new Uint8Array(length);
  fillPseudoRandom(bytes, seedValue);
  return bytes;
}

function checkScan(kernel: Kernel, wire: Uint8Array, where: Layout, options: number, words: number): void {
  const tier = place(wire, where);
  const reference = clonePlaced(tier);
  const tierRecords = guardedRecords(words);
  const referenceRecords = new Int32Array(words);
  const count = kernel.scan(tier.view, tier.start, tier.end, tierRecords.records, options);
  const expectedCount = oracleScan(reference.view, reference.start, reference.end, referenceRecords, options);
  expect(readRecords(tierRecords.records, count)).toEqual(readRecords(referenceRecords, expectedCount));
  expectSameBytes(tier.arena, reference.arena, 'the scanned buffer');
  expectGuardsKept(tierRecords.all, words);
}

function checkUnmask(kernel: Kernel, length: number, where: Layout, key: Uint8Array, dataSeed: number): void {
  const tier = place(randomBytes(length, dataSeed), where);
  const reference = clonePlaced(tier);
  kernel.unmask(tier.view, key, tier.start, length);
  oracleUnmask(reference.view, key, reference.start, length);
  expectSameBytes(tier.arena, reference.arena, 'the unmasked buffer');
}

function checkMask(
  kernel: Kernel,
  length: number,
  sourceAt: Layout,
  extraSource: number,
  outputAt: Layout,
  key: Uint8Array,
  dataSeed: number,
): void {
  const source = place(randomBytes(length + extraSource, dataSeed), sourceAt);
  const sourceView = source.view.subarray(source.start, source.end);
  const sourceBefore = source.arena.slice();
  const tier = place(new Uint8Array(length), outputAt);
  const reference = clonePlaced(tier);
  kernel.mask(sourceView, key, tier.view, tier.start, length);
  oracleMask(sourceView, key, reference.view, reference.start, length);
  expectSameBytes(tier.arena, reference.arena, 'the mask output');
  expectSameBytes(source.arena, sourceBefore, 'the mask source');
}

export function describeDifferential(kernel: () => Kernel): void {
  describe('differential against the oracle (fast-check)', () => {
    it('unmask: any length, alignment, key and range', () => {
      fc.assert(
        fc.property(payloadLength, layout, placedMaskKey, seed, (length, where, key, dataSeed) => {
          checkUnmask(kernel(), length, where, key, dataSeed);
        }),
        { numRuns: 300 },
      );
    });

    it('unmask: large payloads up to 1 MiB', () => {
      fc.assert(
        fc.property(largePayloadLength, layout, placedMaskKey, seed, (length, where, key, dataSeed) => {
          checkUnmask(kernel(), length, where, key, dataSeed);
        }),
        { numRuns: 5 },
      );
    });

    const outputLayout = fc.record({ viewOffset: offset, lead: fc.oneof(oddOffset, offset), trail: offset });

    it('mask: any length, source alignment, odd output offsets', () => {
      fc.assert(
        fc.property(
          payloadLength,
          layout,
          fc.integer({ min: 0, max: 3 }),
          outputLayout,
          placedMaskKey,
          seed,
          (length, sourceAt, extra, outputAt, key, dataSeed) => {
            checkMask(kernel(), length, sourceAt, extra, outputAt, key, dataSeed);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('mask: large payloads up to 1 MiB', () => {
      fc.assert(
        fc.property(
          largePayloadLength,
          layout,
          outputLayout,
          placedMaskKey,
          seed,
          (length, sourceAt, outputAt, key, dataSeed) => {
            checkMask(kernel(), length, sourceAt, 0, outputAt, key, dataSeed);
          },
        ),
        { numRuns: 5 },
      );
    });

    it('scan: streams of valid and invalid frames, cut anywhere, any options and capacity', () => {
      fc.assert(
        fc.property(
          scanOptions,
          fc.array(anyFrame, { maxLength: 8 }),
          fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }) }),
          layout,
          recordCapacity,
          recordSlack,
          (options, frames, cut, where, capacity, slack) => {
            const whole = buildFrames(frames.map((frame) => toFrameSpec(frame, options)));
            const wire = whole.subarray(0, Math.max(0, whole.length - cut));
            checkScan(kernel(), wire, where, options, capacity * RECORD_WORDS + slack);
          },
        ),
        { numRuns: 400 },
      );
    });

    it('scan: arbitrary bytes', () => {
      fc.assert(
        fc.property(
          scanOptions,
          fc.uint8Array({ maxLength: 64 }),
          layout,
          recordCapacity,
          (options, wire, where, capacity) => {
            checkScan(kernel(), wire, where, options, capacity * RECORD_WORDS);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('scan: many small frames against a small record capacity', () => {
      fc.assert(
        fc.property(
          scanOptions,
          fc.array(
            anyFrame.map((frame) => ({ ...frame, length: frame.length % 8, hugeLength: null })),
            { minLength: 4, maxLength: 30 },
          ),
          layout,
          fc.integer({ min: 0, max: 4 * RECORD_WORDS }),
          (options, frames, where, extraWords) => {
            const wire = buildFrames(frames.map((frame) => toFrameSpec(frame, options)));
            checkScan(kernel(), wire, where, options, 2 * RECORD_WORDS + extraWords);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
}
