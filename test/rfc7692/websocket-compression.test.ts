/**
 * permessage-deflate end to end through simdws's own WebSocketServer and client over 127.0.0.1: what
 * the send path does with the `compress` option, the threshold and fragments (RFC 7692 section 6:
 * RSV1 on the first frame of a compressed message only), the order of frames while a deflate is in
 * flight, a close during a deflate, the server's offer policy (section 7) and a decompression bomb
 * through a real socket (RFC 6455 section 7.4.1, 1009). Frames are read off the server's socket by a
 * tap that parses headers only (RFC 6455 section 5.2).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket } from '../../src/websocket';
import { WebSocketServer } from '../../src/websocket-server';
import type { ServerOptions } from '../../src/websocket-server';
import type { ClientOptions } from '../../src/client/connect';
import type { PerMessageDeflate } from '../../src/extensions/permessage-deflate';
import { MEMORY_LEAN_DEFLATE } from '../../src/extensions/presets';
import { acceptKey } from '../../src/handshake/accept-key';

/** One frame header as it crossed the wire. */
interface TappedFrame {
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly opcode: number;
  readonly length: number;
}

/** Parses the frame headers of everything `socket` receives (RFC 6455 section 5.2); payloads are skipped. */
function tapFrames(socket: Duplex): TappedFrame[] {
  const frames: TappedFrame[] = [];
  let pending = Buffer.alloc(0);
  let skip = 0;
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, Buffer.from(chunk)]);
    for (;;) {
      if (skip > 0) {
        const dropped = Math.min(skip, pending.length);
        pending = pending.subarray(dropped);
        skip -= dropped;
        if (skip > 0) return;
      }
      if (pending.length < 2) return;
      const length7 = pending[1] & 0x7f;
      const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
      const headerLength = 2 + extended + ((pending[1] & 0x80) !== 0 ? 4 : 0);
      if (pending.length < headerLength) return;
      const length =
        length7 === 126 ? pending.readUInt16BE(2) : length7 === 127 ? Number(pending.readBigUInt64BE(2)) : length7;
      frames.push({ fin: (pending[0] & 0x80) !== 0, rsv1: (pending[0] & 0x40) !== 0, opcode: pending[0] & 0x0f, length });
      pending = pending.subarray(headerLength);
      skip = length;
    }
  });
  return frames;
}

interface Pair {
  readonly server: WebSocket;
  readonly client: WebSocket;
  /** Frames the server's socket received from the client. */
  readonly frames: TappedFrame[];
  readonly wss: WebSocketServer;
}

/** A server with ws's permessage-deflate defaults, and one with the memory-lean preset. */
const DEFLATE: ServerOptions = { perMessageDeflate: true };
const MEMORY_LEAN_DEFLATE_SERVER: ServerOptions = { perMessageDeflate: MEMORY_LEAN_DEFLATE };

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(options: ServerOptions = {}): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  cleanups.push(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

async function connect(url: string, options: ClientOptions = {}): Promise<WebSocket> {
  const client = new WebSocket(url, options);
  cleanups.push(() => client.terminate());
  await once(client, 'open');
  return client;
}

async function pair(serverOptions: ServerOptions = DEFLATE, clientOptions: ClientOptions = {}): Promise<Pair> {
  const { wss, url } = await startServer(serverOptions);
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const client = await connect(url, clientOptions);
  const [server] = await accepted;
  return { server, client, frames: tapFrames(server._socket as Duplex), wss };
}

/** The next `count` messages on `ws`, as strings. */
function messages(ws: WebSocket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const received: string[] = [];
    const onMessage = (data: Buffer): void => {
      received.push(data.toString());
      if (received.length === count) {
        ws.off('message', onMessage);
        resolve(received);
      }
    };
    ws.on('message', onMessage);
  });
}

