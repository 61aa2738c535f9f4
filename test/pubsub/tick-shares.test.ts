/**
 * The tick's publishes to a topic are framed into one Buffer (src/pubsub/topic-batch.ts) and each
 * subscriber's share of it leaves in one write. These tests pin what splits a share and what does
 * not: a direct send, ws.publish by a subscriber, a subscriber joining mid-tick, a batch that fills
 * up, two compression variants, and maxBackpressure counting a share that is not written yet. Every
 * order is checked on the wire (what the client received), every write count on the server's socket.
 */
import { afterEach, expect, it } from 'vitest';
import { BATCH_MAX_BYTES } from '../../src/pubsub/topic-batch';
import { Harness, afterTick, logWrites, socketOf, startServer, waitFor } from './peers';

const RSV1 = 0x40;
let harness: Harness | null = null;

afterEach(async () => {
  await harness?.close();
  harness = null;
});

/** An unmasked server text frame of under 126 bytes (RFC 6455 section 5.2). */
function textFrame(text: string): Buffer {
  return Buffer.concat([Buffer.from([0x81, Buffer.byteLength(text)]), Buffer.from(text)]);
}

it('a direct send between two publishes of one tick: call order on the wire, one writev for that subscriber', async () => {
  harness = await startServer();
  const a = await harness.connect();
  const b = await harness.connect();
  a.server.subscribe('t');
  b.server.subscribe('t');
  const logA = logWrites(socketOf(a.server));
  const logB = logWrites(socketOf(b.server));

  harness.wss.publish('t', 'p1');
  a.server.send('d2');
  harness.wss.publish('t', 'p3');
  await Promise.all([a.until(3), b.until(2)]);

  expect(a.received).toEqual(['p1', 'd2', 'p3']);
  expect(Buffer.concat(logA.chunks)).toEqual(Buffer.concat([textFrame('p1'), textFrame('d2'), textFrame('p3')]));
  // Its share was split around the send, and the pieces still left in one system call.
  expect(logA.batches).toHaveLength(1);
  expect(logA.batches[0]).toHaveLength(3);
  // The other subscriber's share was not split: one write of both frames.
  expect(b.received).toEqual(['p1', 'p3']);
  expect(logB.chunks).toEqual([Buffer.concat([textFrame('p1'), textFrame('p3')])]);
  expect(logB.batches).toHaveLength(1);
});

it('ws.publish in the middle of a tick: the publisher gets the rest, the others one shared Buffer', async () => {
  harness = await startServer();
  const pairs = [await harness.connect(), await harness.connect(), await harness.connect()];
  const logs = pairs.map((pair) => {
    pair.server.subscribe('room');
    return logWrites(socketOf(pair.server));
  });
  const [publisher, b, c] = pairs;

  harness.wss.publish('room', 'm1');
  expect(publisher.server.publish('room', 'm2')).toBe(true);
  harness.wss.publish('room', 'm3');
  await Promise.all([publisher.until(2), b.until(3), c.until(3)]);

  expect(publisher.received).toEqual(['m1', 'm3']);
  expect(b.received).toEqual(['m1', 'm2', 'm3']);
  expect(c.received).toEqual(['m1', 'm2', 'm3']);
  expect(logs[1].chunks).toHaveLength(1);
  expect(logs[2].chunks).toHaveLength(1);
  expect(logs[2].chunks[0]).toBe(logs[1].chunks[0]);
  expect(logs[0].batches).toHaveLength(1);
  expect(Buffer.concat(logs[0].chunks)).toEqual(Buffer.concat([textFrame('m1'), textFrame('m3')]));
});

it('a subscriber that joins mid-tick gets what follows, from the same Buffer as the others', async () => {
  harness = await startServer();
  const early = await harness.connect();
  const late = await harness.connect();
  early.server.subscribe('t');
  const earlyLog = logWrites(socketOf(early.server));
  const lateLog = logWrites(socketOf(late.server));

  harness.wss.publish('t', 'before');
  late.server.subscribe('t');
  harness.wss.publish('t', 'after');
  await Promise.all([early.until(2), late.until(1)]);

  expect(early.received).toEqual(['before', 'after']);
  expect(late.received).toEqual(['after']);
  expect(lateLog.chunks).toHaveLength(1);
  // One copy of the frames: the late share is a view of the same memory, from the second frame on.
  expect(lateLog.chunks[0].buffer).toBe(earlyLog.chunks[0].buffer);
  expect(lateLog.chunks[0].byteOffset).toBe(earlyLog.chunks[0].byteOffset + textFrame('before').length);
});

