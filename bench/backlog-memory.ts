/**
 * What a frame costs the server while it waits in the queue of a peer that stopped reading: frames of
 * each size are sent one `send` at a time (outside any batch, as a game server's per-client updates
 * are) to a raw client that completed the opening handshake and never reads, until 4 MiB wait in the
 * server. Then, after garbage collection, the growth of the V8 heap and of ArrayBuffer memory is
 * divided by the frames waiting. The first frames fill the kernel's socket buffers and cost nothing
 * here, so only frames the server holds are counted (bufferedAmount / frame length). RSS is not
 * reported: the young generation V8 grows while the frames are sent moves it by megabytes either way.
 *
 *   node --expose-gc --import tsx bench/backlog-memory.ts [payload sizes]   default: 32,128,512,2048,8192
 *
 * Prints a table for bench/RESULTS.md, "Sender: memory of frames waiting for a slow peer". One server
 * and client pair per size, in this process; the client's bytes sit in kernel buffers, not in its heap.
 */
import net from 'node:net';
import { machineInfo, machineLine } from './lib/machine';
import { markdownTable } from './lib/table';
import { slabPool } from '../src/buffers/slab-pool';
import { WebSocketServer } from '../src/websocket-server';
import type { WebSocket } from '../src/websocket';

const DEFAULT_SIZES = [32, 128, 512, 2048, 8192];
const HELD_BYTES = 4 * 1024 * 1024;
const SENDS_PER_TURN = 1000;
const HANDSHAKE =
  'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

const collectGarbage = globalThis.gc;
if (collectGarbage === undefined) throw new Error('run with --expose-gc');

interface Sample {
  readonly heapUsed: number;
  /** Less the free slabs the Sender's pool keeps for reuse (src/buffers/slab-pool.ts): the pool's, not a frame's. */
  readonly arrayBuffers: number;
}

async function settledSample(): Promise<Sample> {
  for (let i = 0; i < 4; i++) {
    (collectGarbage as NodeJS.GCFunction)();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers: arrayBuffers - slabPool.freeCount * slabPool.slabBytes };
}

/** A server connection whose peer made the handshake and stopped reading. */
async function stalledConnection(): Promise<{ wss: WebSocketServer; ws: WebSocket; client: net.Socket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  const connected = new Promise<WebSocket>((resolve) => wss.once('connection', (ws: WebSocket) => resolve(ws)));
  const client = net.connect((wss.address() as net.AddressInfo).port, '127.0.0.1');
  client.write(HANDSHAKE);
  const ws = await connected;
  // The 101 response is all it reads.
  await new Promise((resolve) => client.once('data', resolve));
  client.pause();
  return { wss, ws, client };
}

async function perFrame(payloadLength: number): Promise<{ frames: number; heap: number; arrayBuffers: number }> {
  const { wss, ws, client } = await stalledConnection();
  const payload = Buffer.alloc(payloadLength, 0x61);
  const frameLength = payloadLength + (payloadLength < 126 ? 2 : 4);
  const before = await settledSample();
  while (ws.bufferedAmount < HELD_BYTES) {
    for (let i = 0; i < SENDS_PER_TURN; i++) ws.send(payload, { binary: true });
    await new Promise((resolve) => setImmediate(resolve));
  }
  const after = await settledSample();
  const frames = Math.floor(ws.bufferedAmount / frameLength);
  // What the client read before it paused is in this process too: not the server's.
  const clientHeld = client.readableLength;
  client.destroy();
  ws.terminate();
  await new Promise((resolve) => wss.close(resolve));
  return {
    frames,
    heap: (after.heapUsed - before.heapUsed) / frames,
    arrayBuffers: (after.arrayBuffers - before.arrayBuffers - clientHeld) / frames,
  };
}

async function main(): Promise<void> {
  const sizes = process.argv[2] ? process.argv[2].split(',').map(Number) : DEFAULT_SIZES;
  const rows: (string | number)[][] = [];
  for (const size of sizes) {
    const result = await perFrame(size);
    const frameLength = size + (size < 126 ? 2 : 4);
    rows.push([size, result.frames, Math.round(result.heap), Math.round(result.arrayBuffers - frameLength)]);
  }
  console.log(`${machineLine(machineInfo())}; Node ${process.version}; ${new Date().toISOString()}\n`);
  console.log(
    markdownTable(
      ['payload (B)', 'frames held', 'V8 heap per frame (B)', 'ArrayBuffer bytes per frame beyond its own'],
      rows,
    ),
  );
}

void main();