/** Records the order of message and ping events (only their kind and length). */
function eventLog(ws: WebSocket): string[] {
  const log: string[] = [];
  ws.on('message', (data: Buffer) => log.push(`message ${data.length}`));
  ws.on('ping', (data: Buffer) => log.push(`ping ${data.toString()}`));
  return log;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** Text that deflates well: RFC 7692's point. */
function compressible(length: number): string {
  return 'the quick brown fox jumps over the lazy dog; '.repeat(Math.ceil(length / 45)).slice(0, length);
}

function dataFrames(frames: readonly TappedFrame[]): TappedFrame[] {
  return frames.filter((frame) => frame.opcode < 8);
}

describe('RFC 7692 section 5: negotiation through the handshake', () => {
  it('is on for the client by default and off for the server by default, as ws', async () => {
    const { url } = await startServer();
    const client = await connect(url);
    expect(client.extensions).toBe('');
    const { url: deflating } = await startServer(DEFLATE);
    expect((await connect(deflating)).extensions).toBe('permessage-deflate');
    expect((await connect(deflating, { perMessageDeflate: false })).extensions).toBe('');
  });

  it('both ends hold the same negotiated parameters', async () => {
    const { server, client } = await pair(MEMORY_LEAN_DEFLATE_SERVER, { perMessageDeflate: { clientMaxWindowBits: 12 } });
    const expected = {
      server_no_context_takeover: true,
      client_no_context_takeover: true,
      server_max_window_bits: 11,
      client_max_window_bits: 11,
    };
    expect((server._extensions['permessage-deflate'] as PerMessageDeflate).params).toEqual(expected);
    expect((client._extensions['permessage-deflate'] as PerMessageDeflate).params).toEqual(expected);
  });

  it('section 7: the server declines offers it cannot accept and opens the connection uncompressed (ws: 400)', async () => {
    const { url } = await startServer({ perMessageDeflate: { serverMaxWindowBits: 12 } });
    const port = new URL(url).port;
    const upgrade = (extensions: string): Promise<{ status: number; extensions: string | undefined }> =>
      new Promise((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port,
          headers: {
            Connection: 'Upgrade',
            Upgrade: 'websocket',
            'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'Sec-WebSocket-Extensions': extensions,
          },
        });
        req.on('upgrade', (res, socket: Socket) => {
          socket.destroy();
          resolve({ status: res.statusCode as number, extensions: res.headers['sec-websocket-extensions'] });
        });
        req.on('response', (res) => resolve({ status: res.statusCode as number, extensions: undefined }));
        req.on('error', reject);
        req.end();
      });
    // A smaller window than the server's own, an unknown parameter, a value out of range: declined.
    for (const offer of [
      'permessage-deflate; server_max_window_bits=10',
      'permessage-deflate; foo',
      'permessage-deflate; client_max_window_bits=7',
      'permessage-deflate; server_no_context_takeover=1',
    ]) {
      expect(await upgrade(offer)).toEqual({ status: 101, extensions: undefined });
    }
    // The first acceptable offer wins; a later one is used when an earlier one is declined.
    expect(await upgrade('permessage-deflate; foo, permessage-deflate; client_max_window_bits')).toEqual({
      status: 101,
      extensions: 'permessage-deflate; server_max_window_bits=12',
    });
    // A header that does not parse is still refused, as ws refuses it.
    expect((await upgrade('permessage-deflate; ;')).status).toBe(400);
  });

  it.each([
    ['permessage-deflate; server_max_window_bits=16', 'Invalid Sec-WebSocket-Extensions header'],
    ['permessage-deflate, x-webkit-deflate-frame', 'Server indicated an extension that was not requested'],
    ['x-webkit-deflate-frame', 'Server indicated an extension that was not requested'],
    ['permessage-deflate;;', 'Invalid Sec-WebSocket-Extensions header'],
  ])('section 7: the client fails the connection on the answer %j, with ws\'s message', async (answer, message) => {
    const server = createServer();
    server.on('upgrade', (req, socket: Duplex) => {
      socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'] as string)}\r\n` +
          `Sec-WebSocket-Extensions: ${answer}\r\n\r\n`,
      );
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [error] = (await once(client, 'error')) as [Error];
    expect(error.message).toBe(message);
    expect((await once(client, 'close'))[0]).toBe(1006);
  });
});

