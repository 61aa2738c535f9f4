/**
 * RFC 6455 section 5.2 (base framing protocol): the header writer's length encodings, and the header
 * rules the Receiver enforces with ws's errors.
 */
import { constants, deflateRawSync, inflateRawSync } from 'zlib';
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_BYTES, frameHeaderLength, writeFrameHeader } from '../../src/protocol/frame-header';
import { MessageInflater } from '../../src/protocol/receiver';
import { buildFrame } from '../helpers/frames';
import { receive, receiveAll } from '../helpers/receiver-events';

describe('5.2 header writer', () => {
  const lengths = [0, 1, 125, 126, 127, 65_535, 65_536, 2 ** 32 + 5, 2 ** 53 - 1];
  for (const length of lengths) {
    for (const masked of [false, true]) {
      it(`5.2 payload length ${length}${masked ? ', masked' : ''} uses the minimal encoding`, () => {
        const key = masked ? Uint8Array.of(1, 2, 3, 4) : null;
        const target = Buffer.alloc(3 + MAX_HEADER_BYTES + 1, 0xee);
        const written = writeFrameHeader(target, 3, 0x82, length, key);
        expect(written).toBe(frameHeaderLength(length, masked));
        const expected = buildFrame({ opcode: 2, declaredLength: BigInt(length), mask: key ?? false }).subarray(0, written);
        expect(target.subarray(3, 3 + written)).toEqual(Buffer.from(expected));
        expect(target[3 + written]).toBe(0xee);
      });
    }
  }
});

describe('5.2 header rules in the Receiver', () => {
  it('5.2 7-, 16- and 64-bit lengths are all accepted, minimal or not', () => {
    for (const lengthEncoding of ['7', '16', '64'] as const) {
      expect(receive(buildFrame({ opcode: 1, payload: 'abc', lengthEncoding }))).toEqual([['message', 'abc', false]]);
    }
  });

  it('5.2 RSV2 or RSV3 without an extension -> 1002 WS_ERR_UNEXPECTED_RSV_2_3', () => {
    for (const spec of [{ rsv2: true }, { rsv3: true }]) {
      expect(receive(buildFrame({ opcode: 1, ...spec }))).toEqual([
        ['error', 'RangeError', 'WS_ERR_UNEXPECTED_RSV_2_3', 'Invalid WebSocket frame: RSV2 and RSV3 must be clear', 1002],
      ]);
    }
  });

  it('5.2 RSV1 without permessage-deflate -> 1002 WS_ERR_UNEXPECTED_RSV_1', () => {
    expect(receive(buildFrame({ opcode: 2, rsv1: true }))).toEqual([
      ['error', 'RangeError', 'WS_ERR_UNEXPECTED_RSV_1', 'Invalid WebSocket frame: RSV1 must be clear', 1002],
    ]);
  });

  it('5.2 reserved opcodes 3-7 and 0xB-0xF -> 1002 WS_ERR_INVALID_OPCODE', () => {
    for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
      expect(receive(buildFrame({ opcode }))).toEqual([
        ['error', 'RangeError', 'WS_ERR_INVALID_OPCODE', `Invalid WebSocket frame: invalid opcode ${opcode}`, 1002],
      ]);
    }
  });

  it('5.2 a 64-bit length above 2^53 - 1 -> 1009 WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', () => {
    const frame = buildFrame({ opcode: 2, declaredLength: 2n ** 53n, lengthEncoding: '64' });
    expect(receive(frame)).toEqual([
      ['error', 'RangeError', 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 'Unsupported WebSocket frame: payload length > 2^53 - 1', 1009],
    ]);
  });

  it('5.2 the length bound is checked as soon as the length field is whole, before the key arrives', () => {
    const frame = buildFrame({ opcode: 2, declaredLength: 2n ** 60n, lengthEncoding: '64', mask: true });
    expect(receive(frame.subarray(0, 10), { isServer: true })[0]?.[2]).toBe('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH');
  });

  it('5.2 the declared length counts against maxPayload before any payload arrives', () => {
    const header = buildFrame({ opcode: 2, declaredLength: 1_000_000, lengthEncoding: '64' }).subarray(0, 10);
    expect(receive(header, { maxPayload: 999_999 })).toEqual([
      ['error', 'RangeError', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'Max payload size exceeded', 1009],
    ]);
  });

  it('5.2 several frames in one chunk each give their event, in order', () => {
    const frames = Buffer.concat([
      buildFrame({ opcode: 1, payload: 'a' }),
      buildFrame({ opcode: 9, payload: 'b' }),
      buildFrame({ opcode: 2, payload: 'c' }),
    ]);
    expect(receive(frames)).toEqual([
      ['message', 'a', false],
      ['ping', 'b'],
      ['message', 'c', true],
    ]);
  });

  it('5.2 more frames in one chunk than a scan holds records for', () => {
    const frames = Buffer.concat(Array.from({ length: 300 }, (_, i) => buildFrame({ opcode: 1, payload: String(i) })));
    const events = receive(frames);
    expect(events).toHaveLength(300);
    expect(events[299]).toEqual(['message', '299', false]);
  });
});

describe('5.2 RSV1 once permessage-deflate is negotiated (the inflate hook)', () => {
  // RFC 7692 section 7.2.1: a sync-flushed deflate stream without its trailing 00 00 FF FF.
  const deflate = (text: string) => deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
  const compressed = deflate('squeezed text');
  const syncInflater: MessageInflater = {
    decompress: (data, fin, callback) => callback(null, fin ? inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }) : data),
  };
  const asyncInflater: MessageInflater = {
    decompress: (data, fin, callback) => setImmediate(() => syncInflater.decompress(data, fin, callback)),
  };

  it('5.2 a compressed message goes through the inflater, synchronous or not, and order is kept', async () => {
    for (const perMessageDeflate of [syncInflater, asyncInflater]) {
      const stream = Buffer.concat([
        buildFrame({ opcode: 1, rsv1: true, payload: compressed }),
        buildFrame({ opcode: 9, payload: 'after' }),
      ]);
      expect(await receiveAll(stream, { perMessageDeflate })).toEqual([
        ['message', 'squeezed text', false],
        ['ping', 'after'],
      ]);
    }
  });

  it('5.2 inflated bytes count against maxPayload', () => {
    const payload = deflate('a'.repeat(100));
    expect(payload.length).toBeLessThan(50);
    expect(receive(buildFrame({ opcode: 2, rsv1: true, payload }), { perMessageDeflate: syncInflater, maxPayload: 50 })).toEqual([
      ['error', 'RangeError', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'Max payload size exceeded', 1009],
    ]);
  });
});
