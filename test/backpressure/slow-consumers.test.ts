/**
 * Slow consumers: a subscriber whose client stops reading (its socket paused) is held to
 * maxBackpressure, measured on its socket's writableLength, while the others receive everything;
 * 'conflate' delivers the latest value per key; closeOnBackpressureLimit closes it with 1008
 * (RFC 6455 section 7.4.1, policy violation) and nothing else is affected.
 */
import type { Socket } from 'net';
import { afterEach, expect, it } from 'vitest';
import { Harness, Pair, WsClient, socketOf, startServer, waitFor } from '../pubsub/peers';

const LIMIT = 128 * 1024;
const MESSAGE = 32 * 1024;
/** A bound on the test, not a timing: far more than loopback's socket buffers can absorb. */
const MAX_MESSAGES = 4000;

let harness: Harness | null = null;

afterEach(async () => {
  await harness?.close();
  harness = null;
});

function clientSocket(client: WsClient): Socket {
  return (client as unknown as { _socket: Socket })._socket;
}

function message(index: number): Buffer {
  const data = Buffer.alloc(MESSAGE, index & 0xff);
  data.writeUInt32BE(index, 0);
  return data;
}

/**
 * Publishes numbered messages, one per turn, each once the fast subscriber has received the one
 * before (so that the fast one is never behind), until `done` says so. Returns the largest
 * writableLength the slow subscriber's socket reached.
 */
async function publishUntil(fast: Pair, slow: Pair, done: () => boolean): Promise<{ sent: number; peak: number }> {
  const socket = socketOf(slow.server);
  let peak = 0;
  let sent = 0;
  while (!done()) {
    if (sent === MAX_MESSAGES) throw new Error('the slow subscriber was never held back');
    harness?.wss.publish('t', message(sent));
    sent++;
    peak = Math.max(peak, socket.writableLength);
    await fast.until(sent);
  }
  return { sent, peak };
}

it('holds a subscriber that stops reading to maxBackpressure while the others get everything', async () => {
  harness = await startServer({ maxBackpressure: LIMIT });
  const fast = await harness.connect();
  const slow = await harness.connect();
  fast.server.subscribe('t');
  slow.server.subscribe('t');
  clientSocket(slow.client).pause();

  const { sent, peak } = await publishUntil(fast, slow, () => slow.server.backpressureStats.dropped >= 200);

  expect(fast.received).toHaveLength(sent);
  fast.received.forEach((data, index) => expect((data as Buffer).readUInt32BE(0)).toBe(index));
  expect(fast.server.backpressureStats.dropped).toBe(0);
  // The check runs before each write, so one message may pass the limit, never two.
  expect(peak).toBeGreaterThan(LIMIT);
  expect(peak).toBeLessThanOrEqual(LIMIT + MESSAGE + 16);
  // What was published meanwhile (sent × 32 KiB) is far more than the slow one holds now.
  expect(sent * MESSAGE).toBeGreaterThan(4 * LIMIT);
  expect(socketOf(slow.server).writableLength).toBeLessThanOrEqual(LIMIT + MESSAGE + 16);
  expect(slow.server.backpressureStats).toMatchObject({ backpressured: true, held: 0 });

  // Once the client reads again, the connection drains and gets what is published next.
  const drained = new Promise((resolve) => slow.server.once('drain', resolve));
  clientSocket(slow.client).resume();
  await drained;
  harness.wss.publish('t', 'after drain');
  await waitFor(() => slow.received.at(-1) === 'after drain');
  // What it got before is what was published before it fell behind, in order, without gaps.
  const numbers = slow.received.slice(0, -1).map((data) => (data as Buffer).readUInt32BE(0));
  expect(numbers).toEqual(numbers.map((_, index) => index));
  expect(numbers.length).toBe(sent - slow.server.backpressureStats.dropped);
});

it("'conflate' delivers the latest value per key to a slow subscriber", async () => {
  harness = await startServer({ maxBackpressure: LIMIT });
  const fast = await harness.connect();
  const slow = await harness.connect();
  fast.server.subscribe('t');
  slow.server.subscribe('t');
  slow.server.slowConsumerPolicy = 'conflate';
  clientSocket(slow.client).pause();
  const { sent } = await publishUntil(fast, slow, () => slow.server.backpressureStats.backpressured);

  const keys = 5;
  const rounds = 40;
  for (let round = 0; round < rounds; round++) {
    for (let key = 0; key < keys; key++) {
      harness.wss.publish('t', JSON.stringify({ key, round }), { conflationKey: `k${key}` });
    }
  }
  await fast.until(sent + keys * rounds);
  expect(slow.server.backpressureStats).toMatchObject({ held: keys, conflated: keys * (rounds - 1) });

  clientSocket(slow.client).resume();
  const latest = new Map<number, number>();
  await waitFor(() => {
    for (const data of slow.received) {
      if (typeof data !== 'string') continue;
      const { key, round } = JSON.parse(data) as { key: number; round: number };
      latest.set(key, round);
    }
    return latest.size === keys;
  });
  const updates = slow.received.filter((data) => typeof data === 'string');
  expect(updates).toHaveLength(keys);
  expect([...latest.entries()].sort()).toEqual(Array.from({ length: keys }, (_, key) => [key, rounds - 1]));
  expect(slow.server.backpressureStats.held).toBe(0);
});

it('closeOnBackpressureLimit closes the slow subscriber with 1008 and nothing else is affected', async () => {
  harness = await startServer({ maxBackpressure: LIMIT, closeOnBackpressureLimit: true });
  const fast = await harness.connect();
  const slow = await harness.connect();
  fast.server.subscribe('t');
  slow.server.subscribe('t');
  clientSocket(slow.client).pause();
  const { sent } = await publishUntil(fast, slow, () => slow.server.readyState !== slow.server.OPEN);

  harness.wss.publish('t', 'still flowing');
  await fast.until(sent + 1);
  expect(fast.received[sent]).toBe('still flowing');
  expect(fast.server.readyState).toBe(fast.server.OPEN);

  const closed = new Promise<number>((resolve) => slow.client.once('close', resolve));
  clientSocket(slow.client).resume();
  expect(await closed).toBe(1008);
  expect(fast.client.readyState).toBe(fast.client.OPEN);
  await waitFor(() => harness?.wss.numSubscribers('t') === 1);
});