describe('RFC 7692 section 6: what send compresses', () => {
  it('send(data, { compress }) decides per message; RSV1 marks exactly the compressed ones', async () => {
    const { server, client, frames } = await pair();
    const received = messages(server, 4);
    client.send(compressible(3000));
    client.send(compressible(3000), { compress: false });
    client.send('short');
    client.send(Buffer.from(compressible(2000)), { compress: true, binary: true });
    expect(await received).toEqual([compressible(3000), compressible(3000), 'short', compressible(2000)]);
    expect(dataFrames(frames).map((frame) => frame.rsv1)).toEqual([true, false, true, true]);
    expect(dataFrames(frames)[0].length).toBeLessThan(300);
    expect(dataFrames(frames)[1].length).toBe(3000);
  });

  it('below the threshold a message goes uncompressed when our side keeps no context; with context every message is compressed', async () => {
    const noContext = await pair(DEFLATE, { perMessageDeflate: { clientNoContextTakeover: true, threshold: 100 } });
    const received = messages(noContext.server, 3);
    noContext.client.send(compressible(99));
    noContext.client.send(compressible(100));
    noContext.client.send(compressible(5000));
    expect(await received).toEqual([compressible(99), compressible(100), compressible(5000)]);
    expect(dataFrames(noContext.frames).map((frame) => frame.rsv1)).toEqual([false, true, true]);

    const withContext = await pair(DEFLATE, { perMessageDeflate: { threshold: 100 } });
    const small = messages(withContext.server, 1);
    withContext.client.send('tiny');
    expect(await small).toEqual(['tiny']);
    expect(dataFrames(withContext.frames).map((frame) => frame.rsv1)).toEqual([true]);
  });

  it('a fragmented compressed message has RSV1 on its first frame only; the first fragment decides for all', async () => {
    const { server, client, frames } = await pair();
    const received = messages(server, 2);
    client.send(compressible(2000), { fin: false });
    client.send(compressible(1500), { fin: false, compress: false });
    client.send(compressible(1000), { fin: true });
    client.send(compressible(1200), { fin: false, compress: false });
    client.send(compressible(1300), { fin: true, compress: true });
    expect(await received).toEqual([
      compressible(2000) + compressible(1500) + compressible(1000),
      compressible(1200) + compressible(1300),
    ]);
    expect(dataFrames(frames).map(({ fin, rsv1, opcode }) => ({ fin, rsv1, opcode }))).toEqual([
      { fin: false, rsv1: true, opcode: 1 },
      { fin: false, rsv1: false, opcode: 0 },
      { fin: true, rsv1: false, opcode: 0 },
      { fin: false, rsv1: false, opcode: 1 },
      { fin: true, rsv1: false, opcode: 0 },
    ]);
    // The continuations of the compressed message were deflated too; those of the other were not.
    expect(dataFrames(frames)[1].length).toBeLessThan(1500);
    expect(dataFrames(frames)[4].length).toBe(1300);
  });

  it('bufferedAmount counts a message while it is being deflated', async () => {
    const { server, client } = await pair();
    const received = messages(server, 1);
    client.send(compressible(200_000));
    expect(client.bufferedAmount).toBeGreaterThanOrEqual(200_000);
    await received;
    await until(() => client.bufferedAmount === 0);
  });
});

describe('frame order while a deflate is in flight (ws Sender: later sends, pings included, wait)', () => {
  it('a ping sent after a compressed message leaves after it', async () => {
    const { server, client, frames } = await pair();
    const log = eventLog(server);
    client.send(compressible(100_000));
    client.ping('after');
    client.send('small', { compress: false });
    await until(() => log.length === 3);
    expect(log).toEqual(['message 100000', 'ping after', 'message 5']);
    expect(frames.map((frame) => frame.opcode)).toEqual([1, 9, 1]);
  });

  it('a ping between the fragments of a compressed message goes between them on the wire', async () => {
    const { server, client, frames } = await pair();
    const log = eventLog(server);
    client.send(compressible(40_000), { fin: false });
    client.ping('between');
    client.send(compressible(30_000), { fin: true });
    client.pong('unsolicited');
    await until(() => log.length === 2 && frames.length === 4);
    expect(log).toEqual(['ping between', 'message 70000']);
    expect(frames.map(({ opcode, rsv1, fin }) => ({ opcode, rsv1, fin }))).toEqual([
      { opcode: 1, rsv1: true, fin: false },
      { opcode: 9, rsv1: false, fin: true },
      { opcode: 0, rsv1: false, fin: true },
      { opcode: 10, rsv1: false, fin: true },
    ]);
  });

  it('callbacks run in send order, each once its frame is written', async () => {
    const { client } = await pair();
    const order: string[] = [];
    client.send(compressible(50_000), (error) => order.push(`big ${error ?? 'ok'}`));
    client.send('a', { compress: false }, (error) => order.push(`a ${error ?? 'ok'}`));
    client.ping((error) => order.push(`ping ${error ?? 'ok'}`));
    client.send(compressible(2000), (error) => order.push(`b ${error ?? 'ok'}`));
    await until(() => order.length === 4);
    expect(order).toEqual(['big ok', 'a ok', 'ping ok', 'b ok']);
  });

  it('close() during a deflate sends the message, then the close frame', async () => {
    const { server, client } = await pair();
    const log = eventLog(server);
    let written = 'pending';
    client.send(compressible(100_000), (error) => (written = error ? error.message : 'written'));
    client.close(1000, 'done');
    const clientClosed = once(client, 'close');
    const [code, reason] = (await once(server, 'close')) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1000, 'done']);
    expect(log).toEqual(['message 100000']);
    await clientClosed;
    expect(written).toBe('written');
  });

  it("the socket closing during a deflate gives that send and every queued one ws's error, in CLOSING", async () => {
    const { client } = await pair();
    const results: [string, string | undefined, number][] = [];
    const record = (name: string) => (error?: Error) => results.push([name, error?.message, client.readyState]);
    client.send(compressible(100_000), record('first'));
    client.send('queued', record('second'));
    client.ping('queued', record('ping'));
    client.terminate();
    await once(client, 'close');
    const message = 'The socket was closed while data was being compressed';
    expect(results).toEqual([
      ['first', message, WebSocket.CLOSING],
      ['second', message, WebSocket.CLOSING],
      ['ping', message, WebSocket.CLOSING],
    ]);
  });

  it('a deflate that fails ends the connection: its callbacks and the error event get the error', async () => {
    const { client, server } = await pair();
    const deflate = client._extensions['permessage-deflate'] as PerMessageDeflate;
    const failure = new Error('zlib failed');
    deflate.compress = (_data, _fin, callback) => process.nextTick(callback, failure);
    const results: (string | undefined)[] = [];
    client.on('error', (error: Error) => results.push(`error event: ${error.message}`));
    client.send(compressible(5000), (error) => results.push(error?.message));
    client.send('queued', { compress: false }, (error) => results.push(error?.message));
    await once(server, 'close');
    expect(results).toEqual(['zlib failed', 'zlib failed', 'error event: zlib failed']);
  });
});

