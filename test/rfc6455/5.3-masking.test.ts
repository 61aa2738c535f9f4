/**
 * RFC 6455 section 5.3 (client-to-server masking) and 5.1 (who masks): the Sender masks client frames
 * with unpredictable keys and never touches the caller's bytes; the Receiver insists on the right MASK
 * bit for its role.
 */
import { describe, expect, it } from 'vitest';
import { MaskKeyPool } from '../../src/buffers/mask-key-pool';
import { SlabPool } from '../../src/buffers/slab-pool';
import { Sender, SMALL_FRAME_MAX_BYTES, SocketLike, WriteCallback } from '../../src/protocol/sender';
import { buildFrame } from '../helpers/frames';
import { receive } from '../helpers/receiver-events';

/** Collects what a Sender writes, as one byte stream. */
class Sink implements SocketLike {
  readonly writes: Buffer[] = [];
  write(chunk: Uint8Array, callback?: WriteCallback): boolean {
    this.writes.push(Buffer.from(chunk));
    callback?.();
    return true;
  }
  cork(): void {}
  uncork(): void {}
  get bytes(): Buffer {
    return Buffer.concat(this.writes);
  }
}

/** Parses a stream with a server-side Receiver: it unmasks, so this checks what a peer would read. */
const serverReads = (stream: Buffer) => receive(stream, { isServer: true }, 'hex');
const hex = (text: string) => Buffer.from(text).toString('hex');

const fixedKey = (key: number[]) => (mask: Buffer) => mask.set(key);

describe('5.3 client-to-server masking', () => {
  for (const length of [0, 5, 100, SMALL_FRAME_MAX_BYTES, 70_000]) {
    it(`5.3 a masked ${length}-byte Buffer is XORed with the key and the caller's bytes stay as they were`, () => {
      const sink = new Sink();
      const sender = new Sender(sink, undefined, fixedKey([0x37, 0xfa, 0x21, 0x3d]));
      const data = Buffer.from(Array.from({ length }, (_, i) => (i * 13) & 0xff));
      const copy = Buffer.from(data);
      sender.send(data, { binary: true, fin: true, mask: true });
      expect(data).toEqual(copy);
      expect(sink.bytes).toEqual(Buffer.from(buildFrame({ opcode: 2, payload: copy, mask: [0x37, 0xfa, 0x21, 0x3d] })));
    });
  }

  for (const text of ['Hello', 'é'.repeat(40_000)]) {
    it(`5.3 a masked ${Buffer.byteLength(text)}-byte string reads back the same`, () => {
      const sink = new Sink();
      new Sender(sink).send(text, { fin: true, mask: true });
      expect(sink.bytes[1] & 0x80).toBe(0x80);
      expect(serverReads(sink.bytes)).toEqual([['message', hex(text), false]]);
    });
  }

  it('5.3 control frames from a client are masked too', () => {
    const sink = new Sink();
    const sender = new Sender(sink);
    sender.ping('p', true);
    sender.pong(Buffer.from('q'), true);
    sender.close(1000, 'bye', true);
    expect(serverReads(sink.bytes)).toEqual([
      ['ping', hex('p')],
      ['pong', hex('q')],
      ['close', 1000, hex('bye')],
    ]);
  });

  it('5.3 every frame gets a fresh key from the crypto pool', () => {
    const sink = new Sink();
    const sender = new Sender(sink);
    for (let i = 0; i < 64; i++) sender.send('x', { fin: true, mask: true });
    const keys = new Set(sink.writes.map((frame) => frame.subarray(2, 6).toString('hex')));
    expect(keys.size).toBeGreaterThan(60);
  });

  it('5.3 the key pool refills when used up and its keys differ across fills', () => {
    const pool = new MaskKeyPool(8);
    const keys: string[] = [];
    const key = Buffer.alloc(4);
    for (let i = 0; i < 6; i++) {
      pool.take(key, 0);
      keys.push(key.toString('hex'));
    }
    expect(new Set(keys).size).toBe(6);
    expect(() => new MaskKeyPool(6)).toThrow(RangeError);
  });

  it('5.3 with the key from the pool, the server unmasks what the client masked (frames near the size threshold)', () => {
    for (const length of [SMALL_FRAME_MAX_BYTES - 8, SMALL_FRAME_MAX_BYTES - 2, SMALL_FRAME_MAX_BYTES + 1]) {
      const sink = new Sink();
      const data = Buffer.alloc(length, 0x5a);
      new Sender(sink, undefined, undefined, { slabs: new SlabPool(2 * SMALL_FRAME_MAX_BYTES) }).send(data, { binary: true, fin: true, mask: true });
      expect(serverReads(sink.bytes)).toEqual([['message', data.toString('hex'), true]]);
    }
  });
});

describe('5.1 the MASK bit for each role', () => {
  it('5.1 a server fails on an unmasked frame -> 1002 WS_ERR_EXPECTED_MASK', () => {
    expect(serverReads(Buffer.from(buildFrame({ opcode: 1, payload: 'x' })))).toEqual([
      ['error', 'RangeError', 'WS_ERR_EXPECTED_MASK', 'Invalid WebSocket frame: MASK must be set', 1002],
    ]);
  });

  it('5.1 a client fails on a masked frame -> 1002 WS_ERR_UNEXPECTED_MASK', () => {
    expect(receive(buildFrame({ opcode: 1, payload: 'x', mask: true }))).toEqual([
      ['error', 'RangeError', 'WS_ERR_UNEXPECTED_MASK', 'Invalid WebSocket frame: MASK must be clear', 1002],
    ]);
  });

  it('5.1 a server never masks what it sends', () => {
    const sink = new Sink();
    new Sender(sink).send('hi', { fin: true });
    expect(sink.bytes).toEqual(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  });
});
