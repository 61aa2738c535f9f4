/**
 * The load generator's permessage-deflate (RFC 7692): it must agree on the extension with real servers,
 * send compressed JSON and check every inflated reply, and fail against servers that decline, corrupt a
 * compressed reply, or break what they agreed (context takeover, window size). Short runs; no figure is
 * asserted beyond "something was measured" and the payloads' compressibility.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { zlibHint } from '../../bench/load/build-loadgen';
import { freePort, runLoadgen } from '../../bench/load/processes';
import { deflateRows, SERVERS, ServerDefinition } from '../../bench/load/servers';
import type { LoadgenResult } from '../../bench/load/workloads';
import { useLoadgenSession } from './helpers/loadgen-session';
import { uwsBinaryShipped } from '../interop/helpers/uws-server';

const DEFLATE_ECHO = ['--mode', 'echo', '--conns', '4', '--inflight', '4', '--size', '1024', '--json', '--deflate'];
const SECOND = ['--warmup', '0.3', '--duration', '1'];

function server(id: string): ServerDefinition {
  return SERVERS.find((entry) => entry.id === id) as ServerDefinition;
}

function compressed(id: string): ServerDefinition {
  return deflateRows(server(id))[0];
}

function fixture(fault: string): ServerDefinition {
  return { id: `fixture-${fault}`, label: fault, command: process.execPath, args: [path.join(__dirname, 'helpers', 'fixture-server.js'), fault], env: {}, tier: null, deflate: [] };
}

const session = useLoadgenSession();

async function run(definition: ServerDefinition, args: readonly string[] = DEFLATE_ECHO): Promise<LoadgenResult> {
  const port = await freePort();
  const running = await session.start(definition, port);
  return runLoadgen(session.binary, [...args, ...SECOND, '--port', String(port), '--server-pid', String(running.pid)], { timeoutMs: 15_000 });
}

describe('loadgen --deflate against real servers', () => {
  it('ws with perMessageDeflate: true: agrees, compresses every message, inflates every reply', async () => {
    const result = await run(compressed('ws'));
    expect(result.deflate).toEqual({
      server_no_context_takeover: false, client_no_context_takeover: false, server_max_window_bits: 15, client_max_window_bits: 15,
    });
    expect(result.count).toBeGreaterThan(50);
    expect(result.compressed_reply_share).toBe(1);
    // 1 KiB of JSON ticks, each message compressed on its own: 3-6x smaller, frame header included.
    expect(result.wire_out_per_msg).toBeGreaterThan(1024 / 6);
    expect(result.wire_out_per_msg).toBeLessThan(1024 / 3);
    expect(result.wire_in_per_msg).toBeLessThan(1024 / 3);
  });

  it.skipIf(!uwsBinaryShipped())('uWebSockets.js with DEDICATED_COMPRESSOR_3KB: a 9-bit server window, shared inflation', async () => {
    const result = await run(compressed('uws'));
    expect(result.deflate).toMatchObject({ server_max_window_bits: 9, client_no_context_takeover: true });
    expect(result.compressed_reply_share).toBe(1);
    expect(result.count).toBeGreaterThan(50);
  });

  it('keeps the inflate window between replies when the server keeps its context (RFC 7692 7.2.3.2)', async () => {
    const result = await run(fixture('deflate-context'));
    expect(result.deflate).toMatchObject({ server_no_context_takeover: false, client_no_context_takeover: true });
    expect(result.compressed_reply_share).toBe(1);
    expect(result.count).toBeGreaterThan(50);
  });
});

describe('loadgen --deflate catches faulty servers', () => {
  it('fails when the server declines the extension', async () => {
    await expect(run(server('node-floor'))).rejects.toThrow(/declined permessage-deflate/);
  });

  it('fails when a compressed reply is corrupted', async () => {
    // Which reply is the 50th depends on timing, and a flipped bit can break the deflate stream, change
    // the bytes, or change how many come out: each is one of the generator's checks of the content.
    await expect(run(fixture('deflate-corrupt'))).rejects.toThrow(
      /does not inflate|differs from what was sent|inflates to more than|message of \d+ bytes, expected/,
    );
  });

  it('fails when the server keeps its context after agreeing to server_no_context_takeover (RFC 7692 7.1.1.1)', async () => {
    await expect(run(fixture('deflate-lie'))).rejects.toThrow(/does not inflate/);
  });

  it('fails when the server reaches past the server_max_window_bits it agreed (RFC 7692 7.1.2.1)', async () => {
    await expect(run(fixture('deflate-window-lie'))).rejects.toThrow(/does not inflate/);
  });
});

describe('compressed rows and the build', () => {
  it('gives each compressing server a row per setting; the plain setting keeps the id ws ratios use', () => {
    expect(deflateRows(server('ws')).map((row) => [row.id, row.env.SIMDWS_BENCH_DEFLATE])).toEqual([['ws', 'on']]);
    expect(deflateRows(server('simdws-native')).map((row) => [row.id, row.label])).toEqual([
      ['simdws-native', 'simdws (native)'],
      ['simdws-native-memory-lean', 'simdws (native), MEMORY_LEAN_DEFLATE'],
    ]);
    expect(deflateRows(server('node-floor'))).toEqual([]);
  });

  it('names the missing package when zlib is what the compiler could not find', () => {
    expect(zlibHint('loadgen.c:44:10: fatal error: zlib.h: No such file or directory')).toMatch(/zlib1g-dev/);
    expect(zlibHint('/usr/bin/ld: cannot find -lz: No such file or directory')).toMatch(/zlib1g-dev/);
    expect(zlibHint("loadgen.c:1:1: error: unknown type name 'foo'")).toBeNull();
  });
});
