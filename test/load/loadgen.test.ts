/**
 * The load generator against real servers on 127.0.0.1: it must count and check what it measures
 * (and fail on a wrong echo, a wrong handshake answer), cope with fragmented and split frames, and
 * report CPU for both sides. Short runs; no figure is asserted beyond "something was measured".
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, runLoadgen } from '../../bench/load/processes';
import { SERVERS, ServerDefinition } from '../../bench/load/servers';
import type { LoadgenResult } from '../../bench/load/workloads';
import { useLoadgenSession } from './helpers/loadgen-session';

const SHORT = ['--warmup', '0.2', '--duration', '0.5'];
const FLOOR = SERVERS.find((server) => server.id === 'node-floor') as ServerDefinition;

function fixture(fault: string): ServerDefinition {
  return { id: `fixture-${fault}`, label: fault, command: process.execPath, args: [path.join(__dirname, 'helpers', 'fixture-server.js'), fault], env: {}, tier: null, deflate: [] };
}

const session = useLoadgenSession();

async function run(definition: ServerDefinition, args: readonly string[]): Promise<LoadgenResult> {
  const port = await freePort();
  const running = await session.start(definition, port);
  return runLoadgen(session.binary, [...args, ...SHORT, '--port', String(port), '--server-pid', String(running.pid), '--server-core', '0', '--gen-core', '1'], {
    timeoutMs: 15_000,
  });
}

describe('loadgen against the Node floor server', () => {
  it('echo: counts checked echoes and reports the CPU of both sides', async () => {
    const result = await run(FLOOR, ['--mode', 'echo', '--conns', '8', '--inflight', '4', '--size', '32']);
    expect(result.mode).toBe('echo');
    expect(result.count).toBeGreaterThan(100);
    expect(Math.abs(result.rate / (result.count / result.seconds) - 1)).toBeLessThan(0.001);
    expect(Math.abs(result.payload_mb_per_s / ((result.count * 32) / result.seconds / 1e6) - 1)).toBeLessThan(0.001);
    expect(result.server_cpu).toBeGreaterThan(0);
    expect(result.gen_cpu).toBeGreaterThan(0);
    expect(result.server_core_busy).toBeGreaterThan(0);
    // Frame bytes per message (RFC 6455 5.2): 2 + 32 back; 2 + 4 (masking key) + 32 out, give or take
    // the messages in flight when the window opened and closed.
    expect(result.wire_in_per_msg).toBe(34);
    expect(result.wire_out_per_msg / 38).toBeGreaterThan(0.9);
    expect(result.wire_out_per_msg / 38).toBeLessThan(1.1);
  });

  it('echo of 64 KiB frames (64-bit length headers, reads that split frames)', async () => {
    const result = await run(FLOOR, ['--mode', 'echo', '--conns', '2', '--inflight', '2', '--size', '65536']);
    expect(result.count).toBeGreaterThan(10);
  });

  it('broadcast: every subscriber gets every publish, in order', async () => {
    const result = await run(FLOOR, ['--mode', 'broadcast', '--conns', '20', '--size', '64', '--window', '4']);
    expect(result.conns).toBe(20);
    expect(result.count).toBeGreaterThan(20);
  });

  it('handshake: completes connect, upgrade and close cycles', async () => {
    const result = await run(FLOOR, ['--mode', 'handshake', '--concurrency', '4']);
    expect(result.count).toBeGreaterThan(10);
  });

  it('latency: sends at the fixed rate and fills the histogram', async () => {
    const result = await run(FLOOR, ['--mode', 'latency', '--conns', '4', '--rate', '2000', '--size', '32']);
    expect(result.samples).toBeGreaterThan(500);
    expect(result.samples).toBeLessThanOrEqual(1001);
    expect(result.p99_us).toBeGreaterThanOrEqual(result.p50_us ?? Infinity);
    expect(result.max_us).toBeGreaterThanOrEqual(result.p99_us ?? Infinity);
  });

  it('idle: holds its connections open until told to close them', async () => {
    const port = await freePort();
    const server = await session.start(FLOOR, port);
    let ready = 0;
    const result = await runLoadgen(session.binary, ['--mode', 'idle', '--conns', '50', '--port', String(port)], {
      timeoutMs: 15_000,
      onReady: async (event) => {
        ready = event.conns;
        await server.collectGarbage();
        expect(server.rssBytes()).toBeGreaterThan(0);
      },
    });
    expect(ready).toBe(50);
    expect(result.conns).toBe(50);
  });
});

describe('loadgen catches faulty servers', () => {
  it('fails the run when an echo differs from what was sent', async () => {
    await expect(run(fixture('corrupt'), ['--mode', 'echo', '--conns', '2', '--inflight', '2', '--size', '32'])).rejects.toThrow(
      /differs from what was sent/,
    );
  });

  it('fails the run on a wrong Sec-WebSocket-Accept (RFC 6455 4.1)', async () => {
    await expect(run(fixture('bad-accept'), ['--mode', 'echo', '--conns', '1', '--size', '32'])).rejects.toThrow(
      /wrong Sec-WebSocket-Accept/,
    );
  });

  it('counts a fragmented echo as one message (RFC 6455 5.4), across split reads', async () => {
    const result = await run(fixture('fragment'), ['--mode', 'echo', '--conns', '2', '--inflight', '2', '--size', '300']);
    expect(result.count).toBeGreaterThan(10);
  });
});
