/**
 * The listener a WebSocketServer owns in `port` mode (src/server/handshake-server.ts) and its strict
 * request-head parser (src/handshake/request-head.ts): what it refuses (RFC 9112), that the requests
 * it accepts look exactly as Node's http.Server shows them, and that the bytes a client sends right
 * after its head are not lost.
 */
import { once } from 'events';
import { IncomingMessage, createServer } from 'http';
import type { AddressInfo } from 'net';
import { Socket, connect } from 'net';
import { Duplex } from 'stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer } from '../../src';
import type { ServerOptions } from '../../src/websocket-server';
import type { WebSocket } from '../../src/websocket';
import { MAX_HEAD_BYTES, findHeadEnd, parseRequestHead } from '../../src/handshake/request-head';
import { HEADS_PER_TURN, HEAD_TIMEOUT_MS, HandshakeServer } from '../../src/server/handshake-server';
import { TimerWheel } from '../../src/timers/timer-wheel';
import { buildFrame } from '../helpers/frames';
import { untilClosed } from '../helpers/raw-exchange';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** RFC 6455 section 1.3's example: the accept value for KEY. */
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

function upgradeRequest(extraLines: readonly string[] = [], path = '/'): string {
  return [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
    ...extraLines,
    '',
    '',
  ].join('\r\n');
}

function parse(text: string): ReturnType<typeof parseRequestHead> {
  const data = Buffer.from(text, 'latin1');
  const end = findHeadEnd(data, 0);
  expect(end).toBeGreaterThan(0);
  return parseRequestHead(data, end);
}

describe('request-head parser (RFC 9112)', () => {
  it('reads the request line and the fields, values without surrounding whitespace', () => {
    const head = parse('GET /chat?room=1 HTTP/1.1\r\nHost: a\r\nX-Pad:  \t v a l \t\r\nEmpty:\r\n\r\n');
    expect(head).toEqual({
      ok: true,
      method: 'GET',
      url: '/chat?room=1',
      rawHeaders: ['Host', 'a', 'X-Pad', 'v a l', 'Empty', ''],
    });
  });

  it('keeps obs-text bytes of a value as latin1 characters (RFC 9110 section 5.5)', () => {
    const head = parse('GET / HTTP/1.1\r\nX-Name: caf\xe9\r\n\r\n');
    expect(head.ok && head.rawHeaders[1]).toBe('caf\u00e9');
  });

  it.each([
    ['obsolete line folding (5.2)', 'GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n', 400],
    ['whitespace before the colon (5.1)', 'GET / HTTP/1.1\r\nX-A : 1\r\n\r\n', 400],
    ['a bare LF inside a field (2.2)', 'GET / HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n', 400],
    ['a bare CR inside a value (2.2)', 'GET / HTTP/1.1\r\nX-A: 1\rX\r\n\r\n', 400],
    ['a control character in a value', 'GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n', 400],
    ['a field without a colon', 'GET / HTTP/1.1\r\nX-A 1\r\n\r\n', 400],
    ['a field with an empty name', 'GET / HTTP/1.1\r\n: 1\r\n\r\n', 400],
    ['a method that is not a token', 'G(T / HTTP/1.1\r\n\r\n', 400],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\n\r\n', 400],
    ['a space inside the target', 'GET /a b HTTP/1.1\r\n\r\n', 400],
    ['a missing version', 'GET /\r\n\r\n', 400],
    ['a version that is not HTTP', 'GET / FTP/1.1\r\n\r\n', 400],
    ['HTTP/1.0 (RFC 6455 section 4.2.1 item 1 asks for 1.1)', 'GET / HTTP/1.0\r\n\r\n', 505],
    ['HTTP/2.0 as text', 'GET / HTTP/2.0\r\n\r\n', 505],
    ['more than 2,000 fields (Node would drop the rest: CVE-2024-37890)', `GET / HTTP/1.1\r\n${'x: y\r\n'.repeat(2001)}\r\n`, 431],
  ])('refuses %s', (_name, text, status) => {
    const head = parse(text);
    expect(head.ok).toBe(false);
    expect(!head.ok && head.status).toBe(status);
  });

  it('takes exactly 2,000 fields', () => {
    const head = parse(`GET / HTTP/1.1\r\n${'x: y\r\n'.repeat(2000)}\r\n`);
    expect(head.ok && head.rawHeaders.length).toBe(4000);
  });

  it('finds the end of a head across the bytes already searched', () => {
    const data = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\nrest', 'latin1');
    expect(findHeadEnd(data, 0)).toBe(data.length - 4);
    expect(findHeadEnd(data, 22)).toBe(data.length - 4);
    expect(findHeadEnd(data.subarray(0, data.length - 6), 0)).toBe(-1);
  });
});

