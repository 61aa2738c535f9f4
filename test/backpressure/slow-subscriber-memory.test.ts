/**
 * A subscriber that stops reading costs the server at most maxBackpressure, measured as the server
 * process's memory (RSS, and the bytes of its ArrayBuffers, once garbage collection has nothing more
 * to free), not assumed from writableLength; the subscribers that read receive every message, in
 * order and byte for byte.
 *
 * The server runs in a child process (fixtures/publishing-server.ts), so that only its memory is
 * measured. The fast subscribers are ws clients from npm; the slow one is a raw TCP socket that makes
 * the opening handshake (RFC 6455 section 4.1) and then never reads, so the kernel's socket buffers
 * fill and everything else stays in the server. Publishing is paced by the fast subscribers (never
 * more than two requests ahead of any of them), which bounds the run without timing anything. The
 * baseline is taken after a warm-up through the fast subscribers, before the slow one connects.
 *
 * Two measures, both bounded: the bytes of the process's ArrayBuffers (exact, and whole: a Buffer
 * kept for a short slice of it counts in full) and its RSS (pages). glibc keeps freed blocks resident
 * wherever a live one sits above them, so RSS after a GC also holds, at random, what garbage occupied
 * between two collections: in the interleaved case, 0.3 to 8.3 MB of growth for 1 MiB held (CI failed
 * at 6.4 MB). The server therefore asks glibc to give back its free pages (malloc_trim, through
 * test/helpers/allocator-trim.ts) before each sample. What stays resident is what is live, plus the
 * pages that live blocks share with free space: a Buffer smaller than a page can keep two pages
 * (PAGES_PER_HELD_BUFFER). There, ~1,000 held Buffers of 1,028 bytes kept 4.8-5.3 MB resident after
 * the trim.
 *
 * The control case runs the same scenario without maxBackpressure (ws's behaviour: queue everything)
 * and must exceed the bound, so the bound is shown to be able to fail.
 */
import { execFileSync } from 'child_process';
import { join } from 'path';
import WsClient from 'ws';
import { expect, it } from 'vitest';
import type {
  Measurement,
  MemorySample,
  PublishingServerConfig,
  PublishingServerReply,
  PublishingServerRequest,
} from './fixtures/publishing-server';
import { endedAfterEach } from '../helpers/ended-after-each';
import { startServerProcess } from '../helpers/ipc-server-process';
import { NonReadingPeer, openNonReadingPeer } from '../helpers/non-reading-peer';
import { OTHER_PATH, SLOW_PATH, fillPayload, frameLength } from './fixtures/published-payload';

const FIXTURE = join(__dirname, 'fixtures', 'publishing-server.ts');
const KiB = 1024;
const MiB = 1024 * KiB;

const LIMIT = 1 * MiB;
const FAST_SUBSCRIBERS = 3;

/** What is published; see PublishingServerConfig for perTick and otherPayloadLength. */
interface Traffic {
  readonly payloadLength: number;
  /** Messages per request: the pacing step. */
  readonly perRequest: number;
  readonly perTick: number;
  readonly otherPayloadLength: number;
}

/** "64 KiB-ish" (under 65,536: a 4-byte frame header), half the limit per tick. */
const LARGE: Traffic = { payloadLength: 65_520, perRequest: 8, perTick: 8, otherPayloadLength: 0 };
/**
 * 1 KiB, 64 per tick: a burst of a little over 64 KiB, which does not divide evenly into the server's
 * write batches, so some of each tick's frames leave as a short slice of a Buffer.
 */
const SMALL: Traffic = { payloadLength: 1 * KiB, perRequest: 64, perTick: 64, otherPayloadLength: 0 };
/**
 * Market data: one small update per topic per tick, on the slow subscriber's topic and on another, so
 * that what is allocated for one topic sits between what is allocated for the other. A Buffer under
 * 4 KiB from Buffer.allocUnsafe is a slice of Node's shared 8 KiB pool: held by a socket, it keeps the
 * whole pool slab alive.
 */
