/**
 * Our WebSocketServer against ws's client from npm: messages of every length class (RFC 6455
 * section 5.2), fragmentation (5.4), pings (5.5.2), every way a connection closes (7), and bad input,
 * which must close only the connection that sent it. For bad input ws's own server is the oracle:
 * both get the same bytes and must answer with the same bytes.
 *
 * A witness connection stays open across the whole file; after every bad input it must still echo.
 */
import { randomBytes } from 'crypto';
import { AddressInfo, connect } from 'net';
import WsClient, { WebSocketServer as WsServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFrame, OPCODE } from '../helpers/frames';
import type { WebSocket } from '../../src/websocket';
import { WebSocketServer } from '../../src/websocket-server';

const MiB = 1024 * 1024;
/** Both servers allow messages up to this size, so 16 MiB passes and a larger declared frame fails. */
const MAX_PAYLOAD = 20 * MiB;

interface EchoServer {
  readonly port: number;
  /** The errors emitted by the server side of each connection, in order. */
  readonly errors: Array<Error & { code?: string }>;
  close(): Promise<void>;
}

/** The same echo behaviour on either server: each message goes back as it came (text or binary). */
function echo(ws: { on: WebSocket['on']; send: (data: Buffer, options: { binary: boolean }) => void }, errors: Error[]): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  ws.on('error', (error: Error) => errors.push(error));
}

async function startOurs(): Promise<EchoServer & { wss: WebSocketServer }> {
  const errors: Error[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: MAX_PAYLOAD });
  wss.on('connection', (ws: WebSocket) => echo(ws, errors));
  await new Promise((resolve) => wss.once('listening', resolve));
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

async function startWs(): Promise<EchoServer> {
  const errors: Error[] = [];
  const wss = new WsServer({ port: 0, host: '127.0.0.1', maxPayload: MAX_PAYLOAD });
  wss.on('connection', (ws) => echo(ws as never, errors));
  await new Promise((resolve) => wss.once('listening', resolve));
  return {
    port: (wss.address() as AddressInfo).port,
    errors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

function open(port: number): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(`ws://127.0.0.1:${port}`);
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

function nextMessage(client: WsClient): Promise<[Buffer, boolean]> {
  return new Promise((resolve) => client.once('message', (data: Buffer, isBinary: boolean) => resolve([data, isBinary])));
}

function closeOf(emitter: { once(event: 'close', listener: (code: number, reason: Buffer) => void): unknown }): Promise<[number, string]> {
  return new Promise((resolve) => emitter.once('close', (code, reason) => resolve([code, reason.toString()])));
}

const REQUEST =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/**
 * Sends `request`, and once a 101 head arrives (if the request asks for one), `frames`; resolves with
 * every byte the server sent after the response head, or the whole response when it was not a 101.
 */
function exchange(port: number, request: string, frames: Uint8Array | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let bodyStart = -1;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (bodyStart !== -1) return;
      const end = received.indexOf('\r\n\r\n');
      if (end === -1 || !received.subarray(0, 13).equals(Buffer.from('HTTP/1.1 101 '))) return;
      bodyStart = end + 4;
      if (frames !== null) socket.write(frames);
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(bodyStart === -1 ? received : received.subarray(bodyStart)));
    socket.write(request);
  });
}

function closeFrame(code: number): Buffer {
  return Buffer.from([0x88, 0x02, code >> 8, code & 0xff]);
}

let ours: EchoServer & { wss: WebSocketServer };
let theirs: EchoServer;
let witness: WsClient;
let witnessCount = 0;

/** The witness opened before any bad input still echoes: one connection's failure stays its own. */
async function expectWitnessEchoes(): Promise<void> {
  const text = `witness ${++witnessCount}`;
  const reply = nextMessage(witness);
  witness.send(text);
  const [data, isBinary] = await reply;
  expect(data.toString()).toBe(text);
  expect(isBinary).toBe(false);
}

beforeAll(async () => {
  [ours, theirs] = await Promise.all([startOurs(), startWs()]);
  witness = await open(ours.port);
});

afterAll(async () => {
  witness.terminate();
  await Promise.all([ours.close(), theirs.close()]);
});

