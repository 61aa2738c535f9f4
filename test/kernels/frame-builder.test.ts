// The test frame builder (test/helpers/frames.ts) against the literal examples of RFC 6455 5.7.
import { describe, expect, it } from 'vitest';
import { OPCODE, buildFrame } from '../helpers/frames';

const bytes = (frame: Uint8Array): number[] => Array.from(frame);
const HELLO = [0x48, 0x65, 0x6c, 0x6c, 0x6f];

describe('buildFrame (RFC 6455 5.7 examples)', () => {
  it('a single-frame unmasked text message', () => {
    expect(bytes(buildFrame({ opcode: OPCODE.TEXT, payload: 'Hello' }))).toEqual([0x81, 0x05, ...HELLO]);
  });

  it('a single-frame masked text message, with the example key by default', () => {
    expect(bytes(buildFrame({ opcode: OPCODE.TEXT, mask: true, payload: 'Hello' }))).toEqual([
      0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]);
  });

  it('a fragmented text message', () => {
    expect(bytes(buildFrame({ opcode: OPCODE.TEXT, fin: false, payload: 'Hel' }))).toEqual([
      0x01, 0x03, 0x48, 0x65, 0x6c,
    ]);
    expect(bytes(buildFrame({ opcode: OPCODE.CONTINUATION, payload: 'lo' }))).toEqual([0x80, 0x02, 0x6c, 0x6f]);
  });

  it('256 bytes with a 16-bit length and 65536 bytes with a 64-bit length', () => {
    expect(bytes(buildFrame({ opcode: OPCODE.BINARY, payload: new Uint8Array(256) }).subarray(0, 4))).toEqual([
      0x82, 0x7e, 0x01, 0x00,
    ]);
    expect(bytes(buildFrame({ opcode: OPCODE.BINARY, payload: new Uint8Array(65536) }).subarray(0, 10))).toEqual([
      0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00,
    ]);
  });
});

describe('buildFrame overrides', () => {
  it('forces a non-minimal length encoding', () => {
    expect(bytes(buildFrame({ opcode: OPCODE.TEXT, payload: 'Hi', lengthEncoding: '16' }))).toEqual([
      0x81, 0x7e, 0, 2, 0x48, 0x69,
    ]);
    expect(bytes(buildFrame({ opcode: OPCODE.TEXT, payload: 'Hi', lengthEncoding: '64' }).subarray(0, 10))).toEqual([
      0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0, 2,
    ]);
  });

  it('sets RSV bits, clears FIN, and uses a given key', () => {
    expect(
      bytes(
        buildFrame({ opcode: 3, fin: false, rsv1: true, rsv2: true, rsv3: true, mask: [1, 2, 3, 4], payload: 'ab' }),
      ),
    ).toEqual([0x73, 0x82, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2]);
  });

  it('declares a length other than the payload, up to 2^64 - 1', () => {
    expect(bytes(buildFrame({ opcode: OPCODE.BINARY, declaredLength: 2n ** 64n - 1n }))).toEqual([
      0x82,
      0x7f,
      ...Array(8).fill(0xff),
    ]);
    expect(bytes(buildFrame({ opcode: OPCODE.BINARY, declaredLength: 2n ** 53n - 1n, payload: 'x' }))).toEqual([
      0x82, 0x7f, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x78,
    ]);
  });

  it('replaces the raw header bytes', () => {
    expect(
      bytes(buildFrame({ opcode: OPCODE.TEXT, byte0: 0xff, byte1: 0x7e, payload: 'x', lengthEncoding: '16' })),
    ).toEqual([0xff, 0x7e, 0, 1, 0x78]);
  });

  it('refuses a length that does not fit the forced encoding, and a bad key or opcode', () => {
    expect(() => buildFrame({ opcode: OPCODE.TEXT, payload: new Uint8Array(126), lengthEncoding: '7' })).toThrow(
      RangeError,
    );
    expect(() => buildFrame({ opcode: OPCODE.TEXT, mask: [1, 2, 3] })).toThrow(RangeError);
    expect(() => buildFrame({ opcode: 16 })).toThrow(RangeError);
  });
});
