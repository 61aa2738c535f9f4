/**
 * Our client against ws's WebSocketServer from npm (the oracle): messages of every size class of
 * RFC 6455 5.2 (7-bit, 16-bit and 64-bit lengths), fragments, pings both ways, every close path; and
 * redirects against a raw http server, with ws's header stripping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { Ws, once, record, startRawServer, startWsServer } from '../api/harness';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function echoServer(options = {}) {
  const peer = await startWsServer(options);
  cleanups.push(() => peer.close());
  peer.wss.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return peer;
}

async function connect(url: string): Promise<WebSocket> {
  const client = new WebSocket(url);
  cleanups.push(() => client.terminate());
  await once(client, 'open');
  return client;
}

describe('client vs ws server: messages', () => {
  const sizes = [0, 1, 125, 126, 65535, 65536, 16 * 1024 * 1024];
  it.each(sizes)('echoes a %i-byte binary message and the same size as text', async (size) => {
    const { url } = await echoServer();
    const client = await connect(url);
    const bytes = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4093) bytes[i] = i & 0xff;
    client.send(bytes);
    const [data, isBinary] = await once<[Buffer, boolean]>(client, 'message');
    expect(isBinary).toBe(true);
    expect(data.equals(bytes)).toBe(true);
    const text = 'é'.repeat(size >> 1) + (size & 1 ? 'a' : '');
    client.send(text);
    const [echoed, textIsBinary] = await once<[Buffer, boolean]>(client, 'message');
    expect(textIsBinary).toBe(false);
    expect(echoed.toString()).toBe(text);
  });

  it('sends a message in fragments (fin: false) that ws reassembles (5.4)', async () => {
    const { url } = await echoServer();
    const client = await connect(url);
    client.send('frag', { fin: false });
    client.send('men', { fin: false });
    client.send('ted', { fin: true });
    client.send(Buffer.from([1]), { fin: false });
    client.send(Buffer.from([2]));
    const got: [string, boolean][] = [];
    client.on('message', (data: Buffer, isBinary: boolean) => got.push([data.toString('hex'), isBinary]));
    while (got.length < 2) await once(client, 'message');
    expect(got).toEqual([
      [Buffer.from('fragmented').toString('hex'), false],
      ['0102', true],
    ]);
  });

  it('receives a message ws sends in fragments', async () => {
    const peer = await startWsServer();
    cleanups.push(() => peer.close());
    peer.wss.on('connection', (socket) => {
      socket.send('ab', { fin: false });
      socket.send('cd', { fin: true });
    });
    const client = new WebSocket(peer.url);
    cleanups.push(() => client.terminate());
    const [data, isBinary] = await once<[Buffer, boolean]>(client, 'message');
    expect([data.toString(), isBinary]).toEqual(['abcd', false]);
  });

  it('pings both ways: each side answers with a pong carrying the data (5.5.2, 5.5.3)', async () => {
    const peer = await startWsServer();
    cleanups.push(() => peer.close());
    const serverSide = once<[InstanceType<typeof Ws.WebSocket>]>(peer.wss, 'connection');
    const client = await connect(peer.url);
    const [socket] = await serverSide;
    const events = record(client);
    const pong = once<[Buffer]>(client, 'pong');
    client.ping('from client');
    expect((await pong)[0].toString()).toBe('from client');
    const serverPong = once<[Buffer]>(socket, 'pong');
    socket.ping('from server');
    expect((await serverPong)[0].toString()).toBe('from server');
    expect(events).toEqual([['pong', 'from client'], ['ping', 'from server']]);
  });
});

describe('client vs ws server: close paths', () => {
  async function pair(options = {}) {
    const peer = await startWsServer(options);
    cleanups.push(() => peer.close());
    const serverSide = once<[InstanceType<typeof Ws.WebSocket>]>(peer.wss, 'connection');
    const client = await connect(peer.url);
    const [socket] = await serverSide;
    return { client, socket };
  }

  it('client close(code, reason)', async () => {
    const { client, socket } = await pair();
    const peerClose = once<[number, Buffer]>(socket, 'close');
    const events = record(client);
    client.close(4100, 'client says');
    await once(client, 'close');
    const [code, reason] = await peerClose;
    expect([code, reason.toString()]).toEqual([4100, 'client says']);
    expect(events).toEqual([['close', 4100, 'client says']]);
  });

  it('client close() without a code: 1005 on both sides', async () => {
    const { client, socket } = await pair();
    const peerClose = once<[number]>(socket, 'close');
    const [code] = await new Promise<[number]>((resolve) => {
      client.once('close', (c: number) => resolve([c]));
      client.close();
    });
    expect(code).toBe(1005);
    expect((await peerClose)[0]).toBe(1005);
  });

  it('server close(code, reason)', async () => {
    const { client, socket } = await pair();
    const events = record(client);
    socket.close(1001, 'server says');
    await once(client, 'close');
    expect(events).toEqual([['close', 1001, 'server says']]);
  });

  it('server terminate(): 1006', async () => {
    const { client, socket } = await pair();
    const events = record(client);
    socket.terminate();
    await once(client, 'close');
    expect(events).toEqual([['close', 1006, '']]);
  });

  it('client terminate(): the server sees 1006', async () => {
    const { client, socket } = await pair();
    const peerClose = once<[number]>(socket, 'close');
    client.terminate();
    expect((await peerClose)[0]).toBe(1006);
  });

  it('a protocol error from the server side (maxPayload): the client gets 1009', async () => {
    const { client, socket } = await pair({ maxPayload: 10 });
    socket.on('error', () => {});
    const events = record(client);
    client.send(Buffer.alloc(11));
    await once(client, 'close');
    expect(events).toEqual([['close', 1009, '']]);
  });

  it('a protocol error seen by the client: 1002 sent, error then close', async () => {
    const { client, socket } = await pair();
    const events = record(client);
    const peerClose = once<[number]>(socket, 'close');
    // RSV2 set without an extension (5.2), written raw on ws's socket.
    (socket as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0xa1, 0x00]));
    expect((await peerClose)[0]).toBe(1002);
    if (client.readyState !== WebSocket.CLOSED) await once(client, 'close');
    expect(events).toEqual([
      ['error', 'Invalid WebSocket frame: RSV2 and RSV3 must be clear'],
      ['close', 1006, ''],
    ]);
  });
});

describe('client redirects (ws followRedirects, maxRedirects)', () => {
  it('follows 301 and 302 to the WebSocket endpoint, emitting redirect', async () => {
    const seen: string[] = [];
    const raw = await startRawServer((req, socket, head) => {
      seen.push(req.url as string);
      if (req.url === '/a') socket.end('HTTP/1.1 301 Moved Permanently\r\nLocation: /b\r\nContent-Length: 0\r\n\r\n');
      else if (req.url === '/b') socket.end('HTTP/1.1 302 Found\r\nLocation: /ws\r\nContent-Length: 0\r\n\r\n');
      else wss.handleUpgrade(req, socket, head, (ws) => ws.close(1000, 'arrived'));
    });
    const wss = new Ws.WebSocketServer({ noServer: true });
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}/a`, { followRedirects: true });
    const redirects: string[] = [];
    client.on('redirect', (url: string) => redirects.push(url));
    const events = record(client);
    await once(client, 'close');
    expect(seen).toEqual(['/a', '/b', '/ws']);
    expect(redirects).toEqual([`ws://127.0.0.1:${raw.port}/b`, `ws://127.0.0.1:${raw.port}/ws`]);
    expect(client.url).toBe(`ws://127.0.0.1:${raw.port}/ws`);
    expect(events).toEqual([['open'], ['close', 1000, 'arrived']]);
  });

  it('fails with "Maximum redirects exceeded" past maxRedirects', async () => {
    let hits = 0;
    const raw = await startRawServer((req, socket) => {
      hits++;
      socket.end('HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n');
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}/`, { followRedirects: true, maxRedirects: 2 });
    const events = record(client);
    await once(client, 'close');
    expect(hits).toBe(3);
    expect(events).toEqual([['error', 'Maximum redirects exceeded'], ['close', 1006, '']]);
  });

  it('without followRedirects a 302 is an unexpected response', async () => {
    const raw = await startRawServer((req, socket) => {
      socket.end('HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n');
    });
    cleanups.push(() => raw.close());
    const client = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
    const events = record(client);
    await once(client, 'close');
    expect(events).toEqual([['error', 'Unexpected server response: 302'], ['close', 1006, '']]);
  });

  it('drops Authorization and Cookie on a cross-host redirect, keeps them on the same host', async () => {
    const headersSeen: Record<string, string | undefined>[] = [];
    const target = await startRawServer((req, socket, head) => {
      headersSeen.push({ host: 'target', authorization: req.headers.authorization, cookie: req.headers.cookie });
      wss.handleUpgrade(req, socket, head, (ws) => ws.close());
    });
    const wss = new Ws.WebSocketServer({ noServer: true });
    cleanups.push(() => target.close());
    const origin = await startRawServer((req, socket) => {
      headersSeen.push({ host: 'origin', authorization: req.headers.authorization, cookie: req.headers.cookie });
      // Same host first (/same), then to another host: "localhost" is another host than 127.0.0.1.
      const location = req.url === '/' ? '/same' : `ws://localhost:${target.port}/`;
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${location}\r\nContent-Length: 0\r\n\r\n`);
    });
    cleanups.push(() => origin.close());
    const client = new WebSocket(`ws://user:pass@127.0.0.1:${origin.port}/`, {
      followRedirects: true,
      headers: { Cookie: 'session=1' },
    });
    await once(client, 'close');
    const basic = 'Basic ' + Buffer.from('user:pass').toString('base64');
    expect(headersSeen).toEqual([
      { host: 'origin', authorization: basic, cookie: 'session=1' },
      { host: 'origin', authorization: basic, cookie: 'session=1' },
      { host: 'target', authorization: undefined, cookie: undefined },
    ]);
  });

  it('keeps the headers when a redirect listener is present (the user decides), as ws', async () => {
    const seen: (string | undefined)[] = [];
    const target = await startRawServer((req, socket, head) => {
      seen.push(req.headers.cookie);
      wss.handleUpgrade(req, socket, head, (ws) => ws.close());
    });
    const wss = new Ws.WebSocketServer({ noServer: true });
    cleanups.push(() => target.close());
    const origin = await startRawServer((req, socket) => {
      seen.push(req.headers.cookie);
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ws://localhost:${target.port}/\r\nContent-Length: 0\r\n\r\n`);
    });
    cleanups.push(() => origin.close());
    const client = new WebSocket(`ws://127.0.0.1:${origin.port}/`, { followRedirects: true, headers: { Cookie: 'c=1' } });
    client.on('redirect', () => {});
    await once(client, 'close');
    expect(seen).toEqual(['c=1', 'c=1']);
  });

});
