/**
 * Memory per connection with permessage-deflate on (issue 4): a simdws WebSocketServer in a child
 * process takes N connections over 127.0.0.1, each exchanging one compressed message each way, and
 * reports its RSS, V8 heap and external memory (where Node accounts zlib's allocations) against its
 * own baseline. Run for the extension off (the reference), ws's default parameters, and
 * MEMORY_LEAN_DEFLATE.
 *
 *   node --expose-gc --import tsx bench/deflate-memory.ts [counts]      counts default: 1000,10000
 *
 * The clients are raw sockets in this process, so their own zlib state costs nothing here and the
 * server's numbers are the server's alone. They offer what browsers offer
 * (`permessage-deflate; client_max_window_bits`) and send a frame deflated once (RFC 7692 section
 * 7.2.1) with a 512-byte window, valid for every window the server may ask for (section 7.1.2.2).
 * The server is measured twice: with every connection open and idle (zlib streams are created on
 * first use), then after the exchange, when each connection holds its inflate and deflate streams
 * (section 7.1.1: with context takeover they live as long as the connection).
 *
 * Bounded: at most 20,000 connections, 200 handshakes and 500 exchanges in flight, a time limit per
 * phase, and the server ended by its PID whatever happens. Measures src/ through tsx: memory, not
 * speed, so tsx's accessor overhead does not matter here.
 */
import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { constants, deflateRawSync } from 'node:zlib';
import { machineInfo } from './lib/machine';
import { markdownTable } from './lib/table';
import { MEMORY_LEAN_DEFLATE } from '../src/extensions/presets';
import type { PerMessageDeflateOptions } from '../src/extensions/permessage-deflate';
import { WebSocketServer } from '../src/websocket-server';
import type { WebSocket } from '../src/websocket';

const DEFAULT_COUNTS = [1000, 10_000];
const MAX_CONNECTIONS = 20_000;
const HANDSHAKES_IN_FLIGHT = 200;
const EXCHANGES_IN_FLIGHT = 500;
const PHASE_TIMEOUT_MS = 180_000;

const PRESETS: Readonly<Record<string, false | true | Readonly<PerMessageDeflateOptions>>> = {
  off: false,
  "ws's defaults": true,
  MEMORY_LEAN_DEFLATE,
};

/** Above MEMORY_LEAN_DEFLATE's 1024-byte threshold, so the server compresses its echo too. */
const MESSAGE = Buffer.from('memory per connection with permessage-deflate on; '.repeat(40));
const OFFER = 'permessage-deflate; client_max_window_bits';
/** zlib's smallest raw window that deflate accepts (8 is raised to 9). */
const CLIENT_WINDOW_BITS = 9;

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

type ServerReport = { type: 'ready'; port: number; memory: Memory } | { type: 'memory'; memory: Memory; open: number };

// ---- The server process ----

async function measure(): Promise<Memory> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the server process needs --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
}

function runServer(presetName: string): void {
  const send = (report: ServerReport): void => {
    (process.send as (message: ServerReport) => void)(report);
  };
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: PRESETS[presetName] });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  wss.on('listening', async () => {
    const port = (wss.address() as net.AddressInfo).port;
    send({ type: 'ready', port, memory: await measure() });
  });
  process.on('message', async () => {
    send({ type: 'memory', memory: await measure(), open: wss.clients.size });
  });
}

// ---- The clients (this process) ----

