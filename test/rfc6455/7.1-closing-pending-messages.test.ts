/**
 * RFC 6455 section 7.1.4 ("The WebSocket Connection Is Closed"), as ws implements it: a message that
 * arrived before the connection closed is delivered before 'close', even when its event was deferred
 * (allowSynchronousEvents false) or it was still being inflated (RFC 7692). The Receiver reports when
 * everything it owes has been delivered (Receiver#end); the WebSocket emits 'close' only then.
 *
 * The sockets close right after the bytes arrive (a 'data' listener behind the WebSocket's destroys
 * them), so 'close' comes before the macrotask a deferred event waits for: the case ws handles with
 * its Receiver's 'finish'.
 */
import { createRequire } from 'module';
import { EventEmitter } from 'events';
import { dirname, join } from 'path';
import { Duplex } from 'stream';
import { constants, deflateRawSync } from 'zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { PerMessageDeflate } from '../../src/extensions/permessage-deflate';
import { BinaryData, MessageInflater, Receiver } from '../../src/protocol/receiver';
import { ReceiverStream } from '../../src/protocol/receiver-stream';
import { createWsError } from '../../src/protocol/errors';
import { WebSocket } from '../../src/websocket';
import { FrameSpec, buildFrame, buildFrames } from '../helpers/frames';
import { ReceiverEvents } from '../helpers/receiver-events';
import { HandServer, Ws, once, startHandServer } from '../api/harness';

const require = createRequire(__filename);
// ws's package exports hide lib/, so its Receiver is loaded by path.
const WsReceiver = require(join(dirname(require.resolve('ws')), 'lib', 'receiver.js')) as new (options: object) => NodeJS.WritableStream & EventEmitter;

/** RFC 7692 section 7.2.1: a sync-flushed deflate stream without its trailing 00 00 FF FF. */
const deflate = (text: string) => deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);

/** An inflater that answers only when the test says so: the slowest inflate there can be. */
class HeldInflater implements MessageInflater {
  private readonly held: (() => void)[] = [];

  decompress(data: Buffer, _fin: boolean, callback: (error: Error | null, result?: Buffer) => void): void {
    // The test's frames carry their text uncompressed: only the timing of the answer matters here.
    this.held.push(() => callback(null, data));
  }

  get waiting(): number {
    return this.held.length;
  }

