/**
 * sendWithStatus (SUCCESS / BACKPRESSURE / DROPPED, uWebSockets.js's values), 'drain', and inbound
 * flow control: a connection over maxBackpressure is not read from until it drains.
 */
import type { Socket } from 'net';
import { afterEach, describe, expect, it } from 'vitest';
import { SendStatus } from '../../src/backpressure/send-status';
import { Harness, WsClient, socketOf, startServer, waitFor } from '../pubsub/peers';

const LIMIT = 64 * 1024;
const CHUNK = 16 * 1024;
const MAX_SENDS = 10_000;

let harness: Harness | null = null;

afterEach(async () => {
  await harness?.close();
  harness = null;
});

function clientSocket(client: WsClient): Socket {
  return (client as unknown as { _socket: Socket })._socket;
}

/** Sends until a send reports something other than SUCCESS, a turn apart so loopback buffers fill. */
async function sendUntilNotSuccess(send: () => number): Promise<{ status: number; sent: number }> {
  for (let sent = 1; sent <= MAX_SENDS; sent++) {
    const status = send();
    if (status !== SendStatus.SUCCESS) return { status, sent };
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error('never backpressured');
}

describe('sendWithStatus', () => {
  it('has uWebSockets.js values', () => {
    expect(SendStatus).toEqual({ BACKPRESSURE: 0, SUCCESS: 1, DROPPED: 2 });
  });

  it('reports BACKPRESSURE past maxBackpressure, then DROPPED, then SUCCESS after drain', async () => {
    harness = await startServer({ maxBackpressure: LIMIT });
    const a = await harness.connect();
    expect(a.server.sendWithStatus('hello')).toBe(SendStatus.SUCCESS);
    await a.until(1);
    clientSocket(a.client).pause();

    const payload = Buffer.alloc(CHUNK, 1);
    const { status, sent } = await sendUntilNotSuccess(() => a.server.sendWithStatus(payload));
    expect(status).toBe(SendStatus.BACKPRESSURE);
    expect(a.server.bufferedAmount).toBeGreaterThan(LIMIT);
    expect(a.server.sendWithStatus(payload)).toBe(SendStatus.DROPPED);
    expect(a.server.sendWithStatus('x')).toBe(SendStatus.DROPPED);
    expect(a.server.backpressureStats).toMatchObject({ dropped: 2, backpressured: true });

    const drained = new Promise((resolve) => a.server.once('drain', resolve));
    clientSocket(a.client).resume();
    await drained;
    expect(a.server.bufferedAmount).toBe(0);
    expect(a.server.sendWithStatus('after')).toBe(SendStatus.SUCCESS);
    await a.until(1 + sent + 1);
    expect(a.received.at(-1)).toBe('after');
  });

  it('without maxBackpressure never drops: BACKPRESSURE past the socket highWaterMark, then drain', async () => {
    harness = await startServer();
    const a = await harness.connect();
    clientSocket(a.client).pause();
    const payload = Buffer.alloc(CHUNK, 2);
    const { status, sent } = await sendUntilNotSuccess(() => a.server.sendWithStatus(payload));
    expect(status).toBe(SendStatus.BACKPRESSURE);
    expect(a.server.sendWithStatus(payload)).toBe(SendStatus.BACKPRESSURE);
    expect(a.server.backpressureStats.dropped).toBe(0);
    const drained = new Promise((resolve) => a.server.once('drain', resolve));
    clientSocket(a.client).resume();
    await drained;
    await a.until(sent + 1);
  });

  it('DROPPED after close; a ws user who never calls it sees no drain listener', async () => {
    harness = await startServer();
    const a = await harness.connect();
    expect(socketOf(a.server).listenerCount('drain')).toBe(0);
    expect(a.server.backpressureStats.dropped).toBe(0);
    a.server.close();
    expect(a.server.sendWithStatus('late')).toBe(SendStatus.DROPPED);
  });

  it('with closeOnBackpressureLimit, a send over the limit closes with 1008', async () => {
    harness = await startServer({ maxBackpressure: LIMIT, closeOnBackpressureLimit: true });
    const a = await harness.connect();
    clientSocket(a.client).pause();
    const payload = Buffer.alloc(CHUNK, 3);
    await sendUntilNotSuccess(() => a.server.sendWithStatus(payload));
    expect(a.server.sendWithStatus(payload)).toBe(SendStatus.DROPPED);
    expect(a.server.readyState).toBe(a.server.CLOSING);
    const closed = new Promise<number>((resolve) => a.client.once('close', resolve));
    clientSocket(a.client).resume();
    expect(await closed).toBe(1008);
  });
});

/** The client sends (and does not read) until the server stops reading it; returns how many it sent. */
async function floodUntilReadingPaused(client: WsClient, server: { backpressureStats: { readingPaused: boolean } }): Promise<number> {
  const payload = Buffer.alloc(CHUNK, 4);
  let sent = 0;
  while (!server.backpressureStats.readingPaused) {
    if (sent >= MAX_SENDS) throw new Error('the server never stopped reading');
    for (let i = 0; i < 20; i++) client.send(payload);
    sent += 20;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return sent;
}

describe('inbound flow control', () => {
  it('stops reading a connection whose outbound is over maxBackpressure, until it drains', async () => {
    harness = await startServer({ maxBackpressure: LIMIT });
    const a = await harness.connect();
    let echoed = 0;
    a.server.on('message', (data: Buffer) => {
      echoed++;
      a.server.send(data);
    });
    clientSocket(a.client).pause();
    // The echoes pile up unread: the server stops reading this connection.
    const total = await floodUntilReadingPaused(a.client, a.server);
    const readWhilePaused = echoed;
    expect(readWhilePaused).toBeLessThan(total);
    expect(a.server.bufferedAmount).toBeGreaterThan(LIMIT);
    expect(socketOf(a.server).isPaused()).toBe(true);
    expect(a.server.isPaused).toBe(false);

    clientSocket(a.client).resume();
    await a.until(total);
    expect(echoed).toBe(total);
    await waitFor(() => !a.server.backpressureStats.readingPaused);
  });

  it('a user pause() is kept when the connection drains', async () => {
    harness = await startServer({ maxBackpressure: LIMIT });
    const a = await harness.connect();
    a.server.on('message', (data: Buffer) => a.server.send(data));
    clientSocket(a.client).pause();
    const total = await floodUntilReadingPaused(a.client, a.server);
    a.server.pause();
    const drained = new Promise((resolve) => a.server.once('drain', resolve));
    clientSocket(a.client).resume();
    await drained;
    expect(socketOf(a.server).isPaused()).toBe(true);
    a.server.resume();
    await a.until(total);
  });
});