describe('messages echo unchanged (5.2, 5.6)', () => {
  let client: WsClient;
  beforeAll(async () => {
    client = await open(ours.port);
  });
  afterAll(() => client.terminate());

  async function roundTrip(data: string | Buffer, binary: boolean): Promise<void> {
    const reply = nextMessage(client);
    client.send(data, { binary });
    const [echoed, isBinary] = await reply;
    expect(isBinary).toBe(binary);
    expect(echoed.equals(Buffer.from(data))).toBe(true);
  }

  it('text', () => roundTrip('héllo, wörld ✓', false));
  it('binary', () => roundTrip(Buffer.from([0, 1, 2, 0xfe, 0xff]), true));
  it('empty text', () => roundTrip('', false));
  it('empty binary', () => roundTrip(Buffer.alloc(0), true));

  for (const length of [125, 126, 65535, 65536]) {
    it(`${length}-byte binary (the ${length <= 125 ? '7' : length <= 65535 ? '16' : '64'}-bit length)`, () =>
      roundTrip(randomBytes(length), true));
    it(`${length}-byte text`, () => roundTrip('x'.repeat(length), false));
  }

  it('16 MiB binary', () => roundTrip(randomBytes(16 * MiB), true));

  it('fragmented text and binary sends arrive as one message each (5.4)', async () => {
    let reply = nextMessage(client);
    client.send('frag', { fin: false });
    client.send('men', { fin: false });
    client.send('ted', { fin: true });
    expect((await reply)[0].toString()).toBe('fragmented');

    reply = nextMessage(client);
    const parts = [randomBytes(70000), randomBytes(1), randomBytes(300)];
    parts.forEach((part, i) => client.send(part, { binary: true, fin: i === parts.length - 1 }));
    const [data, isBinary] = await reply;
    expect(isBinary).toBe(true);
    expect(data.equals(Buffer.concat(parts))).toBe(true);
  });

  it('a ping between fragments is answered without breaking the message (5.4, 5.5)', async () => {
    const reply = nextMessage(client);
    const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve));
    client.send('a', { fin: false });
    client.ping('mid');
    client.send('b', { fin: true });
    expect((await pong).toString()).toBe('mid');
    expect((await reply)[0].toString()).toBe('ab');
  });

  it('the server answers a client ping with a pong carrying its data (5.5.2, 5.5.3)', async () => {
    const pong = new Promise<Buffer>((resolve) => client.once('pong', resolve));
    client.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
  });

  it("a server ping gets ws's automatic pong", async () => {
    const connected = new Promise<WebSocket>((resolve) => ours.wss.once('connection', resolve));
    const other = await open(ours.port);
    const serverSide = await connected;
    const pong = new Promise<Buffer>((resolve) => serverSide.once('pong', resolve));
    serverSide.ping('ping from server');
    expect((await pong).toString()).toBe('ping from server');
    other.terminate();
  });
});

describe('closing (7.1, 7.4)', () => {
  async function pair(): Promise<{ client: WsClient; serverSide: WebSocket }> {
    const connected = new Promise<WebSocket>((resolve) => ours.wss.once('connection', resolve));
    const client = await open(ours.port);
    return { client, serverSide: await connected };
  }

  it('client close with a code and reason: both sides see them', async () => {
    const { client, serverSide } = await pair();
    const onServer = closeOf(serverSide);
    const onClient = closeOf(client);
    client.close(1000, 'bye');
    expect(await onServer).toEqual([1000, 'bye']);
    expect(await onClient).toEqual([1000, 'bye']);
  });

  it('client close without a code: the server sees 1005 (7.1.5)', async () => {
    const { client, serverSide } = await pair();
    const onServer = closeOf(serverSide);
    const onClient = closeOf(client);
    client.close();
    expect(await onServer).toEqual([1005, '']);
    expect(await onClient).toEqual([1005, '']);
  });

  it('server close with an application code: the client sees it', async () => {
    const { client, serverSide } = await pair();
    const onServer = closeOf(serverSide);
    const onClient = closeOf(client);
    serverSide.close(4001, 'server says so');
    expect(await onClient).toEqual([4001, 'server says so']);
    expect(await onServer).toEqual([4001, 'server says so']);
  });

  it('client terminate: the server sees 1006 (7.1.5)', async () => {
    const { client, serverSide } = await pair();
    const onServer = closeOf(serverSide);
    client.terminate();
    expect(await onServer).toEqual([1006, '']);
    await expectWitnessEchoes();
  });

  it('server terminate: the client sees 1006', async () => {
    const { client, serverSide } = await pair();
    const onClient = closeOf(client);
    serverSide.terminate();
    expect(await onClient).toEqual([1006, '']);
    await expectWitnessEchoes();
  });

  it('closed connections leave the clients set', async () => {
    const { client, serverSide } = await pair();
    expect(ours.wss.clients.has(serverSide)).toBe(true);
    const onServer = closeOf(serverSide);
    client.close();
    await onServer;
    expect(ours.wss.clients.has(serverSide)).toBe(false);
  });
});