  release(): void {
    for (const answer of this.held.splice(0)) answer();
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('7.1 Receiver#end: told when every pending event has been delivered', () => {
  it('7.1 with nothing pending, the callback runs at once', () => {
    const recorder = new ReceiverEvents();
    const receiver = new Receiver(recorder);
    receiver.push(Buffer.from(buildFrame({ opcode: 1, payload: 'now' })));
    let ended = false;
    receiver.end(() => {
      ended = true;
    });
    expect([recorder.names, ended]).toEqual([['message'], true]);
  });

  it('7.1 with allowSynchronousEvents false, the callback waits for every deferred event', async () => {
    const recorder = new ReceiverEvents();
    const receiver = new Receiver(recorder, { allowSynchronousEvents: false });
    receiver.push(Buffer.from(buildFrames([{ opcode: 1, payload: 'a' }, { opcode: 9 }])));
    receiver.push(Buffer.from(buildFrame({ opcode: 2, payload: 'b' })));
    const ended = new Promise<string[]>((resolve) => receiver.end(() => resolve(recorder.names)));
    expect(recorder.names).toEqual([]);
    expect(await ended).toEqual(['message', 'ping', 'message']);
  });

  it('7.1 a chunk pushed after end() is not read', async () => {
    const recorder = new ReceiverEvents();
    const receiver = new Receiver(recorder, { allowSynchronousEvents: false });
    receiver.push(Buffer.from(buildFrame({ opcode: 1, payload: 'before' })));
    const ended = new Promise<void>((resolve) => receiver.end(resolve));
    receiver.push(Buffer.from(buildFrame({ opcode: 1, payload: 'after' })));
    await ended;
    expect(recorder.events).toEqual([['message', 'before', false]]);
  });

  it('7.1 called from a handler, the callback waits for the rest of the walk', () => {
    const recorder = new (class extends ReceiverEvents {
      override onMessage(data: Buffer | BinaryData, isBinary: boolean): void {
        super.onMessage(data, isBinary);
        if (this.events.length === 1) receiver.end(() => this.events.push(['end']));
      }
    })();
    const receiver = new Receiver(recorder);
    receiver.push(Buffer.from(buildFrames([{ opcode: 1, payload: 'a' }, { opcode: 1, payload: 'b' }])));
    expect(recorder.names).toEqual(['message', 'message', 'end']);
  });

  it('7.1 (RFC 7692) the callback waits for an inflate in progress', async () => {
    const inflater = new HeldInflater();
    const recorder = new ReceiverEvents();
    const receiver = new Receiver(recorder, { perMessageDeflate: inflater });
    receiver.push(Buffer.from(buildFrames([{ opcode: 1, rsv1: true, payload: 'inflated' }, { opcode: 9, payload: 'then' }])));
    let ended = false;
    receiver.end(() => {
      ended = true;
    });
    await turn();
    expect([inflater.waiting, ended]).toEqual([1, false]);
    inflater.release();
    expect(ended).toBe(true);
    expect(recorder.events).toEqual([
      ['message', 'inflated', false],
      ['ping', 'then'],
    ]);
  });

  it('7.1 (RFC 7692) when that inflate fails, the callback runs after onError', async () => {
    const recorder = new ReceiverEvents();
    const failing: MessageInflater = {
      decompress: (_data, _fin, callback) =>
        setImmediate(() => callback(createWsError('WS_ERR_INVALID_UTF8', 'invalid UTF-8 sequence'))),
    };
    const receiver = new Receiver(recorder, { perMessageDeflate: failing });
    receiver.push(Buffer.from(buildFrame({ opcode: 1, rsv1: true, payload: 'x' })));
    await new Promise<void>((resolve) => receiver.end(resolve));
    expect(recorder.names).toEqual(['error']);
  });

  it("7.1 the public Receiver emits 'finish' after its deferred events, as ws's does", async () => {
    const stream = Buffer.from(buildFrames([{ opcode: 1, payload: 'a' }, { opcode: 10 }, { opcode: 2, payload: 'b' }]));
    const run = async (receiver: NodeJS.WritableStream & EventEmitter): Promise<string[]> => {
      const names: string[] = [];
      for (const name of ['message', 'pong', 'finish']) receiver.on(name, () => names.push(name));
      receiver.end(Buffer.from(stream));
      await once(receiver, 'finish');
      return names;
    };
    const expected = await run(new WsReceiver({ allowSynchronousEvents: false }));
    expect(expected).toEqual(['message', 'pong', 'message', 'finish']);
    expect(await run(new ReceiverStream({ allowSynchronousEvents: false }))).toEqual(expected);
  });
});

/** A stand-in for an upgraded socket: bytes pushed in are read by the WebSocket; writes are dropped. */
function fakeSocket(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/**
 * A server-side WebSocket on `socket` (allowSynchronousEvents false), recording its events, and
 * 'close' as a promise. The socket dies right after its first chunk.
 */
function serverOn(socket: Duplex, extensions: Record<string, unknown> = {}): { events: unknown[][]; closed: Promise<unknown> } {
  const ws = new WebSocket(null, undefined, {});
  ws._extensions = extensions;
  ws.setSocket(socket, Buffer.alloc(0), { allowSynchronousEvents: false });
  const events: unknown[][] = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => events.push(['message', data.toString(), isBinary]));
  ws.on('close', (code: number, reason: Buffer) => events.push(['close', code, reason.toString()]));
  socket.once('data', () => socket.destroy());
  return { events, closed: once(ws, 'close') };
}

const masked = (specs: FrameSpec[]) => Buffer.from(buildFrames(specs.map((spec) => ({ mask: true, ...spec }))));
const closeBody = (code: number, reason: string) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

describe("7.1 the WebSocket emits 'close' after the messages that arrived before it", () => {
  it('7.1 a message sent right before the close frame, with allowSynchronousEvents false', async () => {
    const socket = fakeSocket();
    const { events, closed } = serverOn(socket);
    socket.push(masked([{ opcode: 1, payload: 'last words' }, { opcode: 8, payload: closeBody(1000, 'bye') }]));
    await once(socket, 'close');
    // The socket is gone and the message still waits for its macrotask: the case under test.
    expect(events).toEqual([]);
    await closed;
    expect(events).toEqual([
      ['message', 'last words', false],
      ['close', 1000, 'bye'],
    ]);
  });

  it('7.1.5 a message that arrived just before the connection dropped, without a close frame: then 1006', async () => {
    const socket = fakeSocket();
    const { events, closed } = serverOn(socket);
    socket.push(masked([{ opcode: 2, payload: 'orphan' }]));
    await closed;
    expect(events).toEqual([
      ['message', 'orphan', true],
      ['close', 1006, ''],
    ]);
  });

  it('7.1 (RFC 7692) a message still being inflated when the socket closes', async () => {
    const inflater = new HeldInflater();
    const socket = fakeSocket();
    const { events, closed } = serverOn(socket, { 'permessage-deflate': inflater });
    socket.push(masked([{ opcode: 1, rsv1: true, payload: 'slow' }, { opcode: 8, payload: closeBody(4000, 'done') }]));
    await once(socket, 'close');
    for (let i = 0; i < 3; i++) await turn();
    expect([events, inflater.waiting]).toEqual([[], 1]);
    inflater.release();
    await closed;
    expect(events).toEqual([
      ['message', 'slow', false],
      ['close', 4000, 'done'],
    ]);
  });

  it('7.1 (RFC 7692) with zlib inflating, as the negotiated extension does', async () => {
    const extension = new PerMessageDeflate({}, true);
    extension.accept([{}]);
    const socket = fakeSocket();
    const { events, closed } = serverOn(socket, { 'permessage-deflate': extension });
    socket.push(masked([{ opcode: 1, rsv1: true, payload: deflate('compressed last words') }, { opcode: 8 }]));
    await closed;
    expect(events).toEqual([
      ['message', 'compressed last words', false],
      ['close', 1005, ''],
    ]);
  });
});

describe('7.1 over 127.0.0.1, with ws as the client', () => {
  let server: HandServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it("7.1 the client's last messages, then its close frame: all arrive, in that order", async () => {
    server = await startHandServer({ allowSynchronousEvents: false });
    const peer = new Ws.WebSocket(server.url);
    const ours = await server.next();
    const socket = ours._socket as Duplex;
    const events: unknown[][] = [];
    ours.on('message', (data: Buffer) => events.push(['message', data.toString()]));
    const closed = once<[number]>(ours, 'close');
    await once(peer, 'open');
    // A net.Socket emits 'close' in the loop's close phase, after one deferred event's setImmediate but
    // before the next ones: several messages are needed for the socket to close while some still wait.
    const messages = ['one', 'two', 'three'];
    // Masked frames from the client: 6 header bytes and the payload each, and 8 for the close frame.
    const total = messages.reduce((sum, text) => sum + 6 + text.length, 0) + 8;
    // Behind the WebSocket's own 'data' listener: the socket goes once every frame is in the Receiver.
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received === total) socket.destroy();
    });
    for (const text of messages) peer.send(text);
    peer.close(1000);
    const [code] = await closed;
    events.push(['close', code]);
    expect(events).toEqual([...messages.map((text) => ['message', text]), ['close', 1000]]);
  });
});
