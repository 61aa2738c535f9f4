/**
 * WebSocketServer's public API against ws 8's: option validation, the port / server / noServer modes,
 * close(), client tracking, address(), the 'headers' and 'wsClientError' events. ws from npm is the
 * oracle where it can be (same inputs, same messages and defaults).
 */
import { createServer, get, IncomingMessage, Server as HttpServer } from 'http';
import { AddressInfo } from 'net';
import type { Duplex } from 'stream';
import WsClient, { WebSocketServer as WsServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { ServerOptions, WebSocketServer } from '../../src/websocket-server';
import { untilClosed } from '../helpers/raw-exchange';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

const cleanups: Array<() => Promise<unknown> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track(wss: WebSocketServer): WebSocketServer {
  cleanups.push(() => {
    for (const ws of wss.clients ?? []) ws.terminate();
    return new Promise((resolve) => wss.close(resolve));
  });
  return wss;
}

function trackHttp(server: HttpServer): HttpServer {
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return server;
}

async function listening(options: Omit<ServerOptions, 'port'> = {}): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = track(new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' }));
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, port: (wss.address() as AddressInfo).port };
}

function open(url: string): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(url);
    cleanups.push(() => client.terminate());
    client.once('open', () => resolve(client));
    client.once('error', reject);
  });
}

function closed(emitter: { once(event: 'close', listener: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => emitter.once('close', () => resolve()));
}

/** The error ws's own constructor throws for options it refuses. */
function wsConstructorError(options: object): unknown {
  try {
    new WsServer(options);
  } catch (error) {
    return error;
  }
  throw new Error('ws accepted the options');
}

describe('option validation', () => {
  const oneOfThree = 'One and only one of the "port", "server", or "noServer" options must be specified';
  const server = createServer();
  const invalid: Array<[string, ServerOptions]> = [
    ['none of port, server, noServer', {}],
    ['port and server', { port: 0, server }],
    ['port and noServer', { port: 0, noServer: true }],
    ['server and noServer', { server, noServer: true }],
  ];

  for (const [title, options] of invalid) {
    it(`throws ws's TypeError for ${title}`, () => {
      expect(() => new WebSocketServer(options)).toThrow(new TypeError(oneOfThree));
      expect(wsConstructorError(options)).toEqual(new TypeError(oneOfThree));
    });
  }

  it('throws a TypeError for an allowedOrigins entry that is not an origin', () => {
    expect(() => new WebSocketServer({ noServer: true, allowedOrigins: ['https://game.example/'] })).toThrow(TypeError);
  });

  it("fills in ws 8.23's defaults", () => {
    const ours = new WebSocketServer({ noServer: true }).options;
    const theirs = new WsServer({ noServer: true }).options as unknown as Record<string, unknown>;
    for (const name of [
      'allowSynchronousEvents',
      'autoPong',
      'maxBufferedChunks',
      'maxFragments',
      'maxPayload',
      'maxPendingAutoPongs',
      'skipUTF8Validation',
      'perMessageDeflate',
      'clientTracking',
      'closeTimeout',
      'noServer',
    ] as const) {
      expect(ours[name], name).toEqual(theirs[name]);
    }
    expect(ours.maxPayload).toBe(100 * 1024 * 1024);
    expect(ours.maxFragments).toBe(16384);
    expect(ours.maxBufferedChunks).toBe(262144);
    expect(ours.WebSocket).toBe(WebSocket);
  });

  it('turns perMessageDeflate: true into {} as ws does', () => {
    expect(new WebSocketServer({ noServer: true, perMessageDeflate: true }).options.perMessageDeflate).toEqual({});
  });
});

describe('port mode', () => {
  it("listens, calls the callback, emits 'listening' and reports address()", async () => {
    let called = false;
    const wss = track(
      new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
        called = true;
      }),
    );
    expect(wss.address()).toBeNull();
    await new Promise((resolve) => wss.once('listening', resolve));
    expect(called).toBe(true);
    const address = wss.address() as AddressInfo;
    expect(address.address).toBe('127.0.0.1');
    expect(address.family).toBe('IPv4');
    expect(address.port).toBeGreaterThan(0);
  });

  it('answers a plain HTTP request with 426 Upgrade Required', async () => {
    const { port } = await listening();
    const response = await new Promise<{ status?: number; type?: string; body: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
      }).on('error', reject);
    });
    expect(response).toEqual({ status: 426, type: 'text/plain', body: 'Upgrade Required' });
  });

  it("emits 'connection' with the WebSocket and the request", async () => {
    const { wss, port } = await listening();
    const connection = new Promise<[WebSocket, IncomingMessage]>((resolve) =>
      wss.once('connection', (ws: WebSocket, req: IncomingMessage) => resolve([ws, req])),
    );
    await open(`ws://127.0.0.1:${port}/a?b=c`);
    const [ws, req] = await connection;
    expect(ws).toBeInstanceOf(WebSocket);
    expect(req.url).toBe('/a?b=c');
  });

  it("forwards the HTTP server's 'error'", async () => {
    const { port } = await listening();
    const second = track(new WebSocketServer({ port, host: '127.0.0.1' }));
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => second.once('error', resolve));
    expect(error.code).toBe('EADDRINUSE');
  });

  it("close() stops listening, emits 'close' and calls back; a second close() reports an error", async () => {
    const { wss } = await listening();
    const first = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    expect(first).toBeUndefined();
    expect(wss.address()).toBeNull();
    const second = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    expect(second).toEqual(new Error('The server is not running'));
  });

  it("close() leaves open connections alone; 'close' follows the last one", async () => {
    const { wss, port } = await listening();
    const client = await open(`ws://127.0.0.1:${port}`);
    let emitted = false;
    wss.close(() => (emitted = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(emitted).toBe(false);
    expect(client.readyState).toBe(WsClient.OPEN);
    client.terminate();
    await closed(wss);
    expect(emitted).toBe(true);
  });
});

