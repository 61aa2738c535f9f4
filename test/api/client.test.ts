/**
 * The client's opening handshake (RFC 6455 4.1) with ws 8.23's options, events and messages.
 * Servers here are raw http servers on 127.0.0.1 that write whatever answer the test needs.
 */
import type { IncomingMessage } from 'http';
import { createServer } from 'net';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Socket } from 'net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { acceptKey } from '../../src/handshake/accept-key';
import { Ws, once, record, startRawServer } from './harness';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server that answers every handshake with 101 plus `extra` header lines (or a replacement accept). */
async function answering(extra: (req: IncomingMessage) => string[], accept?: string) {
  const requests: IncomingMessage[] = [];
  const raw = await startRawServer((req, socket) => {
    requests.push(req);
    const key = req.headers['sec-websocket-key'] as string;
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${accept ?? acceptKey(key)}`,
      ...extra(req),
    ];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
  cleanups.push(() => raw.close());
  return { url: `ws://127.0.0.1:${raw.port}`, requests };
}

async function failure(client: WebSocket): Promise<unknown[][]> {
  const events = record(client);
  await once(client, 'close');
  return events;
}

describe('client: URL and argument checks (thrown, as ws)', () => {
  it('rejects bad URLs with ws messages', () => {
    expect(() => new WebSocket('not a url')).toThrow(new SyntaxError('Invalid URL: not a url'));
    expect(() => new WebSocket('ftp://x')).toThrow(
      'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
    );
    expect(() => new WebSocket('ws://x/#frag')).toThrow('The URL contains a fragment identifier');
  });

  it('rejects invalid or duplicated subprotocols and an unknown protocolVersion', () => {
    const message = 'An invalid or duplicated subprotocol was specified';
    expect(() => new WebSocket('ws://127.0.0.1:1', ['a', 'a'])).toThrow(message);
    expect(() => new WebSocket('ws://127.0.0.1:1', 'a b')).toThrow(message);
    expect(() => new WebSocket('ws://127.0.0.1:1', [''])).toThrow(message);
    expect(() => new WebSocket('ws://127.0.0.1:1', { protocolVersion: 9 })).toThrow(
      new RangeError('Unsupported protocol version: 9 (supported versions: 8, 13)'),
    );
  });

  it('maps http: to ws: in url', async () => {
    const server = await answering(() => []);
    const client = new WebSocket(server.url.replace('ws:', 'http:') + '/p?q=1');
    expect(client.url).toBe(`${server.url}/p?q=1`);
    await once(client, 'open');
    client.terminate();
  });
});

describe('client: the request (RFC 6455 4.1)', () => {
  it('sends the handshake fields, subprotocols, origin, custom headers, and the permessage-deflate offer ws sends', async () => {
    const server = await answering(() => ['Sec-WebSocket-Protocol: b']);
    const client = new WebSocket(server.url + '/path?x=1', ['a', 'b'], {
      origin: 'https://example.com',
      headers: { 'X-Custom': 'yes' },
      perMessageDeflate: true,
    });
    await once(client, 'open');
    expect(client.protocol).toBe('b');
    const { url, headers } = server.requests[0];
    expect(url).toBe('/path?x=1');
    expect(headers.upgrade).toBe('websocket');
    expect(headers.connection).toBe('Upgrade');
    expect(headers['sec-websocket-version']).toBe('13');
    expect(headers['sec-websocket-key']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    expect(headers['sec-websocket-protocol']).toBe('a,b');
    expect(headers.origin).toBe('https://example.com');
    expect(headers['x-custom']).toBe('yes');
    expect(headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits');
    client.terminate();
  });

  it('protocolVersion 8 sends Sec-WebSocket-Origin; finishRequest ends the request itself', async () => {
    const server = await answering(() => []);
    let called = 0;
    let handedOver: WebSocket | null = null;
    const client = new WebSocket(server.url, {
      protocolVersion: 8,
      origin: 'https://o',
      finishRequest(req, ws) {
        called++;
        handedOver = ws;
        req.setHeader('X-Added', '1');
        req.end();
      },
    });
    await once(client, 'open');
    const { headers } = server.requests[0];
    expect(called).toBe(1);
    expect(handedOver).toBe(client);
    expect(headers['sec-websocket-version']).toBe('8');
    expect(headers['sec-websocket-origin']).toBe('https://o');
    expect(headers['x-added']).toBe('1');
    client.terminate();
  });

  it('masks with generateMask when given (section 5.3)', async () => {
    const frames: Buffer[] = [];
    const raw = await startRawServer((req, socket: Socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'] as string)}\r\n\r\n`,
      );
      socket.on('data', (chunk: Buffer) => frames.push(chunk));
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}`, {
      generateMask: (mask: Buffer) => mask.set([1, 2, 3, 4]),
    });
    await once(client, 'open');
    client.send('ab');
    while (frames.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(frames[0]).toEqual(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2]));
    client.terminate();
  });

  it('connects over a Unix socket with ws+unix:', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simdws-'));
    const path = join(dir, 'sock');
    const wss = new Ws.WebSocketServer({ noServer: true });
    const http = await import('http');
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => ws.send(`at ${req.url}`));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const client = new WebSocket(`ws+unix:${path}:/room?x=1`);
    const [data] = await once<[Buffer]>(client, 'message');
    expect(data.toString()).toBe('at /room?x=1');
    client.close();
    await once(client, 'close');
  });
});

describe('client: the response (RFC 6455 4.1, "the client MUST validate")', () => {
  const cases: [string, (req: IncomingMessage) => string[], string | undefined, string[] | undefined, string][] = [
    ['a wrong Sec-WebSocket-Accept', () => [], 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', undefined, 'Invalid Sec-WebSocket-Accept header'],
    [
      'a subprotocol when none was requested',
      () => ['Sec-WebSocket-Protocol: x'],
      undefined,
      undefined,
      'Server sent a subprotocol but none was requested',
    ],
    ['a subprotocol not offered', () => ['Sec-WebSocket-Protocol: z'], undefined, ['a'], 'Server sent an invalid subprotocol'],
    ['no subprotocol when some were offered', () => [], undefined, ['a'], 'Server sent no subprotocol'],
    [
      'an extension that was not offered',
      () => ['Sec-WebSocket-Extensions: permessage-deflate'],
      undefined,
      undefined,
      'Server sent a Sec-WebSocket-Extensions header but no extension was requested',
    ],
  ];
  it.each(cases)('fails on %s', async (_name, extra, accept, protocols, message) => {
    const server = await answering(extra, accept);
    // No offer, so that an extension in the answer is one that was not requested (RFC 6455 9.1).
    const client = new WebSocket(server.url, protocols, { perMessageDeflate: false });
    expect(await failure(client)).toEqual([['error', message], ['close', 1006, '']]);
    expect(client.readyState).toBe(WebSocket.CLOSED);
  });

  it('fails on a wrong Upgrade header, after emitting upgrade', async () => {
    const raw = await startRawServer((req, socket: Socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'] as string)}\r\n\r\n`,
      );
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}`);
    const upgrades: number[] = [];
    client.on('upgrade', (res: IncomingMessage) => upgrades.push(res.statusCode as number));
    expect(await failure(client)).toEqual([['error', 'Invalid Upgrade header'], ['close', 1006, '']]);
    expect(upgrades).toEqual([101]);
  });

  it('emits unexpected-response instead of failing when someone listens', async () => {
    const raw = await startRawServer(
      (req, socket: Socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno'),
    );
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}`);
    const [, res] = await once<[unknown, IncomingMessage]>(client, 'unexpected-response');
    expect(res.statusCode).toBe(403);
    expect(client.readyState).toBe(WebSocket.CONNECTING);
    const events = record(client);
    client.terminate();
    await once(client, 'close');
    expect(events).toEqual([['error', 'WebSocket was closed before the connection was established'], ['close', 1006, '']]);
  });

  it('handshakeTimeout fails a server that never answers', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const sockets: Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const client = new WebSocket(`ws://127.0.0.1:${(silent.address() as { port: number }).port}`, { handshakeTimeout: 50 });
    expect(await failure(client)).toEqual([['error', 'Opening handshake has timed out'], ['close', 1006, '']]);
  });

  it('a connection error is emitted, then close', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const events = await failure(client);
    expect(events).toHaveLength(2);
    expect(events[0][1]).toMatch(/ECONNREFUSED/);
    expect(events[1]).toEqual(['close', 1006, '']);
  });
});