const INTERLEAVED: Traffic = { payloadLength: 1 * KiB, perRequest: 64, perTick: 1, otherPayloadLength: 3_000 };
/** Through the fast subscribers before the baseline: JIT, heap and socket buffers reach their working size. */
const WARM_UP_BYTES = 32 * MiB;
/**
 * What the slow subscriber may hold beyond the limit: the limit is checked before each frame, so one
 * frame may pass it; and a frame it holds may be a slice of a Buffer that also carries frames of the
 * same tick that it did not take (publishes batched per topic), up to 64 KiB.
 */
const BATCH_SLACK = 64 * KiB;
/** RSS also moves with V8's heap pages and code: measured up to 1.5 MiB here, after a GC and the trim. */
const RSS_ALLOWANCE = 4 * MiB;
const PAGE_BYTES = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }));
/** Each held Buffer can keep resident the pages it lies across, at most its length plus two pages. */
const PAGES_PER_HELD_BUFFER = 2;

function heldBound(frame: number): number {
  return LIMIT + frame + BATCH_SLACK;
}

/** heldBound in RSS: every Buffer held (at most one per frame) may keep two pages beyond its bytes. */
function residentBound(frame: number): number {
  const heldBuffers = Math.ceil(heldBound(frame) / frame);
  return heldBound(frame) + heldBuffers * PAGES_PER_HELD_BUFFER * PAGE_BYTES + RSS_ALLOWANCE;
}

interface PublishingServer {
  readonly port: number;
  readonly traffic: Traffic;
  published: number;
  request(request: PublishingServerRequest): Promise<PublishingServerReply>;
  measure(): Promise<Measurement>;
}

interface FastSubscriber {
  readonly client: WsClient;
  /** Messages received, each checked byte for byte against the one published with that number. */
  received: number;
  /** The first message that was not the one expected, described; null while all were right. */
  mismatch: string | null;
  until(count: number): Promise<void>;
}

interface Run {
  readonly server: PublishingServer;
  readonly fast: FastSubscriber[];
  readonly slow: NonReadingPeer;
  /** The server's memory before the slow subscriber connected. */
  readonly baseline: MemorySample;
  /** Messages published before it connected. */
  readonly joinedAt: number;
}

const { children, clients } = endedAfterEach();

/** Starts the fixture and resolves once it listens. */
async function startServer(options: PublishingServerConfig['options'], traffic: Traffic): Promise<PublishingServer> {
  const { payloadLength, perTick, otherPayloadLength } = traffic;
  const config: PublishingServerConfig = { options, payloadLength, perTick, otherPayloadLength };
  const child = await startServerProcess<PublishingServerRequest, PublishingServerReply>(
    FIXTURE,
    [JSON.stringify(config)],
    (process) => children.push(process),
  );
  const server: PublishingServer = {
    port: (child.ready as Extract<PublishingServerReply, { type: 'listening' }>).port,
    traffic,
    published: 0,
    request: (request) => child.request(request),
    async measure() {
      return (await server.request({ type: 'measure' })) as Measurement;
    },
  };
  return server;
}