describe('server mode', () => {
  it("takes upgrades from the given server and forwards its 'listening'", async () => {
    const server = trackHttp(createServer());
    const wss = track(new WebSocketServer({ server }));
    const listened = new Promise((resolve) => wss.once('listening', resolve));
    server.listen(0, '127.0.0.1');
    await listened;
    expect(wss.address()).toEqual(server.address());
    const connection = new Promise((resolve) => wss.once('connection', resolve));
    await open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(await connection).toBeInstanceOf(WebSocket);
  });

  it("close() detaches from the server but leaves it listening; 'close' waits for tracked clients", async () => {
    const server = trackHttp(createServer());
    const wss = track(new WebSocketServer({ server }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const client = await open(`ws://127.0.0.1:${port}`);

    let emitted = false;
    wss.close(() => (emitted = true));
    expect(server.listenerCount('upgrade')).toBe(0);
    expect(server.listening).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(emitted).toBe(false);

    client.terminate();
    await closed(wss);
    expect(wss.clients.size).toBe(0);
  });

  it("with clientTracking false, has no clients and emits 'close' on the next tick", async () => {
    const server = trackHttp(createServer());
    const wss = track(new WebSocketServer({ server, clientTracking: false }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(wss.clients).toBeUndefined();
    const done = closed(wss);
    wss.close();
    await done;
  });
});

describe('noServer mode', () => {
  it('address() throws', () => {
    expect(() => new WebSocketServer({ noServer: true }).address()).toThrow(
      new Error('The server is operating in "noServer" mode'),
    );
  });

  it("upgrades through handleUpgrade and emits no 'connection' of its own", async () => {
    const wss = track(new WebSocketServer({ noServer: true }));
    let emitted = false;
    wss.on('connection', () => (emitted = true));
    const server = trackHttp(createServer());
    const upgraded = new Promise<WebSocket>((resolve) =>
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        wss.handleUpgrade(req, socket, head, resolve),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(await upgraded).toBeInstanceOf(WebSocket);
    expect(wss.clients.size).toBe(1);
    expect(emitted).toBe(false);
  });

  it('throws when handleUpgrade is called twice with the same socket', async () => {
    const wss = track(new WebSocketServer({ noServer: true }));
    const server = trackHttp(createServer());
    const second = new Promise<unknown>((resolve) =>
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss.handleUpgrade(req, socket, head, () => undefined);
        try {
          wss.handleUpgrade(req, socket, head, () => undefined);
          resolve(undefined);
        } catch (error) {
          resolve(error);
        }
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    expect(await second).toEqual(
      new Error(
        'server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration',
      ),
    );
  });
});

describe('clients', () => {
  it('holds each open connection and drops it when it closes', async () => {
    const { wss, port } = await listening();
    const serverSides: WebSocket[] = [];
    wss.on('connection', (ws: WebSocket) => serverSides.push(ws));
    const first = await open(`ws://127.0.0.1:${port}`);
    await open(`ws://127.0.0.1:${port}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(wss.clients.size).toBe(2);
    expect([...wss.clients]).toEqual(serverSides);

    const gone = closed(serverSides[0]);
    first.terminate();
    await gone;
    expect([...wss.clients]).toEqual([serverSides[1]]);
  });

  it('uses the WebSocket class given in options', async () => {
    class Tagged extends WebSocket {}
    const wss = track(new WebSocketServer({ port: 0, host: '127.0.0.1', WebSocket: Tagged }));
    await new Promise((resolve) => wss.once('listening', resolve));
    const connection = new Promise((resolve) => wss.once('connection', resolve));
    await open(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    expect(await connection).toBeInstanceOf(Tagged);
  });
});

describe("'headers' event", () => {
  it('hands over the response head to inspect and change before it is written', async () => {
    const { wss, port } = await listening();
    let seenUrl: string | undefined;
    wss.on('headers', (headers: string[], req: IncomingMessage) => {
      expect(headers[0]).toBe('HTTP/1.1 101 Switching Protocols');
      seenUrl = req.url;
      headers.push('Set-Cookie: session=abc');
    });
    const client = new WsClient(`ws://127.0.0.1:${port}/h`);
    cleanups.push(() => client.terminate());
    const response = await new Promise<IncomingMessage>((resolve) => client.once('upgrade', resolve));
    expect(response.headers['set-cookie']).toEqual(['session=abc']);
    expect(seenUrl).toBe('/h');
  });
});

describe("'wsClientError' event", () => {
  const badKey =
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: nope\r\nSec-WebSocket-Version: 13\r\n\r\n';

  it('with a listener, hands it the error, the socket and the request, and writes nothing itself', async () => {
    const { wss, port } = await listening();
    let seen: [Error, IncomingMessage] | undefined;
    wss.on('wsClientError', (error: Error, socket: Duplex, req: IncomingMessage) => {
      seen = [error, req];
      socket.end('HTTP/1.1 418 I\'m a Teapot\r\nContent-Length: 0\r\n\r\n');
    });
    expect(await untilClosed(port, badKey)).toBe("HTTP/1.1 418 I'm a Teapot\r\nContent-Length: 0\r\n\r\n");
    expect(seen?.[0]).toEqual(new Error('Missing or invalid Sec-WebSocket-Key header'));
    expect(seen?.[1].headers['sec-websocket-key']).toBe('nope');
  });

  it('without a listener, the server answers 400 itself', async () => {
    const { port } = await listening();
    expect(await untilClosed(port, badKey)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*Missing or invalid Sec-WebSocket-Key header$/);
  });

  it('is not emitted for a path mismatch or a verifyClient refusal, as in ws', async () => {
    const { wss, port } = await listening({ path: '/only', verifyClient: () => false });
    let emitted = 0;
    wss.on('wsClientError', () => emitted++);
    const good = badKey.replace('nope', KEY);
    expect(await untilClosed(port, good)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(await untilClosed(port, good.replace('GET /', 'GET /only'))).toMatch(/^HTTP\/1\.1 401 Unauthorized\r\n/);
    expect(emitted).toBe(0);
  });
});
