/**
 * RFC 6455 section 5.6 (data frames): text and binary messages in, with ws's binaryType delivery; and
 * out, through the Sender's slab (small frames whole, large ones as header + payload under one cork),
 * with ws's callback semantics and no slab byte reused before the socket has written it.
 */
import { describe, expect, it } from 'vitest';
import { SlabPool } from '../../src/buffers/slab-pool';
import { BinaryType } from '../../src/protocol/constants';
import { SMALL_FRAME_MAX_BYTES, Sender, SocketLike, WriteCallback } from '../../src/protocol/sender';
import { buildFrame } from '../helpers/frames';
import { receive } from '../helpers/receiver-events';

/** The one event the chunks give, which must be a message: its data as handed over, and isBinary. */
function receiveOne(chunks: Uint8Array[], binaryType: BinaryType = 'nodebuffer'): [unknown, boolean] {
  const events = receive(chunks, { binaryType }, 'raw');
  expect(events).toHaveLength(1);
  const [name, data, isBinary] = events[0];
  expect(name).toBe('message');
  return [data, isBinary as boolean];
}

/** A socket whose writes complete only when the test says so, recording what each write held then. */
class SlowSocket implements SocketLike {
  readonly writes: { chunk: Uint8Array; bytes: Buffer; corked: boolean; callback?: WriteCallback }[] = [];
  private corks = 0;
  write(chunk: Uint8Array, callback?: WriteCallback): boolean {
    this.writes.push({ chunk, bytes: Buffer.from(chunk), corked: this.corks > 0, callback });
    return true;
  }
  cork(): void {
    this.corks++;
  }
  uncork(): void {
    this.corks--;
  }
  flush(error?: Error): void {
    for (const write of this.writes.splice(0)) write.callback?.(error);
  }
}

describe('5.6 data frames in', () => {
  const fragmented = [
    buildFrame({ opcode: 2, fin: false, payload: Uint8Array.of(1, 2) }),
    buildFrame({ opcode: 0, payload: Uint8Array.of(3) }),
  ];

  it('5.6 text is a Buffer of UTF-8 with isBinary false; binary has isBinary true', () => {
    expect(receiveOne([buildFrame({ opcode: 1, payload: 'ü' })])).toEqual([Buffer.from('ü'), false]);
    expect(receiveOne([buildFrame({ opcode: 2, payload: 'ü' })])).toEqual([Buffer.from('ü'), true]);
  });

  it("5.6 binaryType 'arraybuffer' gives an ArrayBuffer of exactly the message", () => {
    const [data] = receiveOne(fragmented, 'arraybuffer');
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(data as ArrayBuffer)]).toEqual([1, 2, 3]);
    const [single] = receiveOne([Buffer.concat([Buffer.from([9]), buildFrame({ opcode: 2, payload: Uint8Array.of(7) })]).subarray(1)], 'arraybuffer');
    expect((single as ArrayBuffer).byteLength).toBe(1);
  });

  it("5.6 binaryType 'fragments' gives one Buffer per frame", () => {
    const [data] = receiveOne(fragmented, 'fragments');
    expect((data as Buffer[]).map((part) => [...part])).toEqual([[1, 2], [3]]);
  });

  it("5.6 binaryType 'blob' gives a Blob", async () => {
    const [data] = receiveOne(fragmented, 'blob');
    expect(data).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await (data as Blob).arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('5.6 a message from several frames is a copy of its own, not a view of any chunk', () => {
    const chunks = fragmented.map((frame) => Buffer.from(frame));
    const [data] = receiveOne(chunks);
    for (const chunk of chunks) chunk.fill(0xee);
    expect([...(data as Buffer)]).toEqual([1, 2, 3]);
  });
});

describe('5.6 data frames out', () => {
  it('5.6 a small frame leaves whole in one write; a large one as header + payload under one cork', () => {
    const socket = new SlowSocket();
    const sender = new Sender(socket);
    sender.send('small', { fin: true });
    const large = Buffer.alloc(SMALL_FRAME_MAX_BYTES, 1);
    sender.send(large, { binary: true, fin: true });
    expect(socket.writes.map((write) => [write.bytes.length, write.corked])).toEqual([
      [7, false],
      [4, true],
      [SMALL_FRAME_MAX_BYTES, true],
    ]);
    expect(socket.writes[2].chunk).toBe(large);
  });

  it('5.6 a frame larger than the slabs it would be copied into leaves as header + payload', () => {
    const socket = new SlowSocket();
    const sender = new Sender(socket, undefined, undefined, { slabs: new SlabPool(256) });
    const payload = Buffer.alloc(300, 2);
    sender.send(payload, { binary: true, fin: true });
    expect(socket.writes.map((write) => write.bytes.length)).toEqual([4, 300]);
    expect(Buffer.concat(socket.writes.map((write) => write.bytes))).toEqual(
      Buffer.from(buildFrame({ opcode: 2, payload })),
    );
  });

  it("5.6 the callback runs once the socket wrote the frame, with the socket's error", () => {
    const socket = new SlowSocket();
    const sender = new Sender(socket);
    const calls: unknown[] = [];
    sender.send('a', { fin: true }, (error) => calls.push(['small', error]));
    sender.send(Buffer.alloc(5000), { fin: true }, (error) => calls.push(['large', error]));
    expect(calls).toEqual([]);
    const failure = new Error('EPIPE');
    socket.flush(failure);
    expect(calls).toEqual([
      ['small', failure],
      ['large', failure],
    ]);
  });

  it('5.6 slab bytes are not reused before the socket has flushed them', () => {
    const pool = new SlabPool(256);
    const socket = new SlowSocket();
    const sender = new Sender(socket, undefined, undefined, { slabs: pool });
    for (let i = 0; i < 100; i++) sender.send(`message ${i}`, { fin: true });
    for (const write of socket.writes) expect(Buffer.from(write.chunk)).toEqual(write.bytes);
    expect(pool.freeCount).toBe(0);
    socket.flush();
    expect(pool.freeCount).toBeGreaterThan(0);
    const recycled = pool.freeCount;
    for (let i = 0; i < 100; i++) sender.send(`again ${i}`, { fin: true });
    expect(pool.freeCount).toBeLessThan(recycled);
  });
});
