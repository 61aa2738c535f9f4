/**
 * ws from npm is the oracle: the same bytes, in the same chunks, go to ws's own Receiver and to ours,
 * and both must produce the same events, error classes, codes, messages and close statuses.
 */
import { createRequire } from 'module';
import { EventEmitter } from 'events';
import { dirname, join } from 'path';
import { describe, expect, it } from 'vitest';
import { ReceiverOptions } from '../../src/protocol/receiver';
import { FrameSpec, buildFrame, concatBytes } from '../helpers/frames';
import { ReceiverEvent, errorEvent, receiveAll } from '../helpers/receiver-events';

const require = createRequire(__filename);
interface WsReceiver extends EventEmitter {
  write(chunk: Buffer): boolean;
  destroyed: boolean;
  writableEnded: boolean;
}
// ws's package exports hide lib/, so its files are loaded by path.
const wsLib = join(dirname(require.resolve('ws')), 'lib');
const WsReceiverClass = require(join(wsLib, 'receiver.js')) as new (options: object) => WsReceiver;
const wsStatus = (require(join(wsLib, 'constants.js')) as { kStatusCode: symbol }).kStatusCode;

async function runWs(chunks: Buffer[], options: ReceiverOptions): Promise<ReceiverEvent[]> {
  const events: ReceiverEvent[] = [];
  const receiver = new WsReceiverClass({ ...options });
  receiver.on('message', (data: Buffer, isBinary: boolean) => events.push(['message', data.toString('hex'), isBinary]));
  receiver.on('ping', (data: Buffer) => events.push(['ping', data.toString('hex')]));
  receiver.on('pong', (data: Buffer) => events.push(['pong', data.toString('hex')]));
  receiver.on('conclude', (code: number, reason: Buffer) => events.push(['close', code, reason.toString('hex')]));
  receiver.on('error', (error: Error) => events.push(errorEvent(error, (error as never)[wsStatus])));
  for (const chunk of chunks) {
    if (receiver.destroyed || receiver.writableEnded) break;
    receiver.write(Buffer.from(chunk));
  }
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return events;
}

/** Every event, deferred ones included: the Receiver says when it has delivered them all. */
const runOurs = (chunks: Buffer[], options: ReceiverOptions): Promise<ReceiverEvent[]> => receiveAll(chunks, options, 'hex');

/** Splits at every `size` bytes. */
function split(bytes: Uint8Array, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(Buffer.from(bytes.subarray(i, i + size)));
  return chunks;
}

const KEY = [0x11, 0x22, 0x33, 0x44];
/** Frames as the role's peer sends them: masked towards a server, unmasked towards a client. */
function wire(specs: FrameSpec[], isServer: boolean): Uint8Array {
  return concatBytes(specs.map((spec) => buildFrame({ mask: isServer ? KEY : false, ...spec })));
}

const text = (payload: string | Uint8Array, extra: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: 1, payload, ...extra });
const binary = (payload: Uint8Array, extra: Partial<FrameSpec> = {}): FrameSpec => ({ opcode: 2, payload, ...extra });
const bytes = (length: number, seed = 7): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * seed + 3) & 0xff);
const closeBody = (code: number, reason: Uint8Array = new Uint8Array(0)): Uint8Array =>
  concatBytes([Uint8Array.of(code >> 8, code & 0xff), reason]);

interface Case {
  name: string;
  frames: FrameSpec[];
  options?: ReceiverOptions;
}