describe('receiving compressed messages (RFC 7692 section 7.2.2)', () => {
  it('messages are delivered in order when a slow inflate is followed by a small one', async () => {
    const { server, client } = await pair();
    const received = messages(server, 3);
    client.send(compressible(8 * 1024 * 1024));
    client.send('small');
    client.send('smaller', { compress: false });
    const [big, small, smaller] = await received;
    expect(big === compressible(8 * 1024 * 1024)).toBe(true);
    expect([small, smaller]).toEqual(['small', 'smaller']);
  });

  it('the server compresses too, and the client inflates, with every window size the preset allows', async () => {
    const { server, client, frames } = await pair(MEMORY_LEAN_DEFLATE_SERVER);
    const received = messages(client, 3);
    for (const length of [5000, 20_000, 1_000_000]) server.send(compressible(length));
    expect(await received).toEqual([compressible(5000), compressible(20_000), compressible(1_000_000)]);
    const echoed = messages(server, 1);
    client.send(compressible(1_000_000));
    expect(await echoed).toEqual([compressible(1_000_000)]);
    expect(dataFrames(frames)[0].rsv1).toBe(true);
    expect((server._socket as Socket).bytesWritten).toBeLessThan(200_000);
  });
});

describe('a decompression bomb through a real socket (RFC 6455 section 7.4.1: 1009)', () => {
  it.each([
    ['one frame', 1],
    ['fragments that are each small on the wire', 8],
  ])('%s: the server closes with 1009 once the inflated bytes pass maxPayload; others connections go on', async (_name, fragments) => {
    const maxPayload = 64 * 1024;
    const { wss, url } = await startServer({ perMessageDeflate: true, maxPayload });
    const bystanderAccepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const bystander = await connect(url);
    const [bystanderServer] = await bystanderAccepted;
    bystanderServer.on('message', (data: Buffer) => bystanderServer.send(data));

    const attackerAccepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const attacker = await connect(url);
    const [attackerServer] = await attackerAccepted;
    const frames = tapFrames(attackerServer._socket as Duplex);
    const serverErrors: { code?: string; message: string }[] = [];
    attackerServer.on('error', (error: Error & { code?: string }) => serverErrors.push({ code: error.code, message: error.message }));
    const serverMessages: number[] = [];
    attackerServer.on('message', (data: Buffer) => serverMessages.push(data.length));

    // 32 MiB of zeros deflate to about 32 KiB: every frame is far below maxPayload on the wire.
    const zeros = Buffer.alloc((32 * 1024 * 1024) / fragments);
    for (let i = 0; i < fragments; i++) attacker.send(zeros, { fin: i === fragments - 1 });
    const [code] = (await once(attacker, 'close')) as [number];

    expect(code).toBe(1009);
    expect(serverMessages).toEqual([]);
    expect(serverErrors).toEqual([{ code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', message: 'Max payload size exceeded' }]);
    for (const frame of dataFrames(frames)) expect(frame.length).toBeLessThan(maxPayload);

    const echo = messages(bystander, 1);
    bystander.send(compressible(10_000));
    expect(await echo).toEqual([compressible(10_000)]);
    expect(bystander.readyState).toBe(WebSocket.OPEN);
  }, 60_000);
});
