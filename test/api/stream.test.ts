/**
 * createWebSocketStream: a WebSocket as a Duplex, with ws 8's semantics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWebSocketStream } from '../../src/stream';
import { WebSocket } from '../../src/websocket';
import { HandServer, Ws, once, startHandServer } from './harness';

let server: HandServer | null = null;
afterEach(async () => {
  if (server !== null) await server.close();
  server = null;
});

async function pair() {
  server = await startHandServer();
  const peer = new Ws.WebSocket(server.url);
  const ours = await server.next();
  await once(peer, 'open');
  return { ours, peer };
}

describe('createWebSocketStream', () => {
  it('reads messages as chunks and writes chunks as messages', async () => {
    const { ours, peer } = await pair();
    const duplex = createWebSocketStream(ours);
    const got: Buffer[] = [];
    peer.on('message', (data: Buffer) => got.push(data));
    duplex.write('one');
    duplex.write(Buffer.from('two'));
    peer.send('three');
    const [chunk] = await once<[Buffer]>(duplex, 'data');
    expect(chunk.toString()).toBe('three');
    while (got.length < 2) await once(peer, 'message');
    expect(got.map(String)).toEqual(['one', 'two']);
    peer.terminate();
  });

  it('gives text messages as strings in readable object mode', async () => {
    const { ours, peer } = await pair();
    const duplex = createWebSocketStream(ours, { readableObjectMode: true });
    peer.send('text');
    peer.send(Buffer.from([1]));
    const chunks: unknown[] = [];
    duplex.on('data', (chunk) => chunks.push(chunk));
    while (chunks.length < 2) await once(duplex, 'data');
    expect(chunks).toEqual(['text', Buffer.from([1])]);
    peer.terminate();
  });

  it('end() starts the closing handshake; the readable side ends on close; then close', async () => {
    const { ours, peer } = await pair();
    const duplex = createWebSocketStream(ours);
    duplex.resume();
    const peerClose = once<[number]>(peer, 'close');
    const order: string[] = [];
    duplex.on('finish', () => order.push('finish'));
    duplex.on('end', () => order.push('end'));
    duplex.on('close', () => order.push('close'));
    duplex.end();
    expect((await peerClose)[0]).toBe(1005);
    await once(duplex, 'close');
    expect(order).toEqual(['finish', 'end', 'close']);
    expect(ours.readyState).toBe(WebSocket.CLOSED);
  });

  it('destroy() terminates the WebSocket', async () => {
    const { ours, peer } = await pair();
    const duplex = createWebSocketStream(ours);
    const peerClose = once<[number]>(peer, 'close');
    const duplexClose = once(duplex, 'close');
    duplex.destroy();
    await duplexClose;
    expect(ours.readyState).toBe(WebSocket.CLOSED);
    expect((await peerClose)[0]).toBe(1006);
  });

  it('a WebSocket error destroys the stream with it, without cutting off the close frame', async () => {
    const { ours, peer } = await pair();
    const duplex = createWebSocketStream(ours);
    const peerClose = once<[number]>(peer, 'close');
    const errors: Error[] = [];
    duplex.on('error', (error) => errors.push(error));
    const duplexClose = once(duplex, 'close');
    // An unmasked client frame (RFC 6455 5.1): ours fails with 1002.
    (peer as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x82, 0x00]));
    expect((await peerClose)[0]).toBe(1002);
    await duplexClose;
    expect(errors.map((error) => error.message)).toEqual(['Invalid WebSocket frame: MASK must be set']);
  });

  it('pauses the WebSocket when the readable buffer is full, resumes when read', async () => {
    const { ours, peer } = await pair();
    const duplex = createWebSocketStream(ours, { readableHighWaterMark: 4 });
    peer.send(Buffer.alloc(8));
    await once(ours, 'message');
    expect(ours.isPaused).toBe(true);
    duplex.read();
    expect(ours.isPaused).toBe(false);
    peer.terminate();
  });

  it('writes wait for open on a connecting client', async () => {
    server = await startHandServer();
    const client = new WebSocket(server.url);
    const duplex = createWebSocketStream(client);
    duplex.write('early');
    const ours = await server.next();
    const [data] = await once<[Buffer]>(ours, 'message');
    expect(data.toString()).toBe('early');
    client.terminate();
  });
});