const CASES: Case[] = [
  { name: 'one text message', frames: [text('hello')] },
  { name: 'binary with a 16-bit length', frames: [binary(bytes(300))] },
  { name: 'binary with a 64-bit length', frames: [binary(bytes(70_000))] },
  { name: 'non-minimal 64-bit length for 5 bytes', frames: [text('abcde', { lengthEncoding: '64' })] },
  { name: 'empty text and empty binary', frames: [text(''), binary(new Uint8Array(0))] },
  {
    name: 'fragmented text with control frames between fragments',
    frames: [
      text('frag', { fin: false }),
      { opcode: 9, payload: 'ping!' },
      { opcode: 0, payload: 'men', fin: false },
      { opcode: 10, payload: '' },
      { opcode: 0, payload: 'ted ✓' },
    ],
  },
  {
    name: 'a code point split between fragments',
    frames: [text(Buffer.from('é€😀').subarray(0, 3), { fin: false }), { opcode: 0, payload: Buffer.from('é€😀').subarray(3) }],
  },
  { name: 'fragmented binary with empty fragments', frames: [binary(new Uint8Array(0), { fin: false }), { opcode: 0, payload: bytes(10), fin: false }, { opcode: 0 }] },
  { name: 'ping and pong', frames: [{ opcode: 9, payload: bytes(125) }, { opcode: 10, payload: 'x' }, { opcode: 9 }] },
  { name: 'close without a body', frames: [{ opcode: 8 }] },
  { name: 'close 1000 with a reason, then ignored frames', frames: [{ opcode: 8, payload: closeBody(1000, Buffer.from('bye')) }, text('after')] },
  { name: 'close 4999', frames: [{ opcode: 8, payload: closeBody(4999) }] },
  { name: 'RSV2 set', frames: [text('a', { rsv2: true })] },
  { name: 'RSV3 set', frames: [text('a', { rsv3: true })] },
  { name: 'RSV1 without permessage-deflate', frames: [text('a', { rsv1: true })] },
  { name: 'RSV1 on a ping', frames: [{ opcode: 9, rsv1: true }] },
  { name: 'reserved opcode 3', frames: [{ opcode: 3 }] },
  { name: 'reserved opcode 0xb', frames: [{ opcode: 0xb }] },
  { name: 'fragmented ping', frames: [{ opcode: 9, fin: false }] },
  { name: 'ping of 126 bytes', frames: [{ opcode: 9, payload: bytes(126) }] },
  { name: 'close with a 1-byte body', frames: [{ opcode: 8, payload: Uint8Array.of(3) }] },
  { name: 'continuation without a message', frames: [{ opcode: 0, payload: 'x' }] },
  { name: 'text inside a fragmented message', frames: [text('a', { fin: false }), text('b')] },
  { name: 'binary inside a fragmented message', frames: [text('a', { fin: false }), binary(bytes(2))] },
  { name: 'length above 2^53 - 1', frames: [binary(new Uint8Array(0), { declaredLength: 2n ** 53n, lengthEncoding: '64' })] },
  { name: 'length with the top bit set', frames: [binary(new Uint8Array(0), { declaredLength: 2n ** 63n, lengthEncoding: '64' })] },
  { name: 'invalid UTF-8 in one frame', frames: [text(Uint8Array.of(0x61, 0xc3, 0x28))] },
  { name: 'surrogate in UTF-8', frames: [text(Uint8Array.of(0xed, 0xa0, 0x80))] },
  { name: 'close code 1005', frames: [{ opcode: 8, payload: closeBody(1005) }] },
  { name: 'close code 999', frames: [{ opcode: 8, payload: closeBody(999) }] },
  { name: 'close code 1016', frames: [{ opcode: 8, payload: closeBody(1016) }] },
  { name: 'close code 5000', frames: [{ opcode: 8, payload: closeBody(5000) }] },
  { name: 'close reason not UTF-8', frames: [{ opcode: 8, payload: closeBody(1000, Uint8Array.of(0xff)) }] },
  { name: 'maxPayload: one frame too big', frames: [binary(bytes(101))], options: { maxPayload: 100 } },
  { name: 'maxPayload: exactly at the limit', frames: [binary(bytes(100))], options: { maxPayload: 100 } },
  {
    name: 'maxPayload: fragments add up past it',
    frames: [binary(bytes(60), { fin: false }), { opcode: 9, payload: bytes(100) }, { opcode: 0, payload: bytes(60) }],
    options: { maxPayload: 100 },
  },
  {
    name: 'maxFragments: one fragment too many',
    frames: [text('a', { fin: false }), { opcode: 0, payload: 'b', fin: false }, { opcode: 0, payload: 'c' }],
    options: { maxFragments: 2 },
  },
  {
    name: 'maxFragments: resets between messages',
    frames: [text('a', { fin: false }), { opcode: 0, payload: 'b' }, text('c', { fin: false }), { opcode: 0, payload: 'd' }],
    options: { maxFragments: 2 },
  },
  { name: 'skipUTF8Validation', frames: [text(Uint8Array.of(0xff)), { opcode: 8, payload: closeBody(1000, Uint8Array.of(0xfe)) }], options: { skipUTF8Validation: true } },
  { name: 'continuation without a message and RSV1 set', frames: [{ opcode: 0, rsv1: true }] },
];