describe('bad input closes only its own connection, with the same bytes as ws', () => {
  const masked = { mask: true } as const;
  const cases: Array<[string, Uint8Array, number, string]> = [
    ['an unmasked client frame (5.1)', buildFrame({ opcode: OPCODE.TEXT, payload: 'hi' }), 1002, 'WS_ERR_EXPECTED_MASK'],
    ['a reserved opcode (5.2)', buildFrame({ opcode: 0x3, ...masked }), 1002, 'WS_ERR_INVALID_OPCODE'],
    ['RSV1 without an extension (5.2)', buildFrame({ opcode: OPCODE.TEXT, rsv1: true, payload: 'x', ...masked }), 1002, 'WS_ERR_UNEXPECTED_RSV_1'],
    ['a continuation with nothing to continue (5.4)', buildFrame({ opcode: OPCODE.CONTINUATION, payload: 'x', ...masked }), 1002, 'WS_ERR_INVALID_OPCODE'],
    ['a fragmented ping (5.5)', buildFrame({ opcode: OPCODE.PING, fin: false, ...masked }), 1002, 'WS_ERR_EXPECTED_FIN'],
    ['invalid UTF-8 in a text message (8.1)', buildFrame({ opcode: OPCODE.TEXT, payload: new Uint8Array([0xc3, 0x28]), ...masked }), 1007, 'WS_ERR_INVALID_UTF8'],
    ['a frame over maxPayload (10.4)', buildFrame({ opcode: OPCODE.BINARY, declaredLength: MAX_PAYLOAD + 1, ...masked }), 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'],
    ['a reserved close code (7.4.2)', buildFrame({ opcode: OPCODE.CLOSE, payload: new Uint8Array([0x03, 0xec]), ...masked }), 1002, 'WS_ERR_INVALID_CLOSE_CODE'],
  ];

  for (const [title, frames, status, code] of cases) {
    it(`${title}: closes with ${status} and ${code}`, async () => {
      const ourErrors = ours.errors.length;
      const theirErrors = theirs.errors.length;
      const [fromOurs, fromTheirs] = await Promise.all([
        exchange(ours.port, REQUEST, frames),
        exchange(theirs.port, REQUEST, frames),
      ]);
      expect(fromOurs).toEqual(closeFrame(status));
      expect(fromOurs).toEqual(fromTheirs);
      expect(ours.errors.slice(ourErrors).map((error) => error.code)).toEqual([code]);
      expect(theirs.errors.slice(theirErrors).map((error) => error.code)).toEqual([code]);
      await expectWitnessEchoes();
    });
  }

  it('a handshake without Sec-WebSocket-Key gets 400', async () => {
    const request = REQUEST.replace(/Sec-WebSocket-Key: [^\r]*\r\n/, '');
    const response = (await exchange(ours.port, request, null)).toString('latin1');
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nMissing or invalid Sec-WebSocket-Key header$/);
    await expectWitnessEchoes();
  });

  it('bytes that are not HTTP get an HTTP error from Node', async () => {
    const response = (await exchange(ours.port, '\x00\x01\x02 not http\r\n\r\n', null)).toString('latin1');
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await expectWitnessEchoes();
  });

  it('a connection cut in the middle of a frame closes with 1006', async () => {
    const connected = new Promise<WebSocket>((resolve) => ours.wss.once('connection', resolve));
    const socket = connect(ours.port, '127.0.0.1');
    socket.write(REQUEST);
    const serverSide = await connected;
    const onServer = closeOf(serverSide);
    const frame = buildFrame({ opcode: OPCODE.BINARY, payload: randomBytes(1000), mask: true });
    socket.write(frame.subarray(0, 500));
    socket.destroy();
    expect(await onServer).toEqual([1006, '']);
    await expectWitnessEchoes();
  });
});
