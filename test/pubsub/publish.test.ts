/**
 * Topic pub/sub: subscriptions, order against direct sends, unsubscribe and close in the middle of a
 * tick's batch, and the frames built once: the tick's publishes to a topic in one Buffer, the same
 * object written to every subscriber, in one write each (test/pubsub/tick-shares.test.ts: the splits).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, afterTick, logWrites, socketOf, startServer, waitFor } from './peers';

let harness: Harness | null = null;

afterEach(async () => {
  await harness?.close();
  harness = null;
});

describe('subscriptions', () => {
  it('tracks topics per connection and subscribers per topic, and unsubscribes on close', async () => {
    harness = await startServer();
    const a = await harness.connect();
    const b = await harness.connect();
    expect(a.server.subscribe('news')).toBe(true);
    expect(a.server.subscribe('news')).toBe(false);
    expect(a.server.subscribe('sport')).toBe(true);
    expect(b.server.subscribe('news')).toBe(true);
    expect(a.server.isSubscribed('news')).toBe(true);
    expect(a.server.getTopics().sort()).toEqual(['news', 'sport']);
    expect(harness.wss.numSubscribers('news')).toBe(2);
    expect(a.server.unsubscribe('sport')).toBe(true);
    expect(a.server.unsubscribe('sport')).toBe(false);
    expect(harness.wss.numSubscribers('sport')).toBe(0);

    const closed = new Promise((resolve) => a.server.once('close', resolve));
    a.client.close();
    await closed;
    expect(harness.wss.numSubscribers('news')).toBe(1);
    expect(a.server.getTopics()).toEqual([]);
  });

  it('publishing to a topic without subscribers writes nothing and reports false', async () => {
    harness = await startServer();
    const a = await harness.connect();
    const log = logWrites(socketOf(a.server));
    expect(harness.wss.publish('nobody', 'hello')).toBe(false);
    a.server.subscribe('alone');
    // ws.publish goes to everyone else on the topic: here, no one.
    expect(a.server.publish('alone', 'hello')).toBe(false);
    await afterTick();
    expect(log.chunks).toEqual([]);
    expect(harness.wss.numSubscribers('nobody')).toBe(0);
  });

  it('ws.publish reaches the other subscribers, not the publisher', async () => {
    harness = await startServer();
    const a = await harness.connect();
    const b = await harness.connect();
    a.server.subscribe('room');
    b.server.subscribe('room');
    expect(a.server.publish('room', 'from a')).toBe(true);
    await b.until(1);
    a.server.send('direct');
    await a.until(1);
    expect(b.received).toEqual(['from a']);
    expect(a.received).toEqual(['direct']);
  });
});

describe('ordering', () => {
  it('keeps publishes and direct sends in call order, across topics and ticks', async () => {
    harness = await startServer();
    const a = await harness.connect();
    a.server.subscribe('x');
    a.server.subscribe('y');
    harness.wss.publish('x', 'p1');
    a.server.send('d2');
    harness.wss.publish('y', 'p3');
    harness.wss.publish('z', 'not subscribed');
    harness.wss.publish('x', Buffer.from('p4'));
    a.server.send('d5');
    await afterTick();
    harness.wss.publish('y', 'p6');
    a.server.send('d7');
    harness.wss.publish('x', 'p8');
    await a.until(7);
    expect(a.received.map(String)).toEqual(['p1', 'd2', 'p3', 'p4', 'd5', 'p6', 'd7', 'p8']);
  });

  it('an unsubscribe between two publishes of one tick gets the first and not the second', async () => {
    harness = await startServer();
    const a = await harness.connect();
    const b = await harness.connect();
    a.server.subscribe('t');
    b.server.subscribe('t');
    harness.wss.publish('t', 'm1');
    a.server.unsubscribe('t');
    harness.wss.publish('t', 'm2');
    a.server.send('end');
    await Promise.all([a.until(2), b.until(2)]);
    expect(a.received).toEqual(['m1', 'end']);
    expect(b.received).toEqual(['m1', 'm2']);
  });

  it('a subscriber that closes in the middle of a batch affects no one else', async () => {
    harness = await startServer();
    const gone = await harness.connect();
    const closing = await harness.connect();
    const stays = await harness.connect();
    for (const pair of [gone, closing, stays]) pair.server.subscribe('t');
    harness.wss.publish('t', 'm1');
    gone.server.terminate();
    harness.wss.publish('t', 'm2');
    closing.server.close(1000);
    harness.wss.publish('t', 'm3');
    const closeCode = new Promise<number>((resolve) => closing.client.once('close', resolve));
    await stays.until(3);
    expect(stays.received).toEqual(['m1', 'm2', 'm3']);
    // After its close frame a connection gets no data frame (RFC 6455 section 5.5.1).
    expect(await closeCode).toBe(1000);
    expect(closing.received).toEqual(['m1', 'm2']);
    await waitFor(() => harness?.wss.numSubscribers('t') === 1);
  });
});

describe('frame once, one write per subscriber per tick', () => {
  it('writes the same Buffer object to every subscriber, the whole tick in one write each', async () => {
    harness = await startServer();
    const pairs = [await harness.connect(), await harness.connect(), await harness.connect()];
    const logs = pairs.map((pair) => {
      pair.server.subscribe('t');
      return logWrites(socketOf(pair.server));
    });
    const binary = Buffer.alloc(300, 7);
    harness.wss.publish('t', 'first');
    harness.wss.publish('t', binary);
    harness.wss.publish('t', 'third', { binary: true });
    await Promise.all(pairs.map((pair) => pair.until(3)));

    // RFC 6455 section 5.2: three unmasked server frames, back to back in one Buffer.
    const frames = Buffer.concat([
      Buffer.from([0x81, 5]),
      Buffer.from('first'),
      Buffer.from([0x82, 126, 300 >> 8, 300 & 0xff]),
      binary,
      Buffer.from([0x82, 5]),
      Buffer.from('third'),
    ]);
    for (const log of logs) {
      expect(log.chunks).toHaveLength(1);
      expect(log.batches).toEqual([[log.chunks[0]]]);
      expect(log.chunks[0]).toBe(logs[0].chunks[0]);
    }
    expect(logs[0].chunks[0]).toEqual(frames);
    for (const pair of pairs) {
      expect(pair.received[0]).toBe('first');
      expect(pair.received[1]).toEqual(binary);
      expect(pair.received[2]).toEqual(Buffer.from('third'));
    }
  });

  it('a frame is a copy: changing the data after publish changes nothing sent', async () => {
    harness = await startServer();
    const a = await harness.connect();
    a.server.subscribe('t');
    const data = Buffer.from('original');
    harness.wss.publish('t', data);
    data.write('modified');
    await a.until(1);
    expect(a.received[0]).toEqual(Buffer.from('original'));
  });
});
