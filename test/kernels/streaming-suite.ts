/**
 * Streaming equivalence: however TCP splits a stream of valid frames into chunks, feeding the chunks
 * through the reassembler (reassembler.ts) gives the same frames (first byte, MASK bit, length) and
 * the same unmasked payloads as scanning the whole stream at once, and as the frames that were sent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INFO_MASKED, Kernel, RECORD_WORDS, SCAN_ALLOW_RSV1, SCAN_EXPECT_MASKED } from '../../src/kernels/contract';
import { FrameSpec, OPCODE, buildFrame, buildFrames, payloadBytes } from '../helpers/frames';
import { recordCapacity, scanOptions, validFrame, validFrameSpec } from './arbitraries';
import { FrameEvent, reassemble } from './reassembler';
import { pattern } from './scan-cases';

/** What a receiver must see for each frame sent: the header's first byte, the MASK bit, the payload. */
function sentEvents(specs: readonly FrameSpec[]): FrameEvent[] {
  return specs.map((spec) => {
    const frame = buildFrame(spec);
    const payload = payloadBytes(spec.payload);
    return { info: frame[0] | (frame[1] & 0x80 ? INFO_MASKED : 0), length: payload.length, payload };
  });
}

/** Every header shape and the control/data/continuation mix, in about a kilobyte. */
function mixedStream(masked: boolean): FrameSpec[] {
  const key = (n: number): number[] | false => (masked ? [n, 0xff - n, 0x80 | n, 0x3c] : false);
  return [
    { opcode: OPCODE.TEXT, fin: false, mask: key(1), payload: 'Hel' },
    { opcode: OPCODE.PING, mask: key(2) },
    { opcode: OPCODE.CONTINUATION, mask: key(3), payload: 'lo, wörld' },
    { opcode: OPCODE.BINARY, mask: key(4), payload: pattern(126, 1) },
    { opcode: OPCODE.PONG, mask: key(5), payload: pattern(125, 2) },
    { opcode: OPCODE.TEXT, rsv1: true, mask: key(6), payload: pattern(17, 3), lengthEncoding: '64' },
    { opcode: OPCODE.BINARY, mask: key(7) },
    { opcode: OPCODE.BINARY, fin: false, mask: key(8), payload: pattern(300, 4) },
    { opcode: OPCODE.CONTINUATION, mask: key(9), payload: pattern(5, 5), lengthEncoding: '16' },
    { opcode: OPCODE.CLOSE, mask: key(10), payload: Uint8Array.of(0x03, 0xe8, 0x6f, 0x6b) },
    { opcode: OPCODE.TEXT, mask: key(11), payload: pattern(64, 6) },
    { opcode: OPCODE.BINARY, mask: key(12), payload: pattern(33, 7) },
  ];
}

function expectSameEvents(actual: FrameEvent[], expected: FrameEvent[], where: string): void {
  expect(actual.length, `frames ${where}`).toBe(expected.length);
  actual.forEach((event, i) => {
    expect(event.info, `INFO of frame ${i} ${where}`).toBe(expected[i].info);
    expect(event.length, `length of frame ${i} ${where}`).toBe(expected[i].length);
    expect(Buffer.compare(event.payload, expected[i].payload), `payload of frame ${i} ${where}`).toBe(0);
  });
}

export function describeStreaming(kernel: () => Kernel): void {
  describe('streaming: any split of a stream gives the same frames', () => {
    for (const side of ['server', 'client'] as const) {
      const options = (side === 'server' ? SCAN_EXPECT_MASKED : 0) | SCAN_ALLOW_RSV1;
      const specs = mixedStream(side === 'server');
      const wire = buildFrames(specs);
      const sent = sentEvents(specs);

      it(`${side}: the whole stream in one scan gives the frames sent`, () => {
        const whole = reassemble(kernel(), [wire], { scanOptions: options, recordWords: 64 * RECORD_WORDS });
        expectSameEvents(whole, sent, 'in one scan');
      });

      it(`${side}: split into two chunks at every point`, () => {
        for (let split = 0; split <= wire.length; split++) {
          const chunks = [wire.subarray(0, split), wire.subarray(split)];
          const events = reassemble(kernel(), chunks, {
            scanOptions: options,
            recordWords: (2 + (split % 3)) * RECORD_WORDS,
            lead: split % 8,
          });
          expectSameEvents(events, sent, `when split at ${split}`);
        }
      });

      it(`${side}: one byte per chunk`, () => {
        const small = specs.slice(0, 7);
        const bytes = buildFrames(small);
        const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
        const events = reassemble(kernel(), chunks, { scanOptions: options, recordWords: 2 * RECORD_WORDS, lead: 1 });
        expectSameEvents(events, sentEvents(small), 'one byte per chunk');
      });
    }

    it('random valid streams split at random points', () => {
      fc.assert(
        fc.property(
          scanOptions,
          fc.array(validFrame, { maxLength: 12 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          recordCapacity,
          fc.integer({ min: 0, max: 15 }),
          (options, frames, cuts, capacity, lead) => {
            const specs = frames.map((frame) => validFrameSpec(frame, options));
            const wire = buildFrames(specs);
            const points = [...new Set(cuts.map((cut) => cut % (wire.length + 1)))].sort((a, b) => a - b);
            const chunks = [0, ...points].map((from, i) => wire.subarray(from, [...points, wire.length][i]));
            const whole = reassemble(kernel(), [wire], { scanOptions: options, recordWords: 16 * RECORD_WORDS });
            const split = reassemble(kernel(), chunks, {
              scanOptions: options,
              recordWords: capacity * RECORD_WORDS,
              lead,
            });
            expectSameEvents(whole, sentEvents(specs), 'in one scan');
            expectSameEvents(split, whole, `split at ${points.join(',')}`);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
}
