/**
 * On a real socket whose peer stopped reading, the frames sent meanwhile (small ones through the
 * connection's backlog, src/buffers/backlog.ts; large ones as header + payload; pings; publishes to a
 * topic it subscribed to) reach the peer, once it reads again, byte for byte and in the order they
 * were sent (RFC 6455 section 5: frames back to back), and every send callback runs without an error.
 * The expected bytes are built by test/helpers/frames.ts, not by the Sender.
 */
import type { AddressInfo } from 'net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/websocket-server';
import type { WebSocket } from '../../src/websocket';
import { OPCODE, buildFrame } from '../helpers/frames';
import { endedAfterEach } from '../helpers/ended-after-each';
import { NonReadingPeer, openNonReadingPeer } from '../helpers/non-reading-peer';

const { clients } = endedAfterEach();
let server: WebSocketServer | null = null;
afterEach(async () => {
  const wss = server;
  server = null;
  if (wss === null) return;
  for (const ws of wss.clients) ws.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

/** Far beyond what loopback's socket buffers take, so most of it waits in the server. */
const SEND_BYTES = 8 * 1024 * 1024;

/** A server and one connection to it whose peer stopped reading; `onConnection` runs first. */
async function stalledConnection(onConnection: (ws: WebSocket) => void = () => {}) {
  const wss = (server = new WebSocketServer({ host: '127.0.0.1', port: 0 }));
  await new Promise((resolve) => wss.once('listening', resolve));
  const connected = new Promise<WebSocket>((resolve) =>
    wss.once('connection', (ws: WebSocket) => {
      onConnection(ws);
      resolve(ws);
    }),
  );
  const peer = await openNonReadingPeer((wss.address() as AddressInfo).port, '/', (socket) => clients.push(socket));
  return { wss, ws: await connected, peer };
}

/** Lets the peer read again and resolves with everything it gets, once that is `length` bytes. */
function readAll(peer: NonReadingPeer, length: number): Promise<Buffer> {
  const received: Buffer[] = [];
  let receivedBytes = 0;
  return new Promise((resolve) => {
    peer.socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      receivedBytes += chunk.length;
      if (receivedBytes >= length) resolve(Buffer.concat(received));
    });
    peer.socket.resume();
  });
}

it('frames sent while the peer does not read arrive in order and byte for byte once it does', async () => {
  const { ws, peer } = await stalledConnection();

  const expected: Uint8Array[] = [];
  let callbacks = 0;
  const errors: Error[] = [];
  const done = (error?: Error): void => {
    callbacks++;
    if (error) errors.push(error);
  };
  let sent = 0;
  let sends = 0;
  for (let round = 0; sent < SEND_BYTES; round++) {
    // One tick's sends: tiny, medium and large frames and a ping, numbered so that a swap shows.
    for (let i = 0; i < 50; i++, sends++) {
      const tiny = Buffer.alloc(4 + (sends % 40));
      tiny.writeUInt32BE(sends);
      const frames =
        sends % 25 === 0
          ? [{ opcode: OPCODE.BINARY, payload: Buffer.alloc(20_000 + (sends % 7), sends % 251) }]
          : sends % 10 === 0
            ? [{ opcode: OPCODE.PING, payload: tiny }]
            : [{ opcode: OPCODE.BINARY, payload: tiny }, { opcode: OPCODE.TEXT, payload: 'x'.repeat(3000 + (sends % 5)) }];
      for (const frame of frames) {
        if (frame.opcode === OPCODE.PING) ws.ping(frame.payload, false, done);
        else if (frame.opcode === OPCODE.TEXT) ws.send(frame.payload, done);
        else ws.send(frame.payload, { binary: true }, done);
        const bytes = buildFrame(frame);
        expected.push(bytes);
        sent += bytes.length;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(ws.bufferedAmount).toBeGreaterThan(SEND_BYTES / 2);

  expect((await readAll(peer, sent)).equals(Buffer.concat(expected))).toBe(true);
  await new Promise((resolve) => setImmediate(resolve));
  expect(errors).toEqual([]);
  expect(callbacks).toBe(expected.length);
  expect(ws.bufferedAmount).toBe(0);
}, 20_000);

it('a subscriber that does not read gets its sends and the publishes in call order, also when a publish follows a send in one tick', async () => {
  const { wss, ws, peer } = await stalledConnection((connection) => {
    connection.subscribe('ticks');
    connection.subscribe('news');
  });
  const expected: Uint8Array[] = [];
  let sent = 0;
  let sends = 0;
  const push = (bytes: Uint8Array): void => {
    expected.push(bytes);
    sent += bytes.length;
  };
  while (sent < SEND_BYTES) {
    // publish, send, publish to another topic, publish: the 'news' share is written when the next
    // 'ticks' frame closes it, and the last share at the end of the tick, both after the send the
    // connection holds (its backlog), not before it.
    for (let i = 0; i < 50; i++, sends++) {
      const update = Buffer.alloc(8 + (sends % 50));
      update.writeUInt32BE(sends);
      const direct = Buffer.alloc(20 + (sends % 30), sends % 256);
      wss.publish('ticks', update, { binary: true });
      push(buildFrame({ opcode: OPCODE.BINARY, payload: update }));
      ws.send(direct, { binary: true });
      push(buildFrame({ opcode: OPCODE.BINARY, payload: direct }));
      const news = `news ${sends}`;
      wss.publish('news', news, { binary: false });
      push(buildFrame({ opcode: OPCODE.TEXT, payload: news }));
      const text = `tick ${sends}`;
      wss.publish('ticks', text, { binary: false });
      push(buildFrame({ opcode: OPCODE.TEXT, payload: text }));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(ws.bufferedAmount).toBeGreaterThan(SEND_BYTES / 4);
  expect((await readAll(peer, sent)).equals(Buffer.concat(expected))).toBe(true);
}, 20_000);
