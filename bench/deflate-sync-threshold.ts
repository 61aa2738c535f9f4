/**
 * Where permessage-deflate should stop running a frame on the main thread and send it to zlib's thread
 * pool (src/extensions/permessage-deflate.ts, SYNC_MAX_INPUT_BYTES). Run:
 *
 *   node --expose-gc --import tsx bench/deflate-sync-threshold.ts
 *
 * PAIRS negotiated PerMessageDeflate pairs with ws's default parameters (context takeover both ways,
 * 15-bit windows, RFC 7692 section 7.1.1) each run a chain: the server deflates a JSON text message of
 * the given size, the client inflates it, and so on, all chains at once, as a server's connections
 * do. Each size runs with every frame on the main thread (`syncMaxInputBytes: Infinity`) and with every
 * frame on the thread pool (0), in paired, alternating rounds; the figures are medians. Besides
 * messages per second: the main thread's busy time per message (event-loop utilisation), i.e. how long
 * one message keeps every other connection waiting on the sync path, and the process's CPU time per
 * message (both threads). Measured twice: unpinned, where the thread pool may use the other core, and
 * in a child pinned to one core with taskset, as the load benchmark runs its servers (and as a cluster
 * with one worker per core runs), where the pool competes with the main thread for that core.
 *
 * Prints markdown and rewrites the "deflate-sync" section of bench/RESULTS.md. Runs from src/ through
 * tsx: a message costs tens of microseconds at least, so tsx's getter per imported constant does not
 * count. SIMDWS_BENCH_TIME_MS (default 400) sets the time per round; the whole run takes about a minute.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PerMessageDeflate, SYNC_MAX_INPUT_BYTES } from '../src/extensions/permessage-deflate';
import { format, parse } from '../src/handshake/extension-header';
import { machineInfo } from './lib/machine';
import { describePinning } from './lib/pin';
import { writeSection } from './lib/results-file';
import { Cell, markdownTable } from './lib/table';

const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');
const SIZES = [256, 1024, 4096, 8192, 16_384, 65_536, 262_144];
const PAIRS = 50;
const ROUNDS = 5;
/** Distinct messages per size, so context takeover does not turn every message into a back-reference. */
const VARIANTS = 32;
const ROUND_MS = Number(process.env.SIMDWS_BENCH_TIME_MS ?? 400);
/** Set in the pinned child: it prints its rows as JSON for the parent instead of writing the file. */
const CHILD_ENV = 'SIMDWS_BENCH_DEFLATE_SYNC_CHILD';

type Mode = 'sync' | 'async';

interface Round {
  readonly messagesPerSecond: number;
  /** Main-thread busy µs per message. */
  readonly mainMicros: number;
  /** User + system CPU µs per message, all threads. */
  readonly cpuMicros: number;
}

/** JSON records with pseudo-random numbers and words: compresses about as the load benchmark's JSON. */
function jsonMessage(size: number, seed: number): Buffer {
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  let x = seed * 2654435761;
  const next = (): number => (x = (x * 1103515245 + 12345) >>> 0);
  const records: string[] = [];
  let length = 2;
  while (length < size) {
    const record = JSON.stringify({ id: next() % 100000, name: words[next() % 8], price: (next() % 100000) / 100, ok: next() % 2 === 0 });
    records.push(record);
    length += record.length + 1;
  }
  return Buffer.from(`[${records.join(',')}]`.slice(0, size - 1) + ']');
}

function negotiatePair(syncMaxInputBytes: number): { server: PerMessageDeflate; client: PerMessageDeflate } {
  const client = new PerMessageDeflate({ syncMaxInputBytes }, false);
  const server = new PerMessageDeflate({ syncMaxInputBytes }, true);
  const response = server.accept(parse(format({ [PerMessageDeflate.extensionName]: client.offer() }))[PerMessageDeflate.extensionName]);
  client.accept(parse(format({ [PerMessageDeflate.extensionName]: response }))[PerMessageDeflate.extensionName]);
  return { server, client };
}

function roundTrip(server: PerMessageDeflate, client: PerMessageDeflate, message: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    server.compress(message, true, (error, payload) => {
      if (error !== null) return reject(error);
      client.decompress(payload as Buffer, true, (inflateError, result) => {
        if (inflateError !== null) return reject(inflateError);
        if ((result as Buffer).length !== message.length) return reject(new Error('round trip changed the message'));
        resolve();
      });
    });
  });
}

