/**
 * Where the Sender should stop copying a frame whole into its slab (one write) and start writing the
 * header and the caller's payload as two chunks under one cork (src/protocol/sender.ts,
 * SMALL_FRAME_MAX_BYTES). Run:
 *
 *   node --expose-gc --import tsx bench/sender-threshold.ts
 *
 * Unmasked server frames of Buffer and string payloads, 64 B to 16 KiB, go through the real Sender
 * with the threshold forced to one path or the other, into a 127.0.0.1 TCP socket whose reader is a
 * child process on the other core. Frames leave in bursts of BURST, then the loop yields once, as a
 * server answers one socket chunk or one tick of publishes; each burst is measured twice: uncorked
 * (every frame its own write, as a send from a timer) and under one socket cork (as the WebSocket's
 * per-chunk and per-tick corking sends them). Each figure is a median over paired rounds (see
 * measureSize). The copy path cannot take a frame larger than a slab, so its 16 KiB row is n/a.
 *
 * Prints markdown and rewrites the "sender-threshold" section of bench/RESULTS.md. Runs from src/
 * through tsx: a frame costs microseconds, so the getter per imported constant tsx adds does not count.
 * SIMDWS_BENCH_TIME_MS (default 60) sets the time per run; the whole benchmark takes about three minutes.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { SLAB_BYTES } from '../src/buffers/slab-pool';
import { frameHeaderLength } from '../src/protocol/frame-header';
import { SMALL_FRAME_MAX_BYTES, SendData, SendOptions, Sender, SocketLike } from '../src/protocol/sender';
import { machineInfo } from './lib/machine';
import { describePinning, reexecPinned } from './lib/pin';
import { writeSection } from './lib/results-file';
import { Cell, markdownTable } from './lib/table';

const RESULTS_FILE = path.join(__dirname, 'RESULTS.md');
const SIZES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 12_288, 16_384];
/** Frames sent back to back before the loop yields. */
const BURST = 32;
const ROUNDS = 15;
/**
 * Ratios within 5% of 1 count as a tie: where the two paths cost the same, neighbouring sizes' medians
 * scatter by about that much on this shared machine.
 */
const TIE = 0.05;
/** The longest header of a payload below 64 KiB: 2 bytes, a 16-bit length and a masking key. */
const SMALL_HEADER_MAX_BYTES = 8;
/** The reader's core: the benchmark itself is pinned to CPU 0 (bench/lib/pin.ts). */
const READER_CPU = '1';

type Kind = 'buffer' | 'text';

