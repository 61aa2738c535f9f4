/**
 * undici 7's WebSocket client -> simdws's WebSocketServer: the same exchanges as the Chromium test,
 * from the client Node itself ships. undici also sends pings, which a browser cannot, so the
 * server's automatic pong (RFC 6455 section 5.5.3) is checked from the client's side too.
 */
import { Blob } from 'node:buffer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEchoServer } from './helpers/echo-server';
import type { EchoServer, ServerConnection } from './helpers/echo-server';
import { MIB, UNICODE_CLOSE_REASON, UNICODE_SAMPLE, patternBytes } from './helpers/payload';
import { connectUndici } from './helpers/undici-client';
import type { UndiciClient } from './helpers/undici-client';

let server: EchoServer;
const clients: UndiciClient[] = [];

beforeAll(async () => {
  server = await startEchoServer();
});

afterAll(async () => {
  await server?.stop();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.release();
  expect(server.errors).toEqual([]);
});

async function connect(binaryType: 'arraybuffer' | 'blob'): Promise<{ client: UndiciClient; peer: ServerConnection }> {
  const client = await connectUndici(server.wsUrl, binaryType);
  clients.push(client);
  // undici offers permessage-deflate; the server's default (ws's) is not to negotiate it (RFC 7692 section 5).
  expect(client.socket.extensions).toBe('');
  return { client, peer: await server.connections.next() };
}

async function bytesOf(data: string | ArrayBuffer | Blob): Promise<Buffer> {
  if (typeof data === 'string') throw new Error(`expected a binary message, got text of length ${data.length}`);
  return Buffer.from(data instanceof Blob ? await data.arrayBuffer() : data);
}

async function expectTextEcho(client: UndiciClient, peer: ServerConnection, text: string): Promise<void> {
  client.socket.send(text);
  const message = await peer.messages.next();
  expect(message.isBinary).toBe(false);
  expect(message.data.toString('utf8') === text).toBe(true);
  const echo = await client.messages.next();
  expect(typeof echo).toBe('string');
  expect(echo === text).toBe(true);
}

async function expectBytesEcho(
  client: UndiciClient,
  peer: ServerConnection,
  form: 'arraybuffer' | 'blob' | 'view',
  length: number,
  seed: number,
): Promise<void> {
  const bytes = patternBytes(length, seed);
  client.socket.send(form === 'blob' ? new Blob([bytes]) : form === 'view' ? bytes : bytes.buffer);
  const message = await peer.messages.next();
  expect(message.isBinary).toBe(true);
  expect(message.data.length).toBe(length);
  expect(message.data.equals(bytes)).toBe(true);
  const echo = await client.messages.next();
  expect(echo instanceof (form === 'blob' ? Blob : ArrayBuffer)).toBe(true);
  expect((await bytesOf(echo)).equals(bytes)).toBe(true);
}

async function closeCleanly(client: UndiciClient): Promise<void> {
  client.socket.close(1000);
  expect((await client.closed).wasClean).toBe(true);
}

describe('undici -> simdws server: data frames (RFC 6455 section 5.6)', () => {
  it('a text message arrives as text and is echoed as text', async () => {
    const { client, peer } = await connect('arraybuffer');
    await expectTextEcho(client, peer, 'hello simdws');
    await closeCleanly(client);
  });

  it('unicode text (2-, 3- and 4-byte UTF-8, ZWJ sequences) survives both directions', async () => {
    const { client, peer } = await connect('arraybuffer');
    await expectTextEcho(client, peer, UNICODE_SAMPLE);
    await closeCleanly(client);
  });

  it('ArrayBuffer and typed-array messages at every payload-length encoding (5.2: 7, 16 and 64 bits)', async () => {
    const { client, peer } = await connect('arraybuffer');
    for (const [seed, length] of [0, 1, 125, 126, 127, 65535, 65536, 100_003].entries()) {
      await expectBytesEcho(client, peer, seed % 2 === 0 ? 'arraybuffer' : 'view', length, seed);
    }
    await closeCleanly(client);
  });

  it('a Blob is sent as a binary message and the echo arrives as a Blob', async () => {
    const { client, peer } = await connect('blob');
    await expectBytesEcho(client, peer, 'blob', 4099, 7);
    await closeCleanly(client);
  });

  it.each([
    ['1 MiB', MIB],
    ['16 MiB', 16 * MIB],
  ])('a %s binary message round-trips intact', async (_label, length) => {
    const { client, peer } = await connect('arraybuffer');
    await expectBytesEcho(client, peer, 'arraybuffer', length, 42);
    await closeCleanly(client);
  }, 120_000);

  it('a 1 MiB text message of multi-byte characters round-trips (UTF-8 split across chunks)', async () => {
    const { client, peer } = await connect('arraybuffer');
    await expectTextEcho(client, peer, UNICODE_SAMPLE.repeat(Math.ceil(MIB / Buffer.byteLength(UNICODE_SAMPLE))));
    await closeCleanly(client);
  }, 60_000);
});

describe('undici -> simdws server: control frames (RFC 6455 section 5.5)', () => {
  it("the client's ping is answered with a pong carrying the same data, and no message (5.5.2, 5.5.3)", async () => {
    const { client, peer } = await connect('arraybuffer');
    client.ping(Buffer.from('ping from undici'));
    expect((await peer.pings.next()).toString()).toBe('ping from undici');
    expect((await client.pongs.next()).toString()).toBe('ping from undici');
    await expectTextEcho(client, peer, 'after ping');
    expect(client.messages.pending).toBe(0);
    await closeCleanly(client);
  });

  it("the server's ping is answered by undici with a pong carrying the same data", async () => {
    const { client, peer } = await connect('arraybuffer');
    peer.socket.ping(Buffer.from('are you there?'));
    expect((await peer.pongs.next()).toString()).toBe('are you there?');
    await expectTextEcho(client, peer, 'after ping');
    await closeCleanly(client);
  });

  it('the client closes with a code and reason: the server sees both and echoes the code (5.5.1, 7.4)', async () => {
    const { client, peer } = await connect('arraybuffer');
    client.socket.close(4000, 'client says bye');
    expect(await peer.closed).toEqual({ code: 4000, reason: 'client says bye' });
    expect(await client.closed).toEqual({ code: 4000, reason: 'client says bye', wasClean: true });
  });

  it('a close reason with multi-byte characters reaches the server intact (7.1.6)', async () => {
    const { client, peer } = await connect('arraybuffer');
    client.socket.close(1000, UNICODE_CLOSE_REASON);
    expect(await peer.closed).toEqual({ code: 1000, reason: UNICODE_CLOSE_REASON });
    expect((await client.closed).wasClean).toBe(true);
  });

  it('the server closes with a code and reason: the client sees both in a clean close (7.1.5)', async () => {
    const { client, peer } = await connect('arraybuffer');
    peer.socket.close(4001, 'server says bye');
    expect(await client.closed).toEqual({ code: 4001, reason: 'server says bye', wasClean: true });
    // The server's 'close' reports the peer's answering close frame: the code comes back (5.5.1),
    // the reason is the peer's choice (undici sends none).
    expect((await peer.closed).code).toBe(4001);
  });
});