async function runRound(mode: Mode, messages: readonly Buffer[]): Promise<Round> {
  const pairs = Array.from({ length: PAIRS }, () => negotiatePair(mode === 'sync' ? Infinity : 0));
  let count = 0;
  const deadline = performance.now() + ROUND_MS;
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    pairs.map(async ({ server, client }, index) => {
      for (let i = index; performance.now() < deadline; i++) {
        await roundTrip(server, client, messages[i % messages.length]);
        count++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const busy = performance.eventLoopUtilization(elu);
  const used = process.cpuUsage(cpu);
  for (const { server, client } of pairs) {
    server.cleanup();
    client.cleanup();
  }
  return {
    messagesPerSecond: count / seconds,
    mainMicros: (busy.active * 1000) / count,
    cpuMicros: (used.user + used.system) / count,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

interface Measured {
  readonly rows: Cell[][];
  /** The first size at which the pool gave more messages per second, or null. */
  readonly crossover: number | null;
}

async function measure(): Promise<Measured> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const rows: Cell[][] = [];
  let crossover: number | null = null;
  for (const size of SIZES) {
    const messages = Array.from({ length: VARIANTS }, (_, seed) => jsonMessage(size, seed + size));
    const rounds: Record<Mode, Round[]> = { sync: [], async: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? (['sync', 'async'] as const) : (['async', 'sync'] as const)) {
        gc?.();
        rounds[mode].push(await runRound(mode, messages));
      }
    }
    const pick = (mode: Mode, key: keyof Round): number => median(rounds[mode].map((r) => r[key]));
    const ratio = pick('sync', 'messagesPerSecond') / pick('async', 'messagesPerSecond');
    if (crossover === null && ratio < 1) crossover = size;
    rows.push([
      String(size),
      pick('sync', 'messagesPerSecond'),
      pick('async', 'messagesPerSecond'),
      ratio,
      pick('sync', 'mainMicros'),
      pick('async', 'mainMicros'),
      pick('sync', 'cpuMicros'),
      pick('async', 'cpuMicros'),
    ]);
    console.error(`${describePinning()}: ${size} B: sync/pool ${ratio.toFixed(2)}`);
  }
  return { rows, crossover };
}

/** The same measurement in a child pinned to CPU 0, or null when taskset is missing or refused. */
function measurePinned(): Measured | null {
  const child = spawnSync('taskset', ['-c', '0', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, [CHILD_ENV]: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (child.error !== undefined || child.status !== 0) return null;
  return JSON.parse(child.stdout) as Measured;
}

function describe(title: string, measured: Measured): string {
  const table = markdownTable(
    ['message B', 'sync msg/s', 'pool msg/s', 'sync/pool', 'sync main µs', 'pool main µs', 'sync CPU µs', 'pool CPU µs'],
    measured.rows,
  );
  const verdict =
    measured.crossover === null
      ? 'The main thread gave more messages per second at every size.'
      : `The thread pool first gave more messages per second at ${measured.crossover} B.`;
  return [`### ${title}`, '', table, '', verdict].join('\n');
}

async function main(): Promise<void> {
  if (process.env[CHILD_ENV] !== undefined) {
    process.stdout.write(JSON.stringify(await measure()));
    return;
  }
  const unpinned = await measure();
  const pinned = measurePinned();
  const machine = machineInfo();
  const section = [
    '## permessage-deflate: main thread or thread pool',
    '',
    `Measured ${machine.date.slice(0, 10)} on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node};`,
    'Command: `node --expose-gc --import tsx bench/deflate-sync-threshold.ts`.',
    '',
    `${PAIRS} connection pairs with ws's default parameters (context takeover, 15-bit windows), each deflating a`,
    'JSON message of the given size on one side and inflating it on the other, all at once; medians of',
    `${ROUNDS} alternating rounds of ${ROUND_MS} ms. "sync": every frame on the main thread, on the connection's own`,
    'zlib stream; "pool": every frame on the thread pool, one zlib job per call. Per message, one round trip:',
    '"main µs" is the main thread\'s busy time (with sync, how long one message holds every other connection),',
    '"CPU µs" the process\'s user + system time on all threads.',
    '',
    describe(`Unpinned (${describePinning()}): the pool may use the other core`, unpinned),
    '',
    pinned === null
      ? 'Pinned: not measured (taskset unavailable).'
      : describe('Pinned to CPU 0 (taskset), as the load benchmark runs its servers', pinned),
    '',
    `SYNC_MAX_INPUT_BYTES = ${SYNC_MAX_INPUT_BYTES} during this run. The main thread costs less CPU per message`,
    'at every size; the pool wins messages per second only with a core to spare, and holds the main thread',
    'less per message. The threshold keeps one frame\'s hold on the main thread near a tenth of a millisecond',
    '(about half of "sync main µs", which counts a deflate and an inflate): fairness to the other connections.',
  ].join('\n');
  console.log(`\n${section}`);
  writeSection(RESULTS_FILE, 'deflate-sync', section);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
