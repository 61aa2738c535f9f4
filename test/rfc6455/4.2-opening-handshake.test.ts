/**
 * RFC 6455 section 4.2: the server's side of the opening handshake, over raw TCP on 127.0.0.1 with
 * hand-written requests, checking the response bytes exactly.
 */
import { createServer, Server as HttpServer } from 'http';
import { AddressInfo, connect } from 'net';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerOptions, VerifyClientCallback, VerifyClientInfo, WebSocketServer } from '../../src/websocket-server';
import { untilClosed } from '../helpers/raw-exchange';

/** The sample nonce of section 1.3 and the accept value the RFC gives for it. */
const SAMPLE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const SAMPLE_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

type Fields = Record<string, string | null>;

/** A handshake request; a field set to null is left out. */
function request(fields: Fields = {}, requestLine = 'GET / HTTP/1.1'): string {
  const all: Fields = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': SAMPLE_KEY,
    'Sec-WebSocket-Version': '13',
    ...fields,
  };
  let text = `${requestLine}\r\n`;
  for (const [name, value] of Object.entries(all)) if (value !== null) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** Sends `text` and resolves with the response head (through the blank line), then hangs up. */
function responseHead(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.destroy();
        resolve(received.slice(0, end + 4));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before a full response head: ${JSON.stringify(received)}`)));
    socket.write(text);
  });
}

function switching(extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n` +
    extra +
    '\r\n'
  );
}

const servers: WebSocketServer[] = [];
const httpServers: HttpServer[] = [];

