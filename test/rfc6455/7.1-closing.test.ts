/**
 * RFC 6455 section 7.1: the closing handshake. Both initiators, the echoed code, who closes TCP first
 * (7.1.1: the server), the close timeout for a peer that never answers, and terminate().
 * Peers: ws's client from npm, and raw TCP peers written here to see the bytes and the FIN.
 */
import { connect, Socket } from 'net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/websocket';
import { HandServer, Ws, once, startHandServer, startRawServer } from '../api/harness';
import { acceptKey } from '../../src/handshake/accept-key';

let server: HandServer | null = null;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  if (server !== null) await server.close();
  server = null;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** A masked (all-zero key) close frame from a client: section 5.3 requires the mask bit. */
function clientClose(code?: number, reason = ''): Buffer {
  const body = code === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
  return Buffer.concat([Buffer.from([0x88, 0x80 | body.length, 0, 0, 0, 0]), body]);
}

/** A raw TCP client that performs the opening handshake and then records bytes and the FIN. */
async function rawClient(url: string): Promise<{ socket: Socket; bytes: () => Buffer; sawEnd: () => boolean }> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.setNoDelay();
  socket.write(
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let received = Buffer.alloc(0);
  let ended = false;
  // allowHalfOpen is false by default for net.connect: keep our side open to see who ends first.
  socket.on('end', () => {
    ended = true;
  });
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  });
  while (received.indexOf('\r\n\r\n') === -1) await once(socket, 'data');
  received = received.subarray(received.indexOf('\r\n\r\n') + 4);
  return { socket, bytes: () => received, sawEnd: () => ended };
}

describe('RFC 6455 7.1 closing handshake, server role', () => {
  it('7.1.2/5.5.1: a received close is echoed with its code, then the server ends TCP first', async () => {
    server = await startHandServer();
    const client = await rawClient(server.url);
    cleanups.push(() => client.socket.destroy());
    const ours = await server.next();
    const closed = once<[number, Buffer]>(ours, 'close');
    client.socket.write(clientClose(4001, 'bye'));
    while (!client.sawEnd()) await once(client.socket, 'end');
    // The echo: FIN + close, unmasked (server), code 4001, the same reason.
    expect(client.bytes()).toEqual(Buffer.from([0x88, 0x05, 0x0f, 0xa1, ...Buffer.from('bye')]));
    client.socket.end();
    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([4001, 'bye']);
  });

  it('7.1.5: a close without a body is echoed without one; the code is 1005', async () => {
    server = await startHandServer();
    const client = await rawClient(server.url);
    cleanups.push(() => client.socket.destroy());
    const ours = await server.next();
    const closed = once<[number]>(ours, 'close');
    client.socket.write(clientClose());
    while (!client.sawEnd()) await once(client.socket, 'end');
    expect(client.bytes()).toEqual(Buffer.from([0x88, 0x00]));
    client.socket.end();
    expect((await closed)[0]).toBe(1005);
  });

  it('server-initiated: ws client echoes, both sides see the code, wasClean', async () => {
    server = await startHandServer();
    const peer = new Ws.WebSocket(server.url);
    const ours = await server.next();
    await once(peer, 'open');
    const peerClose = once<[number, Buffer]>(peer, 'close');
    const cleanFlags: boolean[] = [];
    ours.addEventListener('close', (event: { wasClean: boolean }) => cleanFlags.push(event.wasClean));
    const ourClose = once<[number, Buffer]>(ours, 'close');
    ours.close(1001, 'going away');
    expect(ours.readyState).toBe(WebSocket.CLOSING);
    const [peerCode, peerReason] = await peerClose;
    const [code, reason] = await ourClose;
    expect([peerCode, peerReason.toString()]).toEqual([1001, 'going away']);
    expect([code, reason.toString()]).toEqual([1001, 'going away']);
    expect(cleanFlags).toEqual([true]);
    expect(ours.readyState).toBe(WebSocket.CLOSED);
  });

  it('closeTimeout: a peer that never answers is cut off, with 1006', async () => {
    server = await startHandServer({ closeTimeout: 100 });
    const client = await rawClient(server.url);
    cleanups.push(() => client.socket.destroy());
    const ours = await server.next();
    const closed = once<[number]>(ours, 'close');
    ours.close(1000);
    const [code] = await closed;
    expect(code).toBe(1006);
    expect(client.bytes()).toEqual(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
  });

  it('terminate() destroys the socket at once: 1006 on both sides', async () => {
    server = await startHandServer();
    const peer = new Ws.WebSocket(server.url);
    const ours = await server.next();
    await once(peer, 'open');
    const peerClose = once<[number]>(peer, 'close');
    const ourClose = once<[number]>(ours, 'close');
    ours.terminate();
    expect(ours.readyState).toBe(WebSocket.CLOSING);
    expect((await ourClose)[0]).toBe(1006);
    expect((await peerClose)[0]).toBe(1006);
  });
});

describe('RFC 6455 7.1 closing handshake, client role', () => {
  /** A raw server that answers the handshake, echoes a close frame, and ends TCP only when told. */
  async function echoingServer(): Promise<{ url: string; sockets: Socket[]; sawEnd: () => boolean }> {
    const sockets: Socket[] = [];
    let ended = false;
    const raw = await startRawServer((req, socket) => {
      sockets.push(socket);
      socket.on('end', () => {
        ended = true;
      });
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'] as string)}\r\n\r\n`,
      );
      socket.on('data', (chunk: Buffer) => {
        if ((chunk[0] & 0x0f) !== 0x08) return;
        // Unmask the client's close body and echo it unmasked (section 5.5.1).
        const length = chunk[1] & 0x7f;
        const key = chunk.subarray(2, 6);
        const body = Buffer.from(chunk.subarray(6, 6 + length).map((byte, i) => byte ^ key[i & 3]));
        socket.write(Buffer.concat([Buffer.from([0x88, body.length]), body]));
      });
    });
    cleanups.push(() => raw.close());
    return { url: `ws://127.0.0.1:${raw.port}`, sockets, sawEnd: () => ended };
  }

  it('7.1.1: after both close frames the client waits for the server to close TCP', async () => {
    const raw = await echoingServer();
    const client = new WebSocket(raw.url);
    await once(client, 'open');
    const closed = once<[number, Buffer]>(client, 'close');
    client.close(1000, 'done');
    while (!client._closeFrameReceived) await turns(1);
    await turns(20);
    expect(raw.sawEnd()).toBe(false);
    expect(client.readyState).toBe(WebSocket.CLOSING);
    raw.sockets[0].end();
    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([1000, 'done']);
  });

  it('7.1.1: a server that never closes TCP is cut off after closeTimeout', async () => {
    const raw = await echoingServer();
    const client = new WebSocket(raw.url, { closeTimeout: 100 });
    await once(client, 'open');
    const closed = once<[number]>(client, 'close');
    client.close(4002);
    expect((await closed)[0]).toBe(4002);
    expect(client._closeFrameReceived && client._closeFrameSent).toBe(true);
  });

  it('client-initiated against ws server: both see the code, the server closes TCP', async () => {
    server = null;
    const wss = new Ws.WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise((resolve) => wss.close(resolve)));
    await once(wss, 'listening');
    const peerClosed = new Promise<[number, string]>((resolve) =>
      wss.once('connection', (peer) => peer.once('close', (code, reason) => resolve([code, reason.toString()]))),
    );
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    await once(client, 'open');
    const closed = once<[number, Buffer]>(client, 'close');
    client.close(3000, 'app');
    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([3000, 'app']);
    expect(await peerClosed).toEqual([3000, 'app']);
  });
});
