/**
 * The WebSocket class against ws 8.23's documented behaviour (ws/doc/ws.md), in the server role (a
 * hand-made server calling setSocket, with ws's client from npm on the other end) and the client role.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { HandServer, Ws, once, record, startHandServer } from './harness';

let server: HandServer | null = null;
afterEach(async () => {
  if (server !== null) await server.close();
  server = null;
});

async function pair(options = {}): Promise<{ ours: WebSocket; peer: InstanceType<typeof Ws.WebSocket> }> {
  server = await startHandServer(options);
  const peer = new Ws.WebSocket(server.url);
  const ours = await server.next();
  await once(peer, 'open');
  return { ours, peer };
}

describe('WebSocket: constants and attributes', () => {
  it('has ws readyState constants on the class and the instances', () => {
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(Object.keys(WebSocket)).toEqual(expect.arrayContaining(['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']));
    const ws = new WebSocket(null);
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.binaryType).toBe('nodebuffer');
    expect(ws.protocol).toBe('');
    expect(ws.extensions).toBe('');
    expect(ws.bufferedAmount).toBe(0);
    expect(ws.isPaused).toBe(false);
  });

  it('ignores an unknown binaryType, as ws', () => {
    const ws = new WebSocket(null);
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'nope' as never;
    expect(ws.binaryType).toBe('arraybuffer');
  });

  it('throws on send, ping and pong while CONNECTING', () => {
    const ws = new WebSocket(null);
    const message = 'WebSocket is not open: readyState 0 (CONNECTING)';
    expect(() => ws.send('x')).toThrow(message);
    expect(() => ws.ping()).toThrow(message);
    expect(() => ws.pong()).toThrow(message);
  });
});

describe('WebSocket: server role with the ws client', () => {
  it('opens, reports the subprotocol, and exchanges every data type', async () => {
    server = await startHandServer({ protocol: 'chat' });
    const peer = new Ws.WebSocket(server.url, ['chat']);
    const ours = await server.next();
    expect(ours.readyState).toBe(WebSocket.OPEN);
    expect(ours.protocol).toBe('chat');
    await once(peer, 'open');
    const got: [string, boolean][] = [];
    peer.on('message', (data: Buffer, isBinary: boolean) => got.push([data.toString('hex'), isBinary]));
    ours.send('hé');
    ours.send(Buffer.from([1, 2]));
    ours.send(new Uint16Array([0x0403]));
    ours.send(new DataView(new Uint8Array([5, 6]).buffer));
    ours.send(new Uint8Array([7, 8]).buffer);
    ours.send(42);
    ours.send(undefined);
    ours.send('');
    await new Promise<void>((resolve) => ours.send(new Blob([Buffer.from([9])]), () => resolve()));
    while (got.length < 9) await once(peer, 'message');
    expect(got).toEqual([
      [Buffer.from('hé').toString('hex'), false],
      ['0102', true],
      ['0304', true],
      ['0506', true],
      ['0708', true],
      [Buffer.from('42').toString('hex'), false],
      ['', true],
      ['', false],
      ['09', true],
    ]);
    peer.terminate();
  });

  it('delivers each binaryType as ws does, and text as a Buffer with isBinary false', async () => {
    const { ours, peer } = await pair();
    const seen: unknown[] = [];
    ours.on('message', (data: unknown, isBinary: boolean) => seen.push([data, isBinary]));
    const next = () => once(ours, 'message');
    ours.binaryType = 'arraybuffer';
    peer.send(Buffer.from([1, 2, 3]));
    await next();
    ours.binaryType = 'fragments';
    peer.send(Buffer.from([4]), { fin: false });
    peer.send(Buffer.from([5]), { fin: true });
    await next();
    ours.binaryType = 'blob';
    peer.send(Buffer.from([6]));
    await next();
    peer.send('text');
    await next();
    const [ab, frags, blob, text] = seen as [unknown, boolean][];
    expect(ab[0]).toBeInstanceOf(ArrayBuffer);
    expect(Buffer.from(ab[0] as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
    expect(Array.isArray(frags[0])).toBe(true);
    expect(Buffer.concat(frags[0] as Buffer[])).toEqual(Buffer.from([4, 5]));
    expect(blob[0]).toBeInstanceOf(Blob);
    expect(Buffer.from(await (blob[0] as Blob).arrayBuffer())).toEqual(Buffer.from([6]));
    expect(Buffer.isBuffer(text[0])).toBe(true);
    expect(text).toEqual([Buffer.from('text'), false]);
    peer.terminate();
  });

  it('answers pings automatically and emits ping and pong', async () => {
    const { ours, peer } = await pair();
    const events = record(ours);
    const pong = once<[Buffer]>(peer, 'pong');
    peer.ping('are you there');
    expect((await pong)[0].toString()).toBe('are you there');
    const peerPing = once<[Buffer]>(peer, 'ping');
    ours.ping('me');
    expect((await peerPing)[0].toString()).toBe('me');
    await once(ours, 'pong');
    expect(events).toEqual([['ping', 'are you there'], ['pong', 'me']]);
    peer.terminate();
  });

  it('does not answer pings with autoPong: false', async () => {
    const { ours, peer } = await pair({ autoPong: false });
    let pongs = 0;
    peer.on('pong', () => pongs++);
    peer.ping('a');
    await once(ours, 'ping');
    // A round trip after the ping: had a pong been sent, it would have arrived first.
    peer.send('sync');
    await once(ours, 'message');
    ours.send('back');
    await once(peer, 'message');
    expect(pongs).toBe(0);
    peer.terminate();
  });

  it('calls the send callback once written, and with an error after close', async () => {
    const { ours, peer } = await pair();
    await new Promise<void>((resolve, reject) => ours.send('x', (error) => (error ? reject(error) : resolve())));
    ours.close();
    expect(ours.readyState).toBe(WebSocket.CLOSING);
    const error = await new Promise<Error>((resolve) => ours.send('late', (e) => resolve(e as Error)));
    expect(error.message).toBe('WebSocket is not open: readyState 2 (CLOSING)');
    const pingError = await new Promise<Error>((resolve) => ours.ping((e) => resolve(e as Error)));
    expect(pingError.message).toBe('WebSocket is not open: readyState 2 (CLOSING)');
    await once(ours, 'close');
    const closedError = await new Promise<Error>((resolve) => ours.send('later', {}, (e) => resolve(e as Error)));
    expect(closedError.message).toBe('WebSocket is not open: readyState 3 (CLOSED)');
    peer.terminate();
  });

  it('counts unsent bytes in bufferedAmount, including sends after close', async () => {
    const { ours, peer } = await pair();
    peer.pause();
    const big = Buffer.alloc(4 * 1024 * 1024);
    let sent = 0;
    while (ours.bufferedAmount === 0 && sent < 64) {
      ours.send(big);
      sent++;
    }
    expect(ours.bufferedAmount).toBeGreaterThan(0);
    ours.terminate();
    await once(ours, 'close');
    const before = ours.bufferedAmount;
    ours.send('abc');
    expect(ours.bufferedAmount).toBe(before + 3);
  });

  it('keeps frames in order behind a Blob being read, and counts it in bufferedAmount', async () => {
    const { ours, peer } = await pair();
    const got: string[] = [];
    peer.on('message', (data: Buffer) => got.push(data.toString()));
    ours.send(new Blob(['one']));
    expect(ours.bufferedAmount).toBeGreaterThanOrEqual(3);
    ours.send('two');
    ours.send(new Blob(['three']));
    ours.send('four');
    while (got.length < 4) await once(peer, 'message');
    expect(got).toEqual(['one', 'two', 'three', 'four']);
    peer.terminate();
  });

  it('throws RangeError for a control payload over 125 bytes, and TypeError for a bad close code', async () => {
    const { ours, peer } = await pair();
    expect(() => ours.ping(Buffer.alloc(126))).toThrow('The data size must not be greater than 125 bytes');
    expect(() => ours.pong('x'.repeat(126))).toThrow(RangeError);
    expect(() => ours.close(1005)).toThrow('First argument must be a valid error code number');
    expect(() => ours.close(1000, 'x'.repeat(124))).toThrow('The message must not be greater than 123 bytes');
    expect(ours.readyState).toBe(WebSocket.OPEN);
    peer.terminate();
  });

  it('pause() stops message events until resume()', async () => {
    const { ours, peer } = await pair();
    ours.pause();
    expect(ours.isPaused).toBe(true);
    let messages = 0;
    ours.on('message', () => messages++);
    peer.send('held');
    // The frame is in the paused socket's buffer, unread.
    const socket = ours._socket as NonNullable<typeof ours._socket>;
    while (socket.readableLength === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(messages).toBe(0);
    ours.resume();
    expect(ours.isPaused).toBe(false);
    await once(ours, 'message');
    expect(messages).toBe(1);
    peer.terminate();
  });

  it('fails the connection with the error status: 1002 then error, as ws', async () => {
    const { ours, peer } = await pair();
    const events = record(ours);
    const peerClose = once<[number]>(peer, 'close');
    // An unmasked frame from a client (RFC 6455 5.1): written raw on ws's socket.
    (peer as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x81, 0x01, 0x61]));
    expect((await peerClose)[0]).toBe(1002);
    if (ours.readyState !== WebSocket.CLOSED) await once(ours, 'close');
    expect(events).toEqual([
      ['error', 'Invalid WebSocket frame: MASK must be set'],
      ['close', 1006, ''],
    ]);
  });

  it('emits errors with the ws code on the error object', async () => {
    const { ours, peer } = await pair({ maxPayload: 4 });
    const error = once<[Error & { code: string }]>(ours, 'error');
    const peerClose = once<[number]>(peer, 'close');
    peer.send('too long');
    expect((await error)[0].code).toBe('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    expect((await peerClose)[0]).toBe(1009);
  });
});

describe('WebSocket: client role', () => {
  it('connects to our server role: open, message, close in order', async () => {
    server = await startHandServer();
    const client = new WebSocket(server.url);
    expect(client.url).toBe(`${server.url}/`);
    const events = record(client);
    const ours = await server.next();
    ours.on('message', (data: Buffer, isBinary: boolean) => ours.send(data, { binary: isBinary }));
    await once(client, 'open');
    client.send('echo');
    await once(client, 'message');
    client.close(4000, 'done');
    await once(client, 'close');
    expect(events).toEqual([['open'], ['message', 'echo', false], ['close', 4000, 'done']]);
  });

  it('close() and terminate() while CONNECTING fail the handshake with ws message', async () => {
    server = await startHandServer();
    for (const method of ['close', 'terminate'] as const) {
      const client = new WebSocket(server.url);
      const events = record(client);
      client[method]();
      expect(client.readyState).toBe(WebSocket.CLOSING);
      await once(client, 'close');
      expect(events).toEqual([['error', 'WebSocket was closed before the connection was established'], ['close', 1006, '']]);
      expect(client.readyState).toBe(WebSocket.CLOSED);
    }
  });
});