afterEach(async () => {
  for (const wss of servers.splice(0)) {
    for (const ws of wss.clients ?? []) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
  for (const server of httpServers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(options: Omit<ServerOptions, 'port'> = {}): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  return { wss, port: (wss.address() as AddressInfo).port };
}

describe('4.2.2 item 5: the 101 response', () => {
  it('answers the sample key of section 1.3 with its accept value, byte for byte', async () => {
    const { port } = await listen();
    expect(await responseHead(port, request())).toBe(switching());
  });

  it('accepts Upgrade and Connection as case-insensitive lists (4.2.1 items 3 and 4)', async () => {
    const { port } = await listen();
    const head = await responseHead(port, request({ Upgrade: 'WebSocket', Connection: 'keep-alive, upgrade' }));
    expect(head).toBe(switching());
  });

  it('accepts protocol version 8 as ws does', async () => {
    const { port } = await listen();
    expect(await responseHead(port, request({ 'Sec-WebSocket-Version': '8' }))).toBe(switching());
  });

  it('emits connection with the WebSocket and the request', async () => {
    const { wss, port } = await listen();
    const connected = new Promise<[unknown, { url?: string }]>((resolve) =>
      wss.once('connection', (ws, req) => resolve([ws, req])),
    );
    await responseHead(port, request({}, 'GET /room?id=1 HTTP/1.1'));
    const [ws, req] = await connected;
    expect(wss.clients.has(ws as never)).toBe(true);
    expect(req.url).toBe('/room?id=1');
  });
});

describe('4.2.2 item 5.4: subprotocol selection', () => {
  it('picks the first offered subprotocol without handleProtocols', async () => {
    const { wss, port } = await listen();
    const connected = new Promise<{ protocol: string }>((resolve) => wss.once('connection', resolve));
    const head = await responseHead(port, request({ 'Sec-WebSocket-Protocol': 'chat, superchat' }));
    expect(head).toBe(switching('Sec-WebSocket-Protocol: chat\r\n'));
    expect((await connected).protocol).toBe('chat');
  });

  it('lets handleProtocols choose, with the offer in order and the request', async () => {
    let seen: string[] = [];
    const { port } = await listen({
      handleProtocols: (protocols, req) => {
        seen = [...protocols, req.headers.host ?? ''];
        return 'superchat';
      },
    });
    const head = await responseHead(port, request({ 'Sec-WebSocket-Protocol': 'chat, superchat' }));
    expect(head).toBe(switching('Sec-WebSocket-Protocol: superchat\r\n'));
    expect(seen).toEqual(['chat', 'superchat', '127.0.0.1']);
  });

  it('sends no Sec-WebSocket-Protocol when handleProtocols returns false', async () => {
    const { port } = await listen({ handleProtocols: () => false });
    expect(await responseHead(port, request({ 'Sec-WebSocket-Protocol': 'chat' }))).toBe(switching());
  });

  it('refuses a malformed Sec-WebSocket-Protocol with 400', async () => {
    const { port } = await listen();
    expect(await untilClosed(port, request({ 'Sec-WebSocket-Protocol': 'chat,,superchat' }))).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 37\r\n\r\n' +
        'Invalid Sec-WebSocket-Protocol header',
    );
  });

  it('refuses a duplicated subprotocol with 400 (section 11.3.4)', async () => {
    const { port } = await listen();
    const response = await untilClosed(port, request({ 'Sec-WebSocket-Protocol': 'chat, chat' }));
    expect(response.endsWith('\r\n\r\nInvalid Sec-WebSocket-Protocol header')).toBe(true);
    expect(response.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
  });
});

describe('Sec-WebSocket-Extensions with perMessageDeflate off (the default)', () => {
  it('does not negotiate an offered permessage-deflate', async () => {
    const { port } = await listen();
    const head = await responseHead(port, request({ 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' }));
    expect(head).toBe(switching());
  });

  it('ignores a malformed header, as ws does', async () => {
    const { port } = await listen();
    expect(await responseHead(port, request({ 'Sec-WebSocket-Extensions': ';;;' }))).toBe(switching());
  });

  it('refuses a malformed header with 400 when perMessageDeflate is on', async () => {
    const { port } = await listen({ perMessageDeflate: true });
    expect(await untilClosed(port, request({ 'Sec-WebSocket-Extensions': ';;;' }))).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 55\r\n\r\n' +
        'Invalid or unacceptable Sec-WebSocket-Extensions header',
    );
  });
});

describe('4.2.1: refused requests get an HTTP error and the socket is closed', () => {
  const cases: Array<[string, string, string]> = [
    [
      'a method other than GET gets 405 (4.2.1 item 1)',
      request({ 'Content-Length': '0' }, 'POST / HTTP/1.1'),
      'HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\n' +
        'Invalid HTTP method',
    ],
    [
      'an Upgrade without "websocket" gets 400 (4.2.1 item 3)',
      request({ Upgrade: 'h2c' }),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 22\r\n\r\n' +
        'Invalid Upgrade header',
    ],
    [
      'a missing Sec-WebSocket-Key gets 400 (4.2.1 item 5)',
      request({ 'Sec-WebSocket-Key': null }),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 43\r\n\r\n' +
        'Missing or invalid Sec-WebSocket-Key header',
    ],
    [
      'a key that is not 16 bytes of base64 gets 400 (4.2.1 item 5)',
      request({ 'Sec-WebSocket-Key': 'c2hvcnQ=' }),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 43\r\n\r\n' +
        'Missing or invalid Sec-WebSocket-Key header',
    ],
    [
      'a missing Sec-WebSocket-Version gets 400 naming 13 and 8 (4.2.1 item 6)',
      request({ 'Sec-WebSocket-Version': null }),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 47\r\n' +
        'Sec-WebSocket-Version: 13, 8\r\n\r\nMissing or invalid Sec-WebSocket-Version header',
    ],
    [
      'an unsupported Sec-WebSocket-Version gets 426 naming 13 (4.2.2 item 4)',
      request({ 'Sec-WebSocket-Version': '12' }),
      'HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 47\r\n' +
        'Sec-WebSocket-Version: 13\r\n\r\nMissing or invalid Sec-WebSocket-Version header',
    ],
  ];

  for (const [title, text, expected] of cases) {
    it(title, async () => {
      const { wss, port } = await listen();
      wss.on('connection', () => expect.unreachable('a refused handshake must not connect'));
      expect(await untilClosed(port, text)).toBe(expected);
    });
  }

  it('a Connection header without "Upgrade" gets 400 (4.2.1 item 4)', async () => {
    // Node's HTTP parser emits 'upgrade' only with Connection: Upgrade, so this arrives as a request
    // that the application hands over (noServer mode).
    const wss = new WebSocketServer({ noServer: true });
    servers.push(wss);
    const server = createServer((req) => wss.handleUpgrade(req, req.socket, Buffer.alloc(0), () => undefined));
    httpServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    expect(await untilClosed(port, request({ Connection: 'keep-alive' }))).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 25\r\n\r\n' +
        'Invalid Connection header',
    );
  });

  it('a path other than `path` gets a plain 400, before the subprotocol is read', async () => {
    const { port } = await listen({ path: '/echo' });
    const plain400 =
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\nBad Request';
    expect(await untilClosed(port, request({}, 'GET /other HTTP/1.1'))).toBe(plain400);
    expect(await untilClosed(port, request({ 'Sec-WebSocket-Protocol': ',' }, 'GET /echo/ HTTP/1.1'))).toBe(plain400);
    expect(await responseHead(port, request({}, 'GET /echo?x=1 HTTP/1.1'))).toBe(switching());
  });
});

describe('allowedOrigins (simdws; section 10.2)', () => {
  const forbidden =
    'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nForbidden';

  it('refuses a missing Origin with 403', async () => {
    const { port } = await listen({ allowedOrigins: ['https://game.example'] });
    expect(await untilClosed(port, request())).toBe(forbidden);
  });

  it('refuses an Origin not in the list with 403', async () => {
    const { port } = await listen({ allowedOrigins: ['https://game.example'] });
    expect(await untilClosed(port, request({ Origin: 'https://evil.example' }))).toBe(forbidden);
    expect(await untilClosed(port, request({ Origin: 'https://game.example.evil' }))).toBe(forbidden);
  });

  it('accepts a listed Origin, ignoring ASCII case', async () => {
    const { port } = await listen({ allowedOrigins: ['https://game.example'] });
    expect(await responseHead(port, request({ Origin: 'https://GAME.example' }))).toBe(switching());
  });

  it('reads Sec-WebSocket-Origin for protocol version 8', async () => {
    const { port } = await listen({ allowedOrigins: ['https://game.example'] });
    const head = await responseHead(
      port,
      request({ 'Sec-WebSocket-Version': '8', 'Sec-WebSocket-Origin': 'https://game.example' }),
    );
    expect(head).toBe(switching());
  });

  it('runs before verifyClient', async () => {
    let called = false;
    const { port } = await listen({
      allowedOrigins: ['https://game.example'],
      verifyClient: () => {
        called = true;
        return true;
      },
    });
    expect(await untilClosed(port, request({ Origin: 'https://evil.example' }))).toBe(forbidden);
    expect(called).toBe(false);
  });
});

describe('verifyClient', () => {
  it('sync: false refuses with 401', async () => {
    const { port } = await listen({ verifyClient: () => false });
    expect(await untilClosed(port, request())).toBe(
      'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized',
    );
  });

  it('sync: sees origin, secure and the request', async () => {
    let info: VerifyClientInfo | undefined;
    const { port } = await listen({
      verifyClient: (seen: VerifyClientInfo) => {
        info = seen;
        return true;
      },
    });
    expect(await responseHead(port, request({ Origin: 'http://127.0.0.1' }, 'GET /x HTTP/1.1'))).toBe(switching());
    expect(info?.origin).toBe('http://127.0.0.1');
    expect(info?.secure).toBe(false);
    expect(info?.req.url).toBe('/x');
  });

  it('async: refuses with the given code, message and headers', async () => {
    const { port } = await listen({
      verifyClient: (_info, done) => setImmediate(() => done(false, 403, 'Go away', { 'Retry-After': 30 })),
    });
    expect(await untilClosed(port, request())).toBe(
      'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 7\r\n' +
        'Retry-After: 30\r\n\r\nGo away',
    );
  });

  it('async: refuses with 401 and its reason phrase when no code is given', async () => {
    const { port } = await listen({ verifyClient: (_info, done) => done(false) });
    expect(await untilClosed(port, request())).toBe(
      'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized',
    );
  });

  it('async: accepts later', async () => {
    const { port } = await listen({ verifyClient: (_info, done) => setImmediate(() => done(true)) });
    expect(await responseHead(port, request())).toBe(switching());
  });

  it('async: a server closed while verifyClient decides answers 503', async () => {
    let decide: VerifyClientCallback = () => undefined;
    let markAsked: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => (markAsked = resolve));
    const { wss, port } = await listen({
      verifyClient: (_info, done) => {
        decide = done;
        markAsked();
      },
    });
    const response = untilClosed(port, request());
    await asked;
    wss.close();
    decide(true);
    expect(await response).toBe(
      'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\n' +
        'Service Unavailable',
    );
  });
});
