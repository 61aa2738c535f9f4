/**
 * Where the Sender should stop copying a frame whole into its slab (one write) and start writing the
 * header and the caller's payload as two chunks under one cork (src/protocol/sender.ts,
 * SMALL_FRAME_MAX_BYTES). Run:
 *
 *   node --expose-gc --import tsx bench/sender-threshold.ts
 *
 * Unmasked server frames of Buffer and string payloads, 64 B to 16 KiB, go through the real Sender
 * with the threshold forced to one path or the other, to two sinks:
 * - a 127.0.0.1 TCP socket whose reader is a child process on the other core (the cost a server
 *   pays: syscalls, libuv, the Writable's per-chunk work);
 * - a counting Writable (the JavaScript side alone).
 * Frames leave in bursts of BURST, then the loop yields once, as a server answers one socket chunk or
 * one tick of publishes. Rounds alternate the two paths; each figure is the best round. The copy path
 * cannot take a frame larger than a slab, so its 16 KiB row is n/a.
 *
 * Prints markdown and rewrites the "sender-threshold" section of bench/RESULTS.md. Runs from src/
 * through tsx: a frame costs microseconds, so the getter per imported constant tsx adds does not count.
 * SIMDWS_BENCH_TIME_MS (default 150) sets the time per measurement.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
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
const ROUNDS = 5;
/** The reader's core: the benchmark itself is pinned to CPU 0 (bench/lib/pin.ts). */
const READER_CPU = '1';

type Path = 'copy' | 'split';
type Kind = 'buffer' | 'text';

const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** Counts bytes and completes every write at once: the Writable machinery without a kernel below. */
class CountingSink extends Writable {
  bytes = 0;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    callback();
  }

  override _writev(chunks: { chunk: Buffer }[], callback: () => void): void {
    for (const { chunk } of chunks) this.bytes += chunk.length;
    callback();
  }
}

type Sink = SocketLike & Writable;

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
async function rate(sink: Sink, sender: Sender, data: SendData, options: SendOptions, frames: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < frames; ) {
    const burst = Math.min(BURST, frames - sent);
    for (let i = 0; i < burst; i++) sender.send(data, options);
    sent += burst;
    if (sink.writableNeedDrain) await once(sink, 'drain');
    else await yieldToLoop();
  }
  await new Promise<void>((resolve) => sender.send(data, options, () => resolve()));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (frames + 1) / seconds;
}

/** The best of ROUNDS runs of each path, interleaved, as frames per second; null where a path cannot go. */
async function measureSize(sink: Sink, size: number, kind: Kind, timeMs: number): Promise<Record<Path, number | null>> {
  const data: SendData = kind === 'buffer' ? Buffer.alloc(size, 0x61) : 'a'.repeat(size);
  const options: SendOptions = { binary: kind === 'buffer', fin: true };
  const frameBytes = frameHeaderLength(size, false) + size;
  const senders: Record<Path, Sender | null> = {
    copy: frameBytes <= SLAB_BYTES ? new Sender(sink, undefined, undefined, { smallFrameMaxBytes: SLAB_BYTES }) : null,
    split: new Sender(sink, undefined, undefined, { smallFrameMaxBytes: 0 }),
  };
  const best: Record<Path, number | null> = { copy: null, split: null };
  // Calibrate on the split path, which every size can take: enough frames for about timeMs.
  const probe = await rate(sink, senders.split as Sender, data, options, 2000);
  const frames = Math.max(2000, Math.round((probe * timeMs) / 1000));
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of ['copy', 'split'] as const) {
      const sender = senders[which];
      if (sender === null) continue;
      collectGarbage?.();
      const value = await rate(sink, sender, data, options, frames);
      best[which] = Math.max(best[which] ?? 0, value);
    }
  }
  return best;
}

interface Row {
  readonly size: number;
  readonly kind: Kind;
  readonly socket: Record<Path, number | null>;
  readonly memory: Record<Path, number | null>;
}

const ratio = (value: Record<Path, number | null>): number | null =>
  value.copy === null || value.split === null ? null : value.split / value.copy;

/** The largest payload up to which copying wins over a socket at this and every smaller size. */
function crossover(rows: readonly Row[], kind: Kind): number | null {
  let last: number | null = null;
  for (const row of rows) {
    if (row.kind !== kind) continue;
    const r = ratio(row.socket);
    if (r === null || r > 1) break;
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
      row.socket.copy,
      row.socket.split,
      ratio(row.socket),
      row.memory.copy,
      row.memory.split,
      ratio(row.memory),
    ]);
  return markdownTable(
    ['payload B', 'frame B', 'socket copy f/s', 'socket split f/s', 'split/copy', 'memory copy f/s', 'memory split f/s', 'split/copy'],
    body,
  );
}

async function main(): Promise<void> {
  const timeMs = Number(process.env.SIMDWS_BENCH_TIME_MS ?? 150);
  if (!Number.isFinite(timeMs) || timeMs <= 0) throw new Error('SIMDWS_BENCH_TIME_MS must be a positive number');
  const machine = machineInfo();
  const { child, port } = await startReader();
  const socket = await connectTo(port);
  const rows: Row[] = [];
  try {
    for (const kind of ['buffer', 'text'] as const) {
      for (const size of SIZES) {
        const onSocket = await measureSize(socket, size, kind, timeMs);
        const inMemory = await measureSize(new CountingSink(), size, kind, timeMs);
        rows.push({ size, kind, socket: onSocket, memory: inMemory });
        console.error(`${kind} ${size}: socket split/copy ${ratio(onSocket)?.toFixed(2) ?? 'n/a'}`);
      }
    }
  } finally {
    socket.destroy();
    if (child.pid !== undefined) process.kill(child.pid);
  }
  const bufferCrossover = crossover(rows, 'buffer');
  const textCrossover = crossover(rows, 'text');
  const section = [
    '## Sender: small-frame threshold',
    '',
    `Measured ${machine.date.slice(0, 10)} on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node};`,
    `${describePinning()}, reader process on CPU ${READER_CPU}. Command: \`node --expose-gc --import tsx bench/sender-threshold.ts\`.`,
    '',
    'Frames per second through the real Sender, unmasked (server role), bursts of ' + `${BURST} frames, best of ${ROUNDS} rounds:`,
    '"copy" puts the whole frame into the slab and writes it once; "split" writes the header from the slab',
    'and the payload as it is, under one cork. split/copy above 1 means splitting is faster.',
    '',
    '### Buffer payloads',
    '',
    formatRows(rows, 'buffer'),
    '',
    '### String payloads (encoded into the slab, or into a Buffer of their own)',
    '',
    formatRows(rows, 'text'),
    '',
    `Copying wins over the socket up to ${bufferCrossover ?? 'none'} B for Buffers and ${textCrossover ?? 'none'} B for strings`,
    `(the largest payload up to which split/copy stays at or below 1 at every size). SMALL_FRAME_MAX_BYTES is ${SMALL_FRAME_MAX_BYTES}`,
    '(header included).',
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
