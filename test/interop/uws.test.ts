/**
 * simdws's client -> a uWebSockets.js server: an independent C++ implementation of RFC 6455 checks
 * our masking (section 5.3), framing (5.2) and closing handshake (7.1), and ours checks its frames.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from './helpers/peer';
import type { CloseInfo, ReceivedMessage } from './helpers/echo-server';
import { EventQueue } from './helpers/event-queue';
import { MIB, UNICODE_CLOSE_REASON, UNICODE_SAMPLE, patternBytes } from './helpers/payload';
import { loadUwsNative, startUwsEcho, uwsBinaryShipped } from './helpers/uws-server';
import type { UwsConnection, UwsEchoServer } from './helpers/uws-server';

interface OurClient {
  readonly socket: WebSocket;
  readonly messages: EventQueue<ReceivedMessage>;
  readonly errors: Error[];
  readonly closed: Promise<CloseInfo>;
}

let server: UwsEchoServer;

// uWebSockets.js ships binaries for Node ABIs up to Node 20's; on a newer Node there is no peer.
const shipped = uwsBinaryShipped();
if (!shipped) console.warn(`uWebSockets.js ships no binary for Node ${process.version}: its interop tests are skipped`);

beforeAll(async () => {
  if (shipped) server = await startUwsEcho();
});

afterAll(() => {
  server?.stop();
});

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

async function connect(): Promise<{ client: OurClient; peer: UwsConnection }> {
  const socket = new WebSocket(server.url);
  const messages = new EventQueue<ReceivedMessage>();
  const errors: Error[] = [];
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
    messages.push({ data: toBuffer(data), isBinary }),
  );
  socket.on('error', (error: Error) => errors.push(error));
  const closed = new Promise<CloseInfo>((resolve) => {
    socket.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') }));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { client: { socket, messages, errors, closed }, peer: await server.connections.next() };
}

async function expectEcho(client: OurClient, peer: UwsConnection, data: Buffer, isBinary: boolean): Promise<void> {
  client.socket.send(data, { binary: isBinary });
  const received = await peer.messages.next();
  expect(received.isBinary).toBe(isBinary);
  expect(received.data.length).toBe(data.length);
  expect(received.data.equals(data)).toBe(true);
  const echo = await client.messages.next();
  expect(echo.isBinary).toBe(isBinary);
  expect(echo.data.equals(data)).toBe(true);
}

async function closeCleanly(client: OurClient): Promise<void> {
  client.socket.close(1000);
  expect((await client.closed).code).toBe(1000);
  expect(client.errors).toEqual([]);
}

it.skipIf(!shipped)('uWebSockets.js runs its native binary, not the JavaScript fallback', () => {
  const uws = loadUwsNative();
  expect(typeof uws.App).toBe('function');
  expect(typeof uws.us_socket_local_port).toBe('function');
});

describe.skipIf(!shipped)('simdws client -> uWebSockets.js: data frames (RFC 6455 section 5.6)', () => {
  it('text, unicode text and binary messages echo with their opcode', async () => {
    const { client, peer } = await connect();
    await expectEcho(client, peer, Buffer.from('hello uWebSockets'), false);
    await expectEcho(client, peer, Buffer.from(UNICODE_SAMPLE), false);
    for (const [seed, length] of [0, 1, 125, 126, 127, 65535, 65536, 100_003].entries()) {
      await expectEcho(client, peer, Buffer.from(patternBytes(length, seed)), true);
    }
    await closeCleanly(client);
  });

  it.each([
    ['1 MiB', MIB],
    ['16 MiB', 16 * MIB],
  ])('a %s binary message round-trips intact', async (_label, length) => {
    const { client, peer } = await connect();
    await expectEcho(client, peer, Buffer.from(patternBytes(length, 42)), true);
    await closeCleanly(client);
  }, 120_000);

  it('a 1 MiB text message of multi-byte characters round-trips', async () => {
    const { client, peer } = await connect();
    const text = UNICODE_SAMPLE.repeat(Math.ceil(MIB / Buffer.byteLength(UNICODE_SAMPLE)));
    await expectEcho(client, peer, Buffer.from(text), false);
    await closeCleanly(client);
  }, 60_000);
});

describe.skipIf(!shipped)('simdws client -> uWebSockets.js: closing handshake (RFC 6455 section 7)', () => {
  it('our client closes with a code and reason: uWebSockets.js sees both', async () => {
    const { client, peer } = await connect();
    client.socket.close(4000, 'client says bye');
    expect(await peer.closed).toEqual({ code: 4000, reason: 'client says bye' });
    expect((await client.closed).code).toBe(4000);
    expect(client.errors).toEqual([]);
  });

  it('a multi-byte close reason reaches uWebSockets.js intact (7.1.6)', async () => {
    const { client, peer } = await connect();
    client.socket.close(1000, UNICODE_CLOSE_REASON);
    expect(await peer.closed).toEqual({ code: 1000, reason: UNICODE_CLOSE_REASON });
    expect((await client.closed).code).toBe(1000);
  });

  it('uWebSockets.js closes with a code and reason: our client sees both', async () => {
    const { client, peer } = await connect();
    peer.end(4001, 'server says bye');
    expect(await client.closed).toEqual({ code: 4001, reason: 'server says bye' });
    expect((await peer.closed).code).toBe(4001);
    expect(client.errors).toEqual([]);
  });
});
