/**
 * Corking: ws.cork(fn) sends everything in one write; the frames written while one inbound chunk is
 * handled (here: the pongs answering N pings, RFC 6455 section 5.5.2) leave in one write.
 */
import { afterEach, expect, it } from 'vitest';
import { buildFrames, OPCODE } from '../helpers/frames';
import { Harness, afterTick, logWrites, socketOf, startServer } from './peers';

let harness: Harness | null = null;

afterEach(async () => {
  await harness?.close();
  harness = null;
});

it('ws.cork(fn): every send inside fn leaves in one write', async () => {
  harness = await startServer();
  const a = await harness.connect();
  await afterTick();
  const log = logWrites(socketOf(a.server));
  a.server.cork(() => {
    for (let i = 0; i < 10; i++) a.server.send(`message ${i}`);
    a.server.ping('in the batch too');
    a.server.send(Buffer.alloc(5000, 1));
  });
  await a.until(11);
  expect(log.chunks.length).toBeGreaterThanOrEqual(12);
  expect(log.batches).toHaveLength(1);
  expect(a.received.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `message ${i}`));
});

it('N pings in one inbound chunk: the N pongs leave in one socket write', async () => {
  harness = await startServer();
  const a = await harness.connect();
  await afterTick();
  const socket = socketOf(a.server);
  const log = logWrites(socket);
  let chunks = 0;
  socket.on('data', () => chunks++);
  const pongs: string[] = [];
  a.client.on('pong', (data: Buffer) => pongs.push(data.toString()));

  const count = 20;
  const pings = buildFrames(
    Array.from({ length: count }, (_, i) => ({ opcode: OPCODE.PING, mask: true, payload: `ping ${i}` })),
  );
  // One write of all the frames: on 127.0.0.1 it arrives as one chunk (checked below).
  (a.client as unknown as { _socket: import('net').Socket })._socket.write(pings);
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (pongs.length === count) resolve();
    };
    a.client.on('pong', check);
  });
  expect(pongs).toEqual(Array.from({ length: count }, (_, i) => `ping ${i}`));
  expect(chunks).toBe(1);
  expect(log.chunks).toHaveLength(count);
  expect(log.batches).toHaveLength(1);
});