/** One client frame (RFC 6455 section 5.2), masked (5.3); RSV1 when the payload is deflated (RFC 7692 section 6). */
function clientFrame(payload: Buffer, rsv1: boolean): Buffer {
  const key = randomBytes(4);
  const header = payload.length < 126 ? Buffer.from([0, 0x80 | payload.length]) : Buffer.from([0, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  header[0] = 0x80 | (rsv1 ? 0x40 : 0) | 0x01;
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([header, key, masked]);
}

const DEFLATED_FRAME = clientFrame(
  // Section 7.2.1: a sync-flushed deflate block without its trailing 00 00 ff ff.
  deflateRawSync(MESSAGE, { windowBits: CLIENT_WINDOW_BITS, finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4),
  true,
);
const PLAIN_FRAME = clientFrame(MESSAGE, false);

interface Client {
  readonly socket: net.Socket;
  readonly deflate: boolean;
}

/** Opens one connection with the browsers' offer; resolves once the 101 has arrived (RFC 6455 section 4.1). */
function handshake(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const response = head.subarray(0, end).toString('latin1');
      if (!response.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        reject(new Error(`handshake refused: ${response.split('\r\n')[0]}`));
        return;
      }
      resolve({ socket, deflate: /\r\nsec-websocket-extensions: permessage-deflate/i.test(response) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Extensions: ${OFFER}\r\n\r\n`,
      );
    });
  });
}

/** Sends one message and resolves once the server's echo frame has fully arrived. */
function exchange(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 2) return;
      const length7 = pending[1] & 0x7f;
      const headerLength = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
      if (pending.length < headerLength) return;
      const length = length7 === 126 ? pending.readUInt16BE(2) : length7 === 127 ? Number(pending.readBigUInt64BE(2)) : length7;
      if (pending.length < headerLength + length) return;
      client.socket.off('data', onData);
      resolve();
    };
    client.socket.on('data', onData);
    client.socket.once('error', reject);
    client.socket.write(client.deflate ? DEFLATED_FRAME : PLAIN_FRAME);
  });
}

/** Runs `task` for 0..count-1 with at most `limit` in flight. */
async function bounded<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- The run ----

interface Row {
  readonly preset: string;
  readonly connections: number;
  readonly idle: Memory;
  readonly exchanged: Memory;
}

function nextReport(server: ChildProcess): Promise<ServerReport> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the server process exited (${code})`));
    server.once('exit', onExit);
    server.once('message', (report: ServerReport) => {
      server.off('exit', onExit);
      resolve(report);
    });
  });
}

function perConnection(after: Memory, before: Memory, count: number): Memory {
  return {
    rss: (after.rss - before.rss) / count,
    heapUsed: (after.heapUsed - before.heapUsed) / count,
    external: (after.external - before.external) / count,
  };
}

async function measurePreset(preset: string, count: number): Promise<Row> {
  const server = fork(__filename, ['server', preset], { execArgv: ['--expose-gc', '--import', 'tsx'] });
  const clients: Client[] = [];
  try {
    const ready = await withTimeout(nextReport(server), 'starting the server');
    if (ready.type !== 'ready') throw new Error('the server did not report ready');
    const opened = await withTimeout(bounded(count, HANDSHAKES_IN_FLIGHT, () => handshake(ready.port)), `${count} handshakes`);
    clients.push(...opened);
    const expectDeflate = PRESETS[preset] !== false;
    if (clients.some((client) => client.deflate !== expectDeflate)) throw new Error(`${preset}: unexpected negotiation`);

    server.send('measure');
    const idle = await withTimeout(nextReport(server), 'measuring');
    await withTimeout(bounded(count, EXCHANGES_IN_FLIGHT, (index) => exchange(clients[index])), `${count} exchanges`);
    server.send('measure');
    const exchanged = await withTimeout(nextReport(server), 'measuring');
    if (idle.type !== 'memory' || exchanged.type !== 'memory' || exchanged.open !== count) {
      throw new Error(`${preset}: the server holds ${exchanged.type === 'memory' ? exchanged.open : '?'} of ${count} connections`);
    }
    return {
      preset,
      connections: count,
      idle: perConnection(idle.memory, ready.memory, count),
      exchanged: perConnection(exchanged.memory, ready.memory, count),
    };
  } finally {
    for (const client of clients) client.socket.destroy();
    if (server.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGKILL');
  }
}

function parseCounts(argument: string | undefined): number[] {
  if (argument === undefined) return DEFAULT_COUNTS;
  const counts = argument.split(',').map(Number);
  for (const count of counts) {
    if (!Number.isInteger(count) || count < 1 || count > MAX_CONNECTIONS) {
      throw new Error(`counts must be integers from 1 to ${MAX_CONNECTIONS}, comma-separated; got ${argument}`);
    }
  }
  return counts;
}

function kib(bytes: number): number {
  return bytes / 1024;
}

async function main(): Promise<void> {
  const counts = parseCounts(process.argv[2]);
  const machine = machineInfo();
  console.log(`${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node}, ${machine.date}`);
  console.log(`one ${MESSAGE.length}-byte text message each way per connection; clients offer "${OFFER}"\n`);
  const rows: Row[] = [];
  for (const count of counts) {
    for (const preset of Object.keys(PRESETS)) {
      const row = await measurePreset(preset, count);
      rows.push(row);
      console.error(`measured ${preset} x ${count}`);
    }
  }
  // zlib's own state (window, hash tables) is malloc'd outside V8: it shows in RSS only. "external"
  // holds the Buffers Node keeps per zlib stream (its output chunk, 16 KiB by default).
  const table = markdownTable(
    [
      'server perMessageDeflate',
      'connections',
      'RSS KiB/conn, idle',
      'RSS KiB/conn, after 1 msg each way',
      'RSS KiB/conn over off',
      'V8 heap KiB/conn',
      'external KiB/conn',
    ],
    rows.map((row) => {
      const off = rows.find((other) => other.preset === 'off' && other.connections === row.connections);
      return [
        row.preset,
        row.connections,
        kib(row.idle.rss),
        kib(row.exchanged.rss),
        off === undefined || row === off ? null : kib(row.exchanged.rss - off.exchanged.rss),
        kib(row.exchanged.heapUsed),
        kib(row.exchanged.external),
      ];
    }),
  );
  console.log(table);
}

if (process.argv[2] === 'server') {
  runServer(process.argv[3]);
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
