/**
 * The Sender's backlog (src/buffers/backlog.ts): while the socket is behind, small frames are copied
 * into the connection's own chunks and a tick's worth leaves in one write, byte for byte what
 * separate writes would have sent, and in the order they were sent (RFC 6455 section 5: frames back
 * to back), also around large frames, frames sent once the socket caught up, and callbacks.
 */
import { describe, expect, it } from 'vitest';
import { Sender, SocketLike, WriteCallback } from '../../src/protocol/sender';
import { SlabPool } from '../../src/buffers/slab-pool';

/** A socket whose `writing` flag says whether it is behind; it keeps what it is given. */
class BehindSocket implements SocketLike {
  readonly _writableState = { writing: true };
  writableEnded = false;
  /** What each write handed over, as given (a view of the backlog's chunk, or a Buffer of its own). */
  readonly writes: Buffer[] = [];
  readonly callbacks: (WriteCallback | undefined)[] = [];
  write(chunk: Uint8Array, callback?: WriteCallback): boolean {
    this.writes.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.callbacks.push(callback);
    return false;
  }
  cork(): void {}
  uncork(): void {}
  completeAll(error?: Error): void {
    for (const callback of this.callbacks.splice(0)) callback?.(error);
  }
  get bytes(): Buffer {
    return Buffer.concat(this.writes);
  }
}

/** A socket that is never behind: each frame as it would leave on its own. */
class PlainSocket extends BehindSocket {
  override readonly _writableState = { writing: false };
}

function senderOn(socket: SocketLike): Sender {
  return new Sender(socket, undefined, undefined, { slabs: new SlabPool() });
}

function framesOf(send: (sender: Sender) => void): Buffer {
  const socket = new PlainSocket();
  send(senderOn(socket));
  return socket.bytes;
}

const tickEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const TEXT = { binary: false, fin: true };

describe('Sender backlog, while the socket is behind', () => {
  it('holds small frames until the end of the tick, then writes them in one write, byte for byte', async () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    const sendAll = (target: Sender): void => {
      target.send('one', TEXT);
      target.send(Buffer.alloc(300, 7), { binary: true, fin: true });
      target.ping('?');
    };
    sendAll(sender);
    expect(socket.writes).toHaveLength(0);
    expect(sender.heldBytes).toBe(framesOf(sendAll).length);
    await tickEnd();
    expect(socket.writes).toHaveLength(1);
    expect(socket.bytes).toEqual(framesOf(sendAll));
    expect(sender.heldBytes).toBe(0);
  });

  it('keeps call order: frames sent after the socket caught up, and a large frame, leave after the held ones', async () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    const large = Buffer.alloc(20_000, 9);
    const sendAll = (target: Sender, catchUp: () => void): void => {
      target.send('held', TEXT);
      catchUp();
      // The socket is no longer behind, but a frame written now would overtake the held one.
      target.send('after', TEXT);
      target.send(large, { binary: true, fin: true });
      target.send('last', TEXT);
    };
    sendAll(sender, () => (socket._writableState.writing = false));
    await tickEnd();
    expect(socket.bytes).toEqual(framesOf((target) => sendAll(target, () => {})));
  });

  it('fills each chunk to its end and continues a frame in the next chunk', async () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    // 60 frames of 102 bytes: more than the first two chunks (1 KiB, 2 KiB) hold.
    const sendAll = (target: Sender): void => {
      for (let i = 0; i < 60; i++) target.send(Buffer.alloc(100, i), { binary: true, fin: true });
    };
    sendAll(sender);
    await tickEnd();
    expect(socket.writes.map((write) => write.length)).toEqual([1024, 2048, 60 * 102 - 3072]);
    expect(socket.writes.map((write) => write.buffer.byteLength)).toEqual([1024, 2048, 4096]);
    expect(socket.bytes).toEqual(framesOf(sendAll));
  });

  it('lets its chunk go once everything is written: the next time the socket is behind starts small again', async () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    for (let i = 0; i < 20; i++) sender.send(Buffer.alloc(100), { binary: true, fin: true });
    await tickEnd();
    const chunks = new Set(socket.writes.map((write) => write.buffer));
    socket.completeAll();
    sender.send('again', TEXT);
    await tickEnd();
    const last = socket.writes[socket.writes.length - 1];
    expect(chunks.has(last.buffer)).toBe(false);
    expect(last.buffer.byteLength).toBe(1024);
  });

  it('runs each callback once the write holding the end of its frame is done, in order, with its error', async () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    const calls: string[] = [];
    sender.send('a', TEXT, (error) => calls.push(`a:${error?.message}`));
    sender.send('b', TEXT);
    sender.send('c', TEXT, (error) => calls.push(`c:${error?.message}`));
    await tickEnd();
    expect(calls).toEqual([]);
    socket.completeAll(new Error('reset'));
    expect(calls).toEqual(['a:reset', 'c:reset']);
  });

  it('a socket ended before the tick ends gets no write; the held frames callbacks get an error', async () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    let got: Error | undefined;
    sender.send('late', TEXT, (error) => (got = error));
    socket.writableEnded = true;
    await tickEnd();
    await new Promise((resolve) => process.nextTick(resolve));
    expect(socket.writes).toHaveLength(0);
    expect(got?.message).toBe('write after end');
  });

  it('flushBatch writes the held frames at once (what every other writer of the socket calls first)', () => {
    const socket = new BehindSocket();
    const sender = senderOn(socket);
    sender.send('x', TEXT);
    sender.flushBatch(undefined);
    expect(socket.bytes).toEqual(framesOf((target) => target.send('x', TEXT)));
  });
});
