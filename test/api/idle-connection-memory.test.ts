/**
 * What an idle connection costs the server beyond its socket: the WebSocket, its Receiver and Sender,
 * and what they add to the socket. Measured as bytes of live objects per connection after a full
 * garbage collection, in a server process of its own, against the floor: a plain net server holding
 * the same sockets (test/api/fixtures/idle-memory-server.ts). The bound is generous (about 1.4 times
 * what simdws holds on Node 20 today), and under what it held before its per-connection state was made
 * lazy; the second check is that a connection which has exchanged messages goes back to that size: a
 * frame or a message split across chunks, and an automatic pong (RFC 6455 5.5.2), leave nothing behind.
 */
import { ChildProcess, spawn } from 'child_process';
import { connect, Socket } from 'net';
import { join } from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdleMemoryReply, IdleMemoryServerKind } from './fixtures/idle-memory-server';

const FIXTURE = join(__dirname, 'fixtures', 'idle-memory-server.ts');
const CONNECTIONS = 1_000;
/**
 * Opened (and, for simdws, used WARM_UP_EXCHANGES times) first, so that what a server makes once is not
 * counted per connection: the bytecode and type feedback of the functions a message runs through live
 * in the same heap spaces as objects.
 */
const WARM_UP = 200;
const WARM_UP_EXCHANGES = 5;
/** Bytes per idle connection simdws may hold beyond a bare net socket (about 700 on Node 20; 1,250 before). */
const ALLOWANCE_PER_CONNECTION = 1_000;
/** A net socket with its Readable and Writable state: a sanity check that the sockets were really held. */
const MIN_SOCKET_BYTES = 300;

const UPGRADE_REQUEST =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** A masked client frame (section 5.3) with a payload under 126 bytes. */
function clientFrame(firstByte: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const key = [0x11, 0x22, 0x33, 0x44];
  const frame = Buffer.alloc(6 + body.length);
  frame[0] = firstByte;
  frame[1] = 0x80 | body.length;
  frame.set(key, 2);
  for (let i = 0; i < body.length; i++) frame[6 + i] = body[i] ^ key[i & 3];
  return frame;
}

const servers: ChildProcess[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) if (server.exitCode === null) server.kill();
});

interface MeasuredServer {
  port: number;
  objectBytes(): Promise<number>;
}

function startServer(kind: IdleMemoryServerKind): Promise<MeasuredServer> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, kind], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  servers.push(child);
  const next = (): Promise<IdleMemoryReply> =>
    new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`the ${kind} server exited (${code})`)));
    });
  return next().then((listening) => ({
    port: (listening as { port: number }).port,
    objectBytes: async () => {
      child.send({ type: 'measure' });
      return ((await next()) as { objectBytes: number }).objectBytes;
    },
  }));
}

/** Resolves once `socket` has received `bytes` more bytes than it had. */
function receive(socket: Socket, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen < bytes) return;
      socket.removeListener('data', onData);
      resolve();
    };
    socket.on('data', onData);
  });
}

/** Opens a connection and completes the opening handshake (section 4.1); the 101 response is read whole. */
async function openUpgraded(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  // The two halves of exchange()'s split frame leave as two segments.
  socket.setNoDelay(true);
  sockets.push(socket);
  const response = await new Promise<string>((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (!text.includes('\r\n\r\n')) return;
      socket.removeListener('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(UPGRADE_REQUEST);
  });
  expect(response.startsWith('HTTP/1.1 101 ')).toBe(true);
  return socket;
}

async function openMany(port: number, count: number): Promise<Socket[]> {
  const opened: Socket[] = [];
  // A few at a time, so the accept backlog never overflows.
  for (let i = 0; i < count; i += 50) {
    opened.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => openUpgraded(port)))));
  }
  return opened;
}

/**
 * A text message in one frame, a text message in two fragments whose second frame arrives in a chunk
 * of its own after its first two bytes (section 5.4), and a ping; resolves when the pong is back.
 */
async function exchange(socket: Socket): Promise<void> {
  const second = clientFrame(0x80, 'and its end');
  socket.write(Buffer.concat([clientFrame(0x81, 'hello'), clientFrame(0x01, 'a message '), second.subarray(0, 2)]));
  await new Promise((resolve) => setTimeout(resolve, 5));
  const pong = receive(socket, 2 + 'ping'.length);
  socket.write(Buffer.concat([second.subarray(2), clientFrame(0x89, 'ping')]));
  await pong;
}

describe('memory per idle connection, beyond the socket (issue 5)', () => {
  it(`holds at most ${ALLOWANCE_PER_CONNECTION} bytes more than a net socket, idle and after messages`, async () => {
    const floor = await startServer('net');
    await openMany(floor.port, WARM_UP);
    const floorBefore = await floor.objectBytes();
    await openMany(floor.port, CONNECTIONS);
    const socketBytes = ((await floor.objectBytes()) - floorBefore) / CONNECTIONS;
    expect(socketBytes).toBeGreaterThan(MIN_SOCKET_BYTES);

    const simdws = await startServer('simdws');
    const warm = await openMany(simdws.port, WARM_UP);
    for (let round = 0; round < WARM_UP_EXCHANGES; round++) await Promise.all(warm.map(exchange));
    const before = await simdws.objectBytes();
    const clients = await openMany(simdws.port, CONNECTIONS);
    const idle = ((await simdws.objectBytes()) - before) / CONNECTIONS - socketBytes;
    expect(idle, `idle: ${idle.toFixed(0)} bytes beyond the socket`).toBeLessThanOrEqual(ALLOWANCE_PER_CONNECTION);

    await Promise.all(clients.map(exchange));
    const afterMessages = ((await simdws.objectBytes()) - before) / CONNECTIONS - socketBytes;
    expect(afterMessages, `after messages: ${afterMessages.toFixed(0)} bytes beyond the socket`).toBeLessThanOrEqual(
      ALLOWANCE_PER_CONNECTION,
    );
  }, 60_000);
});