const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** A child process on the other core that reads and drops everything; ended by its PID at the end. */
async function startReader(): Promise<{ child: ChildProcess; port: number }> {
  const script =
    "const s = require('net').createServer((c) => { c.on('data', () => {}); c.on('error', () => {}); });" +
    "s.listen(0, '127.0.0.1', () => console.log(s.address().port));";
  const taskset = spawnSync('taskset', ['-c', READER_CPU, 'true']).status === 0;
  const child = taskset
    ? spawn('taskset', ['-c', READER_CPU, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { child, port: Number(line.toString().trim()) };
}

async function connectTo(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  // As the WebSocket does for every connection (src/websocket.ts, setSocket).
  socket.setNoDelay(true);
  return socket;
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/** Sends `frames` frames in bursts; resolves with frames per second once the last one is written. */
async function rate(
  socket: net.Socket,
  sender: Sender,
  data: SendData,
  options: SendOptions,
  corked: boolean,
  frames: number,
): Promise<number> {
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < frames; ) {
    const burst = Math.min(BURST, frames - sent);
    if (corked) socket.cork();
    for (let i = 0; i < burst; i++) sender.send(data, options);
    if (corked) socket.uncork();
    sent += burst;
    if (socket.writableNeedDrain) await once(socket, 'drain');
    else await yieldToLoop();
  }
  await new Promise<void>((resolve) => sender.send(data, options, () => resolve()));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (frames + 1) / seconds;
}

/** Medians over the rounds: each path's frames per second, and the per-round split/copy ratio. */
interface Measured {
  /** null where the frame does not fit a slab. */
  readonly copy: number | null;
  readonly split: number;
  readonly ratio: number | null;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * ROUNDS paired runs of the two paths, back to back, the order swapped every round so that a drift in
 * the machine's speed favours neither: the median of the per-round ratios is robust to a neighbour's
 * burst that lands on one run.
 */
async function measureSize(socket: net.Socket, size: number, kind: Kind, corked: boolean, timeMs: number): Promise<Measured> {
  const data: SendData = kind === 'buffer' ? Buffer.alloc(size, 0x61) : 'a'.repeat(size);
  const options: SendOptions = { binary: kind === 'buffer', fin: true };
  // As in src/websocket.ts: net.Socket's write callback takes `Error | null`, SocketLike's an Error.
  const sink = socket as SocketLike;
  const split = new Sender(sink, undefined, undefined, { smallFrameMaxBytes: 0 });
  const copy =
    frameHeaderLength(size, false) + size <= SLAB_BYTES
      ? new Sender(sink, undefined, undefined, { smallFrameMaxBytes: SLAB_BYTES })
      : null;
  // Calibrate on the split path, which every size can take: enough frames for about timeMs.
  const probe = await rate(socket, split, data, options, corked, 2000);
  const frames = Math.max(2000, Math.round((probe * timeMs) / 1000));
  const run = async (sender: Sender): Promise<number> => {
    collectGarbage?.();
    return rate(socket, sender, data, options, corked, frames);
  };
  const copyRates: number[] = [];
  const splitRates: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (copy === null) {
      splitRates.push(await run(split));
      continue;
    }
    const copyFirst = round % 2 === 0;
    const first = await run(copyFirst ? copy : split);
    const second = await run(copyFirst ? split : copy);
    const [copyRate, splitRate] = copyFirst ? [first, second] : [second, first];
    copyRates.push(copyRate);
    splitRates.push(splitRate);
    ratios.push(splitRate / copyRate);
  }
  return {
    copy: copy === null ? null : median(copyRates),
    split: median(splitRates),
    ratio: copy === null ? null : median(ratios),
  };
}

interface Row {
  readonly size: number;
  readonly kind: Kind;
  readonly uncorked: Measured;
  readonly corked: Measured;
}

/**
 * The largest payload up to which splitting never wins by more than TIE both corked and uncorked, at
 * that and every smaller size: where one mode favours copying and the other is a tie, copying is the
 * better default. null when splitting wins already at the smallest size.
 */
function crossover(rows: readonly Row[], kind: Kind): number | null {
  let last: number | null = null;
  for (const row of rows) {
    if (row.kind !== kind) continue;
    const ratios = [row.uncorked.ratio, row.corked.ratio];
    if (ratios.some((value) => value === null) || ratios.every((value) => (value as number) > 1 + TIE)) break;
    last = row.size;
  }
  return last;
}

function formatRows(rows: readonly Row[], kind: Kind): string {
  const body: Cell[][] = rows
    .filter((row) => row.kind === kind)
    .map((row) => [
      String(row.size),
      frameHeaderLength(row.size, false) + row.size,
      row.uncorked.copy,
      row.uncorked.split,
      row.uncorked.ratio,
      row.corked.copy,
      row.corked.split,
      row.corked.ratio,
    ]);
  return markdownTable(
    ['payload B', 'frame B', 'copy f/s', 'split f/s', 'split/copy', 'corked copy f/s', 'corked split f/s', 'split/copy'],
    body,
  );
}

async function main(): Promise<void> {
  const timeMs = Number(process.env.SIMDWS_BENCH_TIME_MS ?? 60);
  if (!Number.isFinite(timeMs) || timeMs <= 0) throw new Error('SIMDWS_BENCH_TIME_MS must be a positive number');
  const machine = machineInfo();
  const { child, port } = await startReader();
  const socket = await connectTo(port);
  const rows: Row[] = [];
  try {
    for (const kind of ['buffer', 'text'] as const) {
      for (const size of SIZES) {
        const uncorked = await measureSize(socket, size, kind, false, timeMs);
        const corked = await measureSize(socket, size, kind, true, timeMs);
        rows.push({ size, kind, uncorked, corked });
        const ratios = [uncorked.ratio, corked.ratio].map((value) => value?.toFixed(2) ?? 'n/a');
        console.error(`${kind} ${size} B: split/copy ${ratios[0]} uncorked, ${ratios[1]} corked`);
      }
    }
  } finally {
    socket.destroy();
    if (child.pid !== undefined) process.kill(child.pid);
  }
  const crossovers = (kind: Kind) => `${crossover(rows, kind) ?? 'none'} B`;
  const bufferCrossover = crossover(rows, 'buffer');
  // Past half a slab every copied frame retires a slab of its own (src/buffers/slab-pool.ts).
  const threshold = bufferCrossover === null ? 0 : Math.min(bufferCrossover, SLAB_BYTES / 2) + SMALL_HEADER_MAX_BYTES;
  const section = [
    '## Sender: small-frame threshold',
    '',
    `Measured ${machine.date.slice(0, 10)} on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node};`,
    `${describePinning()}, reader process on CPU ${READER_CPU}. Command: \`node --expose-gc --import tsx bench/sender-threshold.ts\`.`,
    '',
    `Frames per second through the real Sender, unmasked (server role), bursts of ${BURST} frames, medians of ${ROUNDS} paired rounds.`,
    '"copy" puts the whole frame into the slab and writes it once; "split" writes the header from the slab',
    'and the payload as it is, under one cork. "corked": each burst under one socket cork, as the WebSocket',
    'sends while it handles a chunk or a tick of publishes. split/copy above 1 means splitting is faster.',
    '',
    '### Buffer payloads',
    '',
    formatRows(rows, 'buffer'),
    '',
    '### String payloads (encoded into the slab, or into a Buffer of their own)',
    '',
    formatRows(rows, 'text'),
    '',
    `Splitting is not faster by more than ${TIE * 100}% both corked and uncorked at any size up to ${crossovers('buffer')} for`,
    `Buffers and ${crossovers('text')} for strings. The threshold follows the Buffer crossover (strings gain more`,
    'from copying), at most half a slab (beyond, every copied frame retires a 16 KiB slab of its own), plus the',
    `longest header such a payload takes: SMALL_FRAME_MAX_BYTES = ${threshold} (${SMALL_FRAME_MAX_BYTES} in src/protocol/sender.ts`,
    'during this run).',
  ].join('\n');
  console.log(section);
  writeSection(RESULTS_FILE, 'sender-threshold', section);
}

const pinnedStatus = reexecPinned();
if (pinnedStatus !== null) {
  process.exitCode = pinnedStatus;
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
