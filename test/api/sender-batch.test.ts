/**
 * Gathering the replies to one inbound chunk (src/protocol/sender.ts startBatch/endBatch): the small
 * frames a chunk calls for leave in one socket write, byte for byte what separate writes would have
 * sent, and in the order they were sent (RFC 6455 section 5.4: frames are not reordered), also
 * around large frames, write callbacks and publishes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Sender, SocketLike, WriteCallback } from '../../src/protocol/sender';
import { SlabPool } from '../../src/buffers/slab-pool';
import { buildFrames, OPCODE } from '../helpers/frames';
import { Harness, afterTick, logWrites, socketOf, startServer } from '../pubsub/peers';

/** A socket that keeps what it is given and runs write callbacks when told. */
class RecordingSocket implements SocketLike {
  readonly writes: Buffer[] = [];
  readonly callbacks: (WriteCallback | undefined)[] = [];
  write(chunk: Uint8Array, callback?: WriteCallback): boolean {
    // A copy: the Sender's slab may be reused once the callback ran.
    this.writes.push(Buffer.from(chunk));
    this.callbacks.push(callback);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  completeAll(): void {
    for (const callback of this.callbacks.splice(0)) callback?.();
  }
}

function sender(socket: RecordingSocket): Sender {
  return new Sender(socket, undefined, undefined, { slabs: new SlabPool() });
}

/** The bytes the frames make when each is written on its own. */
function unbatched(send: (s: Sender) => void): Buffer {
  const socket = new RecordingSocket();
  send(sender(socket));
  return Buffer.concat(socket.writes);
}

const OPTIONS = { binary: false, fin: true };

describe('Sender batch', () => {
  it('gathers small frames into one write with the same bytes', () => {
    const socket = new RecordingSocket();
    const s = sender(socket);
    const sendAll = (target: Sender): void => {
      target.send('one', OPTIONS);
      target.send(Buffer.from([1, 2, 3]), { binary: true, fin: true });
      target.pong('pong');
    };
    s.startBatch();
    sendAll(s);
    expect(socket.writes).toHaveLength(0);
    s.endBatch();
    expect(socket.writes).toHaveLength(1);
    expect(socket.writes[0]).toEqual(unbatched(sendAll));
  });

  it('a send with a callback takes the gathered frames with it; the callback runs when that write is done', () => {
    const socket = new RecordingSocket();
    const s = sender(socket);
    let called = 0;
    s.startBatch();
    s.send('a', OPTIONS);
    s.send('b', OPTIONS, () => called++);
    s.send('c', OPTIONS);
    expect(socket.writes).toHaveLength(1);
    expect(called).toBe(0);
    socket.completeAll();
    expect(called).toBe(1);
    s.endBatch();
    expect(socket.writes).toHaveLength(2);
    expect(Buffer.concat(socket.writes)).toEqual(
      unbatched((t) => ['a', 'b', 'c'].forEach((text) => t.send(text, OPTIONS))),
    );
  });

  it('a large frame leaves after the frames gathered before it', () => {
    const socket = new RecordingSocket();
    const s = sender(socket);
    const large = Buffer.alloc(16 * 1024, 7);
    const sendAll = (target: Sender): void => {
      target.send('before', OPTIONS);
      target.send(large, { binary: true, fin: true });
      target.send('after', OPTIONS);
    };
    s.startBatch();
    sendAll(s);
    s.endBatch();
    expect(Buffer.concat(socket.writes)).toEqual(unbatched(sendAll));
    // before | header | payload | after
    expect(socket.writes).toHaveLength(4);
  });

  it('outside a batch every frame is its own write', () => {
    const socket = new RecordingSocket();
    const s = sender(socket);
    s.send('a', OPTIONS);
    s.send('b', OPTIONS);
    expect(socket.writes).toHaveLength(2);
  });
});

describe('WebSocket: the replies to one chunk', () => {
  let harness: Harness | null = null;
  afterEach(async () => {
    await harness?.close();
    harness = null;
  });

  it('echoes of N messages in one chunk leave in one socket write, in order', async () => {
    harness = await startServer();
    const a = await harness.connect();
    await afterTick();
    a.server.on('message', (data: Buffer, isBinary: boolean) => a.server.send(data, { binary: isBinary }));
    const log = logWrites(socketOf(a.server));
    const count = 20;
    const texts = Array.from({ length: count }, (_, i) => `message ${i}`);
    const frames = buildFrames(texts.map((payload) => ({ opcode: OPCODE.TEXT, mask: true, payload })));
    (a.client as unknown as { _socket: import('net').Socket })._socket.write(frames);
    await a.until(count);
    expect(a.received).toEqual(texts);
    expect(log.chunks).toHaveLength(1);
  });

  it('a send, then subscribe and publish in the same handler: the publish comes second', async () => {
    harness = await startServer();
    const a = await harness.connect();
    await afterTick();
    const wss = harness.wss;
    a.server.on('message', () => {
      a.server.send('direct');
      a.server.subscribe('topic');
      wss.publish('topic', 'published');
      a.server.send('direct again');
    });
    a.client.send('go');
    await a.until(3);
    expect(a.received).toEqual(['direct', 'published', 'direct again']);
  });

  it('bufferedAmount counts the frames gathered so far', async () => {
    harness = await startServer();
    const a = await harness.connect();
    await afterTick();
    let seen = -1;
    a.server.on('message', () => {
      a.server.send('x'.repeat(100));
      seen = a.server.bufferedAmount;
    });
    a.client.send('go');
    await a.until(1);
    expect(seen).toBeGreaterThanOrEqual(102);
  });
});
