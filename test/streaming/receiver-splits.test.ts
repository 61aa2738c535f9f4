/**
 * Any split of a byte stream gives the same handler events: the Receiver keeps split headers, streams
 * split payloads (unmasking with the key rotated to where each piece starts) and checks text as it
 * arrives, and none of that may depend on where the socket cut the stream.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReceiverOptions } from '../../src/protocol/receiver';
import { FrameSpec, buildFrame, concatBytes } from '../helpers/frames';
import { ReceiverEvent, receive } from '../helpers/receiver-events';

/** Cuts the stream before each offset in `cuts` and feeds copies of the pieces (the Receiver unmasks in place). */
function run(stream: Uint8Array, cuts: readonly number[], options: ReceiverOptions): ReceiverEvent[] {
  const points = [0, ...cuts, stream.length];
  return receive(points.slice(1).map((end, i) => stream.subarray(points[i], end)), options, 'hex');
}

const KEY = [0xa1, 0x07, 0xfe, 0x3c];
const masked = (specs: FrameSpec[]): Uint8Array => concatBytes(specs.map((spec) => buildFrame({ mask: KEY, ...spec })));
const bytes = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + 5) & 0xff);

const VALID = masked([
  { opcode: 1, payload: 'héllo' },
  { opcode: 2, payload: bytes(130) },
  { opcode: 1, fin: false, payload: Buffer.from('€😀').subarray(0, 5) },
  { opcode: 9, payload: 'between' },
  { opcode: 0, fin: false, payload: Buffer.from('€😀').subarray(5) },
  { opcode: 0, payload: ' done' },
  { opcode: 10 },
  { opcode: 2, payload: bytes(3), lengthEncoding: '64' },
  { opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0x6f, 0x6b) },
]);

const INVALID_UTF8_MID_MESSAGE = masked([
  { opcode: 1, payload: 'ok' },
  { opcode: 1, fin: false, payload: Uint8Array.of(0x61, 0xf0, 0x9f) },
  { opcode: 0, fin: false, payload: Uint8Array.of(0x98, 0x28) },
  { opcode: 9, payload: 'never seen' },
]);

const OVER_LIMIT = masked([
  { opcode: 2, payload: bytes(50), fin: false },
  { opcode: 0, payload: bytes(60) },
]);

const everySplitPoint = (stream: Uint8Array): number[][] =>
  Array.from({ length: stream.length - 1 }, (_, i) => [i + 1]);
const oneBytePerChunk = (stream: Uint8Array): number[] => Array.from({ length: stream.length - 1 }, (_, i) => i + 1);

const SERVER: ReceiverOptions = { isServer: true };

describe('receiver events do not depend on where chunks split', () => {
  const streams: [string, Uint8Array, ReceiverOptions][] = [
    ['mixed valid stream', VALID, SERVER],
    ['invalid UTF-8 inside a fragmented message', INVALID_UTF8_MID_MESSAGE, SERVER],
    ['message over maxPayload', OVER_LIMIT, { isServer: true, maxPayload: 100 }],
  ];

  for (const [name, stream, options] of streams) {
    it(`${name}: every single split point`, () => {
      const whole = run(stream, [], options);
      for (const cuts of everySplitPoint(stream)) expect(run(stream, cuts, options)).toEqual(whole);
    });

    it(`${name}: one byte per chunk`, () => {
      expect(run(stream, oneBytePerChunk(stream), options)).toEqual(run(stream, [], options));
    });

    it(`${name}: random splits (fast-check)`, () => {
      const whole = run(stream, [], options);
      fc.assert(
        fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 20 }), (cuts) => {
          expect(run(stream, [...cuts].sort((a, b) => a - b), options)).toEqual(whole);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('the whole mixed stream gives the expected events', () => {
    const events = run(VALID, [], SERVER);
    expect(events.map((event) => event[0])).toEqual(['message', 'message', 'ping', 'message', 'pong', 'message', 'close']);
    expect(events[3]).toEqual(['message', Buffer.from('€😀 done').toString('hex'), false]);
    expect(run(INVALID_UTF8_MID_MESSAGE, [], SERVER).at(-1)).toEqual([
      'error',
      'Error',
      'WS_ERR_INVALID_UTF8',
      'Invalid WebSocket frame: invalid UTF-8 sequence',
      1007,
    ]);
  });

  it('a large masked frame streamed in uneven pieces is unmasked right', () => {
    const payload = bytes(200_000);
    const stream = buildFrame({ opcode: 2, payload, mask: KEY });
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { minLength: 1, maxLength: 12 }), (cuts) => {
        const events = run(stream, [...cuts].sort((a, b) => a - b), SERVER);
        expect(events).toEqual([['message', Buffer.from(payload).toString('hex'), true]]);
      }),
      { numRuns: 40 },
    );
  });
});
