/**
 * RFC 6455 section 8.1 (handling errors in UTF-8 data): text must be valid UTF-8, checked fail-fast,
 * fragment by fragment, with code points that straddle fragments carried over.
 */
import { isUtf8 } from 'buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Stream } from '../../src/protocol/utf8';
import { ReceiverOptions } from '../../src/protocol/receiver';
import { ReceiverInput, receive } from '../helpers/receiver-events';

/** Feeds the pieces one by one; returns the index of the piece that failed, or -1 when all is valid. */
function failingPiece(pieces: Uint8Array[]): number {
  const stream = new Utf8Stream();
  for (let i = 0; i < pieces.length; i++) {
    if (!stream.write(pieces[i], i === pieces.length - 1)) return i;
  }
  return -1;
}

function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [0, ...cuts, bytes.length];
  return points.slice(1).map((end, i) => bytes.subarray(points[i], end));
}

const receiveHex = (input: ReceiverInput, options: ReceiverOptions = {}) => receive(input, options, 'hex');

const INVALID_UTF8 = ['error', 'Error', 'WS_ERR_INVALID_UTF8', 'Invalid WebSocket frame: invalid UTF-8 sequence', 1007];

describe('8.1 UTF-8 stream validation', () => {
  const samples: [string, number[]][] = [
    ['ASCII', [...Buffer.from('hello')]],
    ['2-, 3- and 4-byte code points', [...Buffer.from('é€😀κόσμε')]],
    ['overlong 2-byte', [0xc0, 0xaf]],
    ['overlong 3-byte', [0xe0, 0x80, 0xaf]],
    ['surrogate', [0x61, 0xed, 0xa0, 0x80]],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['lone continuation', [0x80]],
    ['truncated at the end', [0x61, 0xe2, 0x82]],
    ['0xFF', [0xff]],
  ];

  for (const [name, bytes] of samples) {
    it(`8.1 ${name}: every two-piece split agrees with buffer.isUtf8 on the whole`, () => {
      const data = Uint8Array.from(bytes);
      const valid = isUtf8(data);
      for (let cut = 0; cut <= data.length; cut++) {
        expect(failingPiece(cutAt(data, [cut])) === -1).toBe(valid);
      }
    });
  }

  it('8.1 any split of any byte string agrees with buffer.isUtf8 (fast-check)', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }).map((text) => Uint8Array.from(Buffer.from(text))),
    );
    fc.assert(
      fc.property(bytesArb, fc.array(fc.nat(), { maxLength: 6 }), (data, raw) => {
        const cuts = [...new Set(raw.map((value) => value % (data.length + 1)))].sort((a, b) => a - b);
        expect(failingPiece(cutAt(data, cuts)) === -1).toBe(isUtf8(data));
      }),
      { numRuns: 2000 },
    );
  });

  it('8.1 fails at the piece where the text becomes invalid, not at the end', () => {
    // 0xED 0xA0 starts a surrogate: no continuation can make it valid.
    expect(failingPiece([Uint8Array.of(0x61, 0xed), Uint8Array.of(0xa0), Uint8Array.of(0x80, 0x61), Uint8Array.of(0x62)])).toBe(1);
    expect(failingPiece([Uint8Array.of(0x61, 0xed, 0xa0), Uint8Array.of(0x80)])).toBe(0);
    expect(failingPiece([Uint8Array.of(0x61, 0xf4, 0x90), Uint8Array.of(0x80, 0x80)])).toBe(0);
    expect(failingPiece([Uint8Array.of(0x61, 0xf5), Uint8Array.of(0x62)])).toBe(0);
    expect(failingPiece([Uint8Array.of(0xf0, 0x9f), Uint8Array.of(0x98), Uint8Array.of(0x80)])).toBe(-1);
  });
});

describe('8.1 UTF-8 in the Receiver', () => {
  it('8.1 an invalid text message -> 1007 WS_ERR_INVALID_UTF8', () => {
    expect(receiveHex([{ opcode: 1, payload: Uint8Array.of(0xce, 0xba, 0xe1, 0xbd) }])).toEqual([INVALID_UTF8]);
  });

  it('8.1 fail fast: the fragment that makes the text invalid fails the connection at once', () => {
    expect(
      receiveHex([
        { opcode: 1, fin: false, payload: Uint8Array.of(0x61, 0xed) },
        { opcode: 0, fin: false, payload: Uint8Array.of(0xa0, 0x80) },
        { opcode: 9, payload: 'never delivered' },
        { opcode: 0, payload: 'x' },
      ]),
    ).toEqual([INVALID_UTF8]);
  });

  it('8.1 a code point split across fragments is valid', () => {
    const text = Buffer.from('€');
    expect(
      receiveHex([
        { opcode: 1, fin: false, payload: text.subarray(0, 1) },
        { opcode: 0, fin: false, payload: text.subarray(1, 2) },
        { opcode: 0, payload: text.subarray(2) },
      ]),
    ).toEqual([['message', text.toString('hex'), false]]);
  });

  it('8.1 a message that ends inside a code point is invalid', () => {
    expect(receiveHex([{ opcode: 1, fin: false, payload: 'a' }, { opcode: 0, payload: Uint8Array.of(0xe2, 0x82) }])).toEqual([INVALID_UTF8]);
  });

  it('8.1 a close reason that is not UTF-8 -> 1007', () => {
    expect(receiveHex([{ opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0xc0) }])).toEqual([INVALID_UTF8]);
  });

  it('8.1 binary messages are not checked', () => {
    expect(receiveHex([{ opcode: 2, payload: Uint8Array.of(0xff) }])).toEqual([['message', 'ff', true]]);
  });

  it('8.1 skipUTF8Validation turns the check off, as in ws', () => {
    expect(
      receiveHex([{ opcode: 1, payload: Uint8Array.of(0xff) }, { opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0xff) }], {
        skipUTF8Validation: true,
      }),
    ).toEqual([['message', 'ff', false], ['close', 1000, 'ff']]);
  });
});