it('a subscriber that is behind gets a part of a batch as a copy, so it does not keep the rest alive', async () => {
  harness = await startServer();
  const early = await harness.connect();
  const behind = await harness.connect();
  const keepingUp = await harness.connect();
  early.server.subscribe('t');
  const logs = [early, behind, keepingUp].map((pair) => logWrites(socketOf(pair.server)));
  // Bytes already waiting in its socket: what it is written next waits behind them.
  socketOf(behind.server).cork();
  behind.server.send('queued');
  expect(socketOf(behind.server).writableLength).toBeGreaterThan(0);

  // Over 4 KiB in all, so the batch is a Buffer of its own, not a slice of Node's shared pool.
  const first = 'a'.repeat(3000);
  const second = 'b'.repeat(3000);
  harness.wss.publish('t', first);
  behind.server.subscribe('t');
  keepingUp.server.subscribe('t');
  harness.wss.publish('t', second);
  await afterTick();
  socketOf(behind.server).uncork();
  await Promise.all([early.until(2), behind.until(2), keepingUp.until(1)]);

  expect(early.received).toEqual([first, second]);
  expect(behind.received).toEqual(['queued', second]);
  expect(keepingUp.received).toEqual([second]);
  const batch = logs[0].chunks[0];
  expect(batch.length).toBe(2 * (4 + 3000));
  // The one keeping up shares the batch's memory; the one behind holds only its own frame.
  expect(logs[2].chunks[0].buffer).toBe(batch.buffer);
  const copied = logs[1].chunks[1];
  expect(copied.buffer).not.toBe(batch.buffer);
  expect(copied).toEqual(batch.subarray(4 + 3000));
});

it('a tick of publishes larger than a batch leaves in order, in shared writes of at most the batch size', async () => {
  harness = await startServer();
  const pairs = [await harness.connect(), await harness.connect()];
  const logs = pairs.map((pair) => {
    pair.server.subscribe('t');
    return logWrites(socketOf(pair.server));
  });
  const count = 40;
  const payload = (index: number): Buffer => Buffer.alloc(4000, index);
  for (let i = 0; i < count; i++) harness.wss.publish('t', payload(i));
  await Promise.all(pairs.map((pair) => pair.until(count)));

  for (const pair of pairs) {
    expect(pair.received.map((data, i) => Buffer.isBuffer(data) && data.equals(payload(i)))).toEqual(Array(count).fill(true));
  }
  const frameLength = 4 + 4000;
  const perBatch = Math.floor(BATCH_MAX_BYTES / frameLength);
  expect(logs[0].chunks).toHaveLength(Math.ceil(count / perBatch));
  logs[0].chunks.forEach((chunk, index) => {
    expect(chunk.length).toBeLessThanOrEqual(BATCH_MAX_BYTES);
    expect(logs[1].chunks[index]).toBe(chunk);
  });
});