const ROLES = [
  { role: 'server', isServer: true },
  { role: 'client', isServer: false },
] as const;

describe('Receiver matches ws 8.23 on the same bytes', () => {
  for (const { role, isServer } of ROLES) {
    for (const testCase of CASES) {
      it(`${role}: ${testCase.name}`, async () => {
        const stream = wire(testCase.frames, isServer);
        const options = { isServer, ...testCase.options };
        // One byte per chunk only for small streams: ws's Writable pays a stream write per byte.
        const sizes = stream.length <= 4096 ? [stream.length, 1, 3, 64] : [stream.length, 3, 64, 1000];
        for (const size of sizes) {
          const expected = await runWs(split(stream, size), options);
          expect(expected.length).toBeGreaterThan(0);
          expect(await runOurs(split(stream, size), options)).toEqual(expected);
        }
      });
    }

    it(`${role}: a frame masked the wrong way for the role`, async () => {
      const stream = buildFrame({ opcode: 1, payload: 'x', mask: isServer ? false : KEY });
      const options = { isServer };
      expect(await runOurs([Buffer.from(stream)], options)).toEqual(await runWs([Buffer.from(stream)], options));
    });

    it(`${role}: ws's opcode-state check comes before the mask check`, async () => {
      const stream = buildFrame({ opcode: 0, payload: 'x', mask: isServer ? false : KEY });
      const expected = await runWs([Buffer.from(stream)], { isServer });
      expect(expected[0]).toEqual(['error', 'RangeError', 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 0', 1002]);
      expect(await runOurs([Buffer.from(stream)], { isServer })).toEqual(expected);
    });
  }

  it('maxBufferedChunks counts the chunks of an unfinished frame as ws does', async () => {
    // ws consumes a header in pieces (2 bytes, extended length, key), so a 14-byte header sent one byte
    // per chunk never holds more than 8 chunks in ws: counting from the frame start would fail early.
    const streams = [
      wire([binary(bytes(40)), text('x'), binary(bytes(20))], true),
      wire([text('', { lengthEncoding: '64' }), text('ab', { lengthEncoding: '64' }), { opcode: 9 }], true),
    ];
    for (const stream of streams) {
      for (const limit of [1, 2, 3, 5, 8, 9, 13]) {
        for (const size of [1, 2, 5, 7, 13]) {
          const options = { isServer: true, maxBufferedChunks: limit };
          const expected = await runWs(split(stream, size), options);
          expect(await runOurs(split(stream, size), options)).toEqual(expected);
        }
      }
    }
  });

  it('allowSynchronousEvents: false gives the same events in the same order', async () => {
    const stream = wire([text('a'), { opcode: 9, payload: 'p' }, binary(bytes(3)), { opcode: 8, payload: closeBody(1001) }], true);
    const options = { isServer: true, allowSynchronousEvents: false };
    for (const size of [stream.length, 1, 4]) {
      const expected = await runWs(split(stream, size), options);
      expect(expected).toHaveLength(4);
      expect(await runOurs(split(stream, size), options)).toEqual(expected);
    }
  });
});