/** Sends `text` to `server` and returns the request its 'upgrade' event carries. */
async function requestSeenBy(server: HandshakeServer | ReturnType<typeof createServer>, text: string): Promise<IncomingMessage> {
  const seen = once(server, 'upgrade') as Promise<[IncomingMessage, Socket, Buffer]>;
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(text);
  const [req, serverSocket] = await seen;
  expect(req.socket).toBe(serverSocket);
  expect(req.socket.remoteAddress).toBe('127.0.0.1');
  serverSocket.destroy();
  socket.destroy();
  return req;
}

describe('requests look as http.Server shows them', () => {
  const servers: { close(): unknown }[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  it.each([
    ['plain fields', []],
    ['a repeated list field, joined with ", "', ['Accept: a', 'X-Seq: 1', 'accept: b', 'X-SEQ: 2']],
    ['repeated Cookie, joined with "; "', ['Cookie: a=1', 'Cookie: b=2']],
    ['repeated Set-Cookie, an array', ['Set-Cookie: a=1', 'Set-Cookie: b=2']],
    ['single-valued fields keep the first value', ['User-Agent: one', 'User-Agent: two', 'Authorization: x', 'authorization: y', 'Host: again', 'Content-Type: a', 'Content-Type: b', 'Referer: r1', 'Referer: r2']],
    ['whitespace and obs-text in values', ['X-Sp: \t spaced  out \t', 'X-Latin: caf\xe9']],
    ['a query string and mixed-case names', ['sEc-WebSocket-PROTOCOL: chat, superchat']],
  ])('%s', async (_name, lines) => {
    const node = createServer();
    const ours = new HandshakeServer();
    servers.push(node, ours);
    await Promise.all([once(node.listen(0, '127.0.0.1'), 'listening'), once(ours.listen(0, '127.0.0.1'), 'listening')]);
    const text = upgradeRequest(lines as string[], '/path?q=1&r=%20');
    const [expected, actual] = await Promise.all([requestSeenBy(node, text), requestSeenBy(ours, text)]);
    expect(actual).toBeInstanceOf(IncomingMessage);
    expect({
      method: actual.method,
      url: actual.url,
      httpVersion: actual.httpVersion,
      rawHeaders: actual.rawHeaders,
      headers: actual.headers,
      headersDistinct: actual.headersDistinct,
    }).toEqual({
      method: expected.method,
      url: expected.url,
      httpVersion: expected.httpVersion,
      rawHeaders: expected.rawHeaders,
      headers: expected.headers,
      headersDistinct: expected.headersDistinct,
    });
  });
  it('headers and headersDistinct are built once, when read, and can be replaced (as http.Server\'s)', async () => {
    const ours = new HandshakeServer();
    servers.push(ours);
    await once(ours.listen(0, '127.0.0.1'), 'listening');
    const req = await requestSeenBy(ours, upgradeRequest(['X-Seq: 1', 'x-seq: 2']));
    const headers = req.headers;
    expect(req.headers).toBe(headers);
    expect(headers['x-seq']).toBe('1, 2');
    expect(req.headersDistinct['x-seq']).toEqual(['1', '2']);
    expect(req.headersDistinct).toBe(req.headersDistinct);
    const replaced = { host: 'elsewhere' };
    req.headers = replaced;
    expect(req.headers).toBe(replaced);
  });
});

describe('a port-mode WebSocketServer on its own listener', () => {
  let wss: WebSocketServer | null = null;
  afterEach(async () => {
    if (wss !== null) {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss?.close(resolve));
      wss = null;
    }
  });

  async function listen(options: Omit<ServerOptions, 'port'> = {}): Promise<number> {
    const server = new WebSocketServer<WebSocket>({ port: 0, host: '127.0.0.1', ...options });
    wss = server;
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  /** A raw client that has sent `text` and collects what comes back. */
  function rawClient(port: number): { socket: Socket; received: () => string } {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    return { socket, received: () => Buffer.concat(chunks).toString('latin1') };
  }

  it('upgrades a head that arrives one byte at a time', async () => {
    const port = await listen();
    const { socket, received } = rawClient(port);
    const connected = once(wss as WebSocketServer, 'connection');
    for (const byte of Buffer.from(upgradeRequest(), 'latin1')) {
      socket.write(Buffer.of(byte));
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [, req] = (await connected) as [WebSocket, IncomingMessage];
    expect(req.headers['sec-websocket-key']).toBe(KEY);
    while (!received().includes('\r\n\r\n')) await once(socket, 'data');
    expect(received()).toContain(`Sec-WebSocket-Accept: ${ACCEPT}\r\n`);
    socket.destroy();
  });

  it('keeps a frame sent with the head, through an asynchronous verifyClient', async () => {
    const port = await listen({ verifyClient: (_info, done) => setTimeout(() => done(true), 30) });
    const message = new Promise<string>((resolve) => {
      (wss as WebSocketServer).on('connection', (ws: WebSocket) => ws.on('message', (data) => resolve(String(data))));
    });
    const { socket } = rawClient(port);
    socket.write(Buffer.concat([Buffer.from(upgradeRequest(), 'latin1'), buildFrame({ opcode: 0x1, mask: true, payload: 'sent with the head' })]));
    expect(await message).toBe('sent with the head');
    socket.destroy();
  });

  it.each([
    ['a head over 16 KiB gets 431', upgradeRequest([`X-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`]), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/],
    ['obsolete line folding gets 400', upgradeRequest(['X-A: 1', ' folded']), /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nInvalid header field$/],
    ['HTTP/1.0 gets 505', upgradeRequest().replace('HTTP/1.1', 'HTTP/1.0'), /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/],
    ['an upgrade with a body gets 400', upgradeRequest(['Content-Length: 5']), /^HTTP\/1\.1 400 Bad Request\r\n[^]*An opening handshake has no body$/],
    ['an upgrade with Transfer-Encoding gets 400', upgradeRequest(['Transfer-Encoding: chunked']), /^HTTP\/1\.1 400 Bad Request\r\n/],
    ['a request without Connection: upgrade is plain HTTP: 426', upgradeRequest().replace('Connection: Upgrade', 'Connection: keep-alive'), /^HTTP\/1\.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text\/plain\r\nContent-Length: 16\r\n\r\nUpgrade Required$/],
  ])('%s, and the server goes on serving', async (_name, text, response) => {
    const port = await listen();
    let connections = 0;
    (wss as WebSocketServer).on('connection', () => connections++);
    expect(await untilClosed(port, text)).toMatch(response);
    expect(connections).toBe(0);
    const { socket, received } = rawClient(port);
    socket.write(upgradeRequest());
    await once(wss as WebSocketServer, 'connection');
    while (!received().includes('\r\n\r\n')) await once(socket, 'data');
    expect(received()).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    socket.destroy();
  });

  it('close() ends the connections still sending their head, and then emits close', async () => {
    const port = await listen();
    const { socket } = rawClient(port);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const clientClosed = once(socket, 'close');
    const serverClosed = once(wss as WebSocketServer, 'close');
    (wss as WebSocketServer).close();
    await Promise.all([clientClosed, serverClosed]);
    wss = null;
  });
});

describe('the head timeout (Node http.Server headersTimeout)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it(`ends a connection whose head has not arrived after ${HEAD_TIMEOUT_MS / 1000} s, one wheel timer per connection`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const wheel = new TimerWheel(20, 64, () => Date.now());
    const server = new HandshakeServer({ wheel, now: () => Date.now() });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => {});
    const accepted = once(server, 'connection');
    socket.write('GET / HTTP/1.1\r\n');
    await accepted;
    expect(wheel.size).toBe(1);
    const closed = once(socket, 'close');
    vi.advanceTimersByTime(HEAD_TIMEOUT_MS - 100);
    expect(socket.destroyed).toBe(false);
    vi.advanceTimersByTime(200);
    await closed;
    expect(wheel.size).toBe(0);
    server.close();
  });
});