/** A ws client that checks every message against the one published with the next number. */
async function connectFast(port: number, path: string, payloadLength: number): Promise<FastSubscriber> {
  const client = new WsClient(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false });
  clients.push(client);
  const expected = Buffer.allocUnsafe(payloadLength);
  const waiters: { count: number; resolve(): void; reject(error: Error): void }[] = [];
  const subscriber: FastSubscriber = {
    client,
    received: 0,
    mismatch: null,
    until(count) {
      if (subscriber.received >= count) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ count, resolve, reject }));
    },
  };
  client.on('message', (data: Buffer, isBinary: boolean) => {
    fillPayload(expected, subscriber.received);
    if (subscriber.mismatch === null && (!isBinary || !data.equals(expected))) {
      subscriber.mismatch = `message ${subscriber.received}: ${data.length} bytes, numbered ${data.readUInt32BE(0)}`;
    }
    subscriber.received++;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (subscriber.received >= waiters[i].count) waiters.splice(i, 1)[0].resolve();
    }
  });
  client.on('close', (code: number) => {
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`a fast subscriber was closed (${code})`));
  });
  await new Promise<void>((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  return subscriber;
}

/**
 * Publishes at least `bytes` of frames, one request at a time, each once every fast subscriber has
 * all but the last request's messages; returns once they have everything.
 */
async function publishPaced(server: PublishingServer, fast: FastSubscriber[], bytes: number): Promise<void> {
  const { payloadLength, perRequest } = server.traffic;
  const end = server.published + Math.ceil(bytes / frameLength(payloadLength));
  while (server.published < end) {
    const count = Math.min(perRequest, end - server.published);
    const reply = await server.request({ type: 'publish', count });
    server.published = (reply as Extract<PublishingServerReply, { type: 'published' }>).total;
    await Promise.all(fast.map((subscriber) => subscriber.until(server.published - count)));
  }
  await Promise.all(fast.map((subscriber) => subscriber.until(server.published)));
}

/**
 * The server, its fast subscribers (and the one to OTHER_TOPIC, if any: it reads as fast) warmed up,
 * the baseline, then the slow subscriber.
 */
async function setUp(options: PublishingServerConfig['options'], traffic: Traffic): Promise<Run> {
  const { payloadLength, perRequest, otherPayloadLength } = traffic;
  // The pacing keeps a fast subscriber under two requests behind: under the limit, which never touches it.
  expect(2 * perRequest * frameLength(Math.max(payloadLength, otherPayloadLength))).toBeLessThan(LIMIT);
  const server = await startServer(options, traffic);
  const fast: FastSubscriber[] = [];
  for (let i = 0; i < FAST_SUBSCRIBERS; i++) fast.push(await connectFast(server.port, '/fast', payloadLength));
  if (otherPayloadLength > 0) fast.push(await connectFast(server.port, OTHER_PATH, otherPayloadLength));
  await publishPaced(server, fast, WARM_UP_BYTES);
  const baseline = (await server.measure()).memory;
  const slow = await openNonReadingPeer(server.port, SLOW_PATH, (socket) => clients.push(socket));
  expect((await server.measure()).subscribers).toBe(FAST_SUBSCRIBERS + 1);
  return { server, fast, slow, baseline, joinedAt: server.published };
}

function growth(sample: MemorySample, baseline: MemorySample): { rss: number; arrayBuffers: number } {
  return { rss: sample.rss - baseline.rss, arrayBuffers: sample.arrayBuffers - baseline.arrayBuffers };
}

function expectEverythingDelivered(run: Run): void {
  for (const subscriber of run.fast) {
    expect(subscriber.mismatch).toBeNull();
    expect(subscriber.received).toBe(run.server.published);
  }
}

/**
 * Publishes `bytes` in `checkpoints` parts and checks after each that the slow subscriber held no
 * more than its bound and the fast ones got everything; then that, once it reads again, it gets every
 * frame not dropped and no more (the dropped count is exact).
 */
async function expectHeldToLimit(traffic: Traffic, bytes: number, checkpoints: number): Promise<void> {
  const run = await setUp({ maxBackpressure: LIMIT, slowConsumerPolicy: 'drop' }, traffic);
  const frame = frameLength(traffic.payloadLength);
  const bound = heldBound(frame);
  let report: Measurement | null = null;
  for (let checkpoint = 0; checkpoint < checkpoints; checkpoint++) {
    await publishPaced(run.server, run.fast, bytes / checkpoints);
    report = await run.server.measure();
    const grown = growth(report.memory, run.baseline);
    const where = `after ${run.server.published - run.joinedAt} messages`;
    expect(grown.arrayBuffers, `ArrayBuffer growth ${where}`).toBeLessThanOrEqual(bound);
    expect(grown.rss, `RSS growth ${where}`).toBeLessThanOrEqual(residentBound(frame));
    expectEverythingDelivered(run);
  }
  const slow = (report as Measurement).slow as NonNullable<Measurement['slow']>;
  expect(slow.readyState).toBe(WsClient.OPEN);
  // At its limit: the frame that took it over was the last one it got.
  expect(slow.bufferedAmount).toBeGreaterThan(LIMIT - frame);
  expect(slow.bufferedAmount).toBeLessThanOrEqual(LIMIT + frame);
  expect(slow.stats.dropped).toBeGreaterThan(0);
  expect((report as Measurement).otherCloses).toBe(0);

  const delivered = (run.server.published - run.joinedAt - slow.stats.dropped) * frame;
  const closed = new Promise<never>((_, reject) =>
    run.slow.socket.once('close', () => reject(new Error('the slow subscriber was closed'))),
  );
  const caughtUp = new Promise<void>((resolve) => {
    const check = (): void => {
      if (run.slow.frameBytes >= delivered) resolve();
    };
    run.slow.socket.on('data', check);
    check();
  });
  run.slow.socket.resume();
  await Promise.race([caughtUp, closed]);
  expect((await run.server.measure()).slow?.bufferedAmount).toBe(0);
  expect(run.slow.frameBytes).toBe(delivered);
}

it('holds a subscriber that stops reading to maxBackpressure in process memory while the others get everything', async () => {
  await expectHeldToLimit(LARGE, 256 * MiB, 4);
}, 45_000);

it('holds it there with small messages too, whose frames share Buffers with the other subscribers', async () => {
  await expectHeldToLimit(SMALL, 24 * MiB, 2);
}, 30_000);

it('holds it there when its small messages are interleaved with those of another topic, one of each per tick', async () => {
  await expectHeldToLimit(INTERLEAVED, 12 * MiB, 2);
}, 30_000);

it('control: without maxBackpressure the same subscriber grows the server by what is published to it', async () => {
  const run = await setUp({}, LARGE);
  const published = 64 * MiB;
  await publishPaced(run.server, run.fast, published);
  const report = await run.server.measure();
  const grown = growth(report.memory, run.baseline);

  // The kernel's socket buffers took a few MiB; everything else is queued in the process.
  expect(grown.arrayBuffers).toBeGreaterThan(published / 2);
  expect(grown.rss).toBeGreaterThan(4 * residentBound(frameLength(LARGE.payloadLength)));
  expect(report.slow?.stats.dropped).toBe(0);
  expectEverythingDelivered(run);
}, 30_000);

it('closeOnBackpressureLimit: the slow subscriber is closed, its memory returns, the others are unaffected', async () => {
  const run = await setUp(
    // Its close frame waits behind what it does not read: closeTimeout (ms) ends the connection.
    { maxBackpressure: LIMIT, closeOnBackpressureLimit: true, closeTimeout: 100 },
    LARGE,
  );

  // Far more than the kernel's socket buffers take: the slow one reaches its limit on the way.
  await publishPaced(run.server, run.fast, 32 * MiB);
  let report = await run.server.measure();
  expect(report.slow?.closeCalls).toEqual([1008]);
  // Publishing goes on while its closeTimeout runs out, until its 'close' event was emitted.
  for (let round = 0; report.slow?.closeEventCode === null; round++) {
    if (round === 1000) throw new Error('the slow subscriber was never closed');
    await publishPaced(run.server, run.fast, LARGE.perRequest * frameLength(LARGE.payloadLength));
    report = await run.server.measure();
  }
  await publishPaced(run.server, run.fast, 16 * MiB);
  report = await run.server.measure();
  const slow = report.slow as NonNullable<Measurement['slow']>;
  const grown = growth(report.memory, run.baseline);

  // RFC 6455 section 7.1.5: the peer never answered our 1008, so the connection closed abnormally (1006).
  expect(slow.closeCalls).toEqual([1008]);
  expect(slow.closeEventCode).toBe(1006);
  expect(slow.readyState).toBe(WsClient.CLOSED);
  expect(slow.socketDestroyed).toBe(true);
  expect(report.subscribers).toBe(FAST_SUBSCRIBERS);
  expect(grown.arrayBuffers).toBeLessThanOrEqual(BATCH_SLACK);
  expect(grown.rss).toBeLessThanOrEqual(RSS_ALLOWANCE);
  expectEverythingDelivered(run);
  expect(report.otherCloses).toBe(0);
  for (const subscriber of run.fast) expect(subscriber.client.readyState).toBe(WsClient.OPEN);

  // TCP ends for the slow one too: what it finds once it reads is followed by the end of the stream.
  const closed = new Promise<void>((resolve) => run.slow.socket.once('close', () => resolve()));
  run.slow.socket.resume();
  await closed;
}, 30_000);