it('compressed and plain subscribers: one write each per tick, one Buffer per variant', async () => {
  harness = await startServer({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
  const deflating = [await harness.connect({ perMessageDeflate: true }), await harness.connect({ perMessageDeflate: true })];
  const plain = await harness.connect({ perMessageDeflate: false });
  const pairs = [...deflating, plain];
  const logs = pairs.map((pair) => {
    pair.server.subscribe('t');
    return logWrites(socketOf(pair.server));
  });
  const texts = ['alpha '.repeat(100), 'beta '.repeat(100), 'gamma '.repeat(100)];
  for (const text of texts) harness.wss.publish('t', text);
  await Promise.all(pairs.map((pair) => pair.until(texts.length)));

  for (const pair of pairs) expect(pair.received).toEqual(texts);
  for (const log of logs) expect(log.chunks).toHaveLength(1);
  expect(logs[1].chunks[0]).toBe(logs[0].chunks[0]);
  expect(logs[2].chunks[0]).not.toBe(logs[0].chunks[0]);
  expect(logs[0].chunks[0][0] & RSV1).toBe(RSV1);
  expect(logs[2].chunks[0][0] & RSV1).toBe(0);
  expect(logs[0].chunks[0].length).toBeLessThan(logs[2].chunks[0].length / 4);
});

it('a subscriber whose variant changes mid-tick (the deflate threshold) gets each message once, in order', async () => {
  harness = await startServer({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 200 } });
  // Subscribed first, so the plain frame of each message is in the plain batch before the other is served.
  const plain = await harness.connect({ perMessageDeflate: false });
  const deflating = await harness.connect({ perMessageDeflate: true });
  plain.server.subscribe('t');
  deflating.server.subscribe('t');
  const log = logWrites(socketOf(deflating.server));
  const texts = ['small 1', 'large '.repeat(100), 'small 2'];
  for (const text of texts) harness.wss.publish('t', text);
  await Promise.all([plain.until(3), deflating.until(3)]);
  await afterTick();

  expect(deflating.received).toEqual(texts);
  expect(plain.received).toEqual(texts);
  // Three pieces (plain, compressed, plain) in one system call; only the middle one has RSV1.
  expect(log.batches).toHaveLength(1);
  expect(log.chunks.map((chunk) => chunk[0] & RSV1)).toEqual([0, RSV1, 0]);
});

it('bufferedAmount counts the share of the tick not written yet', async () => {
  harness = await startServer();
  const a = await harness.connect();
  a.server.subscribe('t');
  await afterTick();
  harness.wss.publish('t', Buffer.alloc(1000));
  expect(a.server.bufferedAmount).toBe(1004);
  await a.until(1);
  await waitFor(() => a.server.bufferedAmount === 0);
});

it('maxBackpressure counts the unwritten share: within one tick one message may pass the limit, the rest are dropped', async () => {
  const limit = 1000;
  harness = await startServer({ maxBackpressure: limit });
  const a = await harness.connect();
  a.server.subscribe('t');
  await afterTick();
  const frameLength = 2 + 120;
  const fit = Math.floor(limit / frameLength) + 1;
  const published = 20;
  for (let i = 0; i < published; i++) harness.wss.publish('t', String(i).padStart(120, '.'));
  // The default policy ('drop'): nothing is closed, the rest are counted.
  expect(a.server.backpressureStats.dropped).toBe(published - fit);
  expect(a.server.bufferedAmount).toBe(fit * frameLength);

  const drained = new Promise((resolve) => a.server.once('drain', resolve));
  await drained;
  harness.wss.publish('t', 'after drain');
  await a.until(fit + 1);
  expect(a.received).toEqual([...Array.from({ length: fit }, (_, i) => String(i).padStart(120, '.')), 'after drain']);
});

it('a subscriber whose peer ends TCP mid-tick still gets the tick’s publishes before our FIN', async () => {
  harness = await startServer();
  const a = await harness.connect();
  a.server.subscribe('t');
  harness.wss.publish('t', 'p1');
  harness.wss.publish('t', 'p2');
  // The peer's FIN, as the socket reports it (no close frame: RFC 6455 section 7.1.5's abnormal case).
  socketOf(a.server).emit('end');
  await a.until(2);
  expect(a.received).toEqual(['p1', 'p2']);
});

it('publishes wait for the end of a subscriber’s fragmented message (RFC 6455 section 5.4), then follow in order', async () => {
  harness = await startServer();
  const a = await harness.connect();
  const b = await harness.connect();
  a.server.subscribe('t');
  b.server.subscribe('t');

  a.server.send('part1-', { fin: false });
  harness.wss.publish('t', 'p1');
  await afterTick();
  await waitFor(() => socketOf(a.server).writableLength === 0);
  // Held, not written: the frame would land inside the message. It still counts as buffered.
  expect(a.server.bufferedAmount).toBe(textFrame('p1').length);
  await b.until(1);
  harness.wss.publish('t', 'p2');
  await afterTick();
  a.server.ping();
  a.server.send('part2', { fin: true });
  harness.wss.publish('t', 'p3');
  await Promise.all([a.until(4), b.until(3)]);

  // ws from npm fails the connection (1002) on a data frame inside a fragmented message.
  expect(a.received).toEqual(['part1-part2', 'p1', 'p2', 'p3']);
  expect(b.received).toEqual(['p1', 'p2', 'p3']);
  expect(a.server.bufferedAmount).toBe(0);
});