describe('heads handled per turn of the event loop (HEADS_PER_TURN)', () => {
  /** An in-memory connection: what the test pushes is what the server reads; what it writes is kept. */
  function memorySocket(): Duplex & { written: string } {
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        socket.written += chunk.toString('latin1');
        callback();
      },
    }) as Duplex & { written: string };
    socket.written = '';
    return socket;
  }

  /** `count` connections accepted by a server that is not listening, each reading from the next turn on. */
  async function connections(server: HandshakeServer, count: number): Promise<(Duplex & { written: string })[]> {
    const sockets = Array.from({ length: count }, () => memorySocket());
    for (const socket of sockets) server.emit('connection', socket);
    // A Readable starts flowing a tick after its 'data' listener is added.
    await new Promise((resolve) => setImmediate(resolve));
    return sockets;
  }

  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it(`handles ${HEADS_PER_TURN} heads in a turn and the rest in the turns after, in the order they came`, async () => {
    const server = new HandshakeServer();
    const sockets = await connections(server, 2 * HEADS_PER_TURN + 3);
    const upgraded: Duplex[] = [];
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => upgraded.push(socket));

    for (const [index, socket] of sockets.entries()) socket.push(upgradeRequest([], `/${index}`));
    expect(upgraded).toEqual(sockets.slice(0, HEADS_PER_TURN));
    await nextTurn();
    expect(upgraded).toEqual(sockets.slice(0, 2 * HEADS_PER_TURN));
    await nextTurn();
    expect(upgraded).toEqual(sockets);
    // Then a turn has its whole budget again.
    const later = await connections(server, HEADS_PER_TURN);
    for (const socket of later) socket.push(upgradeRequest());
    expect(upgraded).toEqual([...sockets, ...later]);
    server.close();
  });

  it('keeps what came after a waiting head for the WebSocket, and refuses a waiting bad head as at once', async () => {
    const server = new HandshakeServer();
    const sockets = await connections(server, HEADS_PER_TURN + 2);
    const heads: Buffer[] = [];
    server.on('upgrade', (_req: IncomingMessage, _socket: Duplex, head: Buffer) => heads.push(head));

    for (const socket of sockets.slice(0, HEADS_PER_TURN)) socket.push(upgradeRequest());
    const [waiting, refused] = sockets.slice(HEADS_PER_TURN);
    waiting.push(Buffer.concat([Buffer.from(upgradeRequest(), 'latin1'), Buffer.from([0x81, 0x80])]));
    refused.push('GET / HTTP/1.0\r\nHost: a\r\n\r\n');
    expect(heads).toHaveLength(HEADS_PER_TURN);
    expect(refused.written).toBe('');
    await nextTurn();
    expect(heads).toHaveLength(HEADS_PER_TURN + 1);
    expect([...heads[HEADS_PER_TURN]]).toEqual([0x81, 0x80]);
    expect(refused.written).toMatch(/^HTTP\/1\.1 505 /);
    server.close();
  });

  it('close() ends every connection still sending or waiting with its head, and no upgraded one', async () => {
    const server = new HandshakeServer();
    const sockets = await connections(server, HEADS_PER_TURN + 5);
    const upgraded: Duplex[] = [];
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => upgraded.push(socket));

    // Heads complete for the first HEADS_PER_TURN + 2 (two of them wait for the next turn); the first
    // of the last three fails, the other two are still sending theirs.
    const complete = sockets.slice(0, HEADS_PER_TURN + 2);
    for (const socket of complete) socket.push(upgradeRequest());
    const [failed, ...sending] = sockets.slice(HEADS_PER_TURN + 2);
    failed.on('error', () => {});
    failed.destroy(new Error('connection reset by peer'));
    for (const socket of sending) socket.push('GET / HTTP/1.1\r\n');
    server.close();
    await nextTurn();

    expect(upgraded).toEqual(sockets.slice(0, HEADS_PER_TURN));
    expect(sockets.filter((socket) => socket.destroyed)).toEqual(sockets.slice(HEADS_PER_TURN));
  });

  it('drops a waiting head whose connection failed before its turn, and goes on with the others', async () => {
    const server = new HandshakeServer();
    const sockets = await connections(server, HEADS_PER_TURN + 2);
    const upgraded: Duplex[] = [];
    server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => upgraded.push(socket));

    for (const socket of sockets) socket.push(upgradeRequest());
    const [failed, last] = sockets.slice(HEADS_PER_TURN);
    failed.on('error', () => {});
    failed.destroy(new Error('connection reset by peer'));
    await nextTurn();
    expect(upgraded).toEqual([...sockets.slice(0, HEADS_PER_TURN), last]);
    server.close();
  });
});
