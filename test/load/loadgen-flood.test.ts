/**
 * The C flood (loadgen.c --mode flood): it sends autocannon's bytes exactly, gets 400 for a bad key and
 * 403 for a disallowed Origin from every real server (RFC 6455 sections 4.2.1 and 10.2), follows both
 * a server that closes after refusing (one TCP connection per rejection) and one that keeps the
 * connection (the next request on it), and counts what a wrong server does instead: a 101, a split or
 * length-less answer, a close without an answer, silence, bytes that are not HTTP. Then the reading
 * of its JSON. Short floods; nothing is asserted about rates.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED_ORIGIN, DISALLOWED_ORIGIN, FLOOD_VARIANTS, FloodVariant, ORIGINS_ENV } from '../../bench/load/flood-requests';
import type { FloodResult } from '../../bench/load/flood-result';
import { loadgenFloodArgs, LoadgenFloodOutput, measuredWindow, parseLoadgenFlood } from '../../bench/load/loadgen-flood';
import { freePort, runLoadgen } from '../../bench/load/processes';
import { SERVERS, ServerDefinition } from '../../bench/load/servers';
import type { LoadgenResult } from '../../bench/load/workloads';
import { selectKernel } from '../../src/kernels/select';
import { useLoadgenSession } from './helpers/loadgen-session';
import { uwsBinaryShipped } from '../interop/helpers/uws-server';

const defaultTier = selectKernel({}).info.name;
const FLOODED = ['ws', 'uws', `simdws-${defaultTier}`].map((id) => SERVERS.find((server) => server.id === id) as ServerDefinition);
/** The servers that close the connection after refusing (Connection: close); uWebSockets.js keeps it open. */
const CLOSING = new Set(['ws', `simdws-${defaultTier}`]);
const CONNECTIONS = 8;
const [BAD_KEY, BAD_ORIGIN] = FLOOD_VARIANTS as [FloodVariant, FloodVariant];

type BuildRequest = (request: { headers: Record<string, string> }) => Buffer;
const requestBuilder = createRequire(__filename)('autocannon/lib/httpRequestBuilder') as (defaults: object) => BuildRequest;

function autocannonBytes(variant: FloodVariant, port: number): string {
  const build = requestBuilder({ hostname: '127.0.0.1', port, method: 'GET', path: '/' });
  return build({ headers: { ...variant.headers } }).toString('latin1');
}

function fixture(behaviour: string): ServerDefinition {
  return { id: `flood-fixture-${behaviour}`, label: behaviour, command: process.execPath, args: [path.join(__dirname, 'helpers', 'flood-fixture-server.js'), behaviour], env: {}, tier: null, deflate: [] };
}

const session = useLoadgenSession();

interface Flooded {
  readonly port: number;
  readonly output: LoadgenFloodOutput;
  readonly result: FloodResult;
}

async function flood(definition: ServerDefinition, variant: FloodVariant, seconds = { warmup: 0.2, duration: 1 }): Promise<Flooded> {
  const port = await freePort();
  await session.start({ ...definition, env: { ...definition.env, [ORIGINS_ENV]: ALLOWED_ORIGIN } }, port);
  const args = loadgenFloodArgs({ port, variant, connections: CONNECTIONS, warmupSeconds: seconds.warmup, durationSeconds: seconds.duration, niceness: 0 });
  const output = (await runLoadgen(session.binary, args, { timeoutMs: 20_000 })) as LoadgenFloodOutput;
  return { port, output, result: parseLoadgenFlood(output, variant.expectedStatus) };
}

describe('the C flood against each server with an allow-list', () => {
  for (const server of FLOODED) {
    // uWebSockets.js ships no binary for some Node versions (Node 24); its row is skipped there, as in test/interop.
    it.skipIf(server.id === 'uws' && !uwsBinaryShipped())(`${server.label}: autocannon's bytes, every answer the expected status, the connection handled as the server leaves it`, async () => {
      for (const variant of FLOOD_VARIANTS) {
        const { port, output, result } = await flood(server, variant);
        expect(output.request).toBe(autocannonBytes(variant, port));
        expect(output.statuses).toEqual({ [variant.expectedStatus]: result.expected });
        expect(result.responses).toBeGreaterThan(50);
        expect(result.unexpected).toEqual({});
        expect(result.accepted).toBe(0);
        expect(result.errorCodes).toEqual({});
        if (CLOSING.has(server.id)) {
          // One connection per rejection: each of the CONNECTIONS slots is between two answers at the window's edges.
          expect(Math.abs(output.connections - output.count)).toBeLessThanOrEqual(CONNECTIONS);
        } else {
          // Every request after the first of a connection went on the same connection, opened before the window.
          expect(output.connections).toBe(0);
        }
      }
    });
  }
});

describe('the C flood against odd answers', () => {
  it('counts a 101 as an accepted handshake, not a rejection', async () => {
    const { output, result } = await flood(fixture('accept'), BAD_KEY);
    expect(result.expected).toBe(0);
    expect(Object.keys(result.unexpected)).toEqual(['101']);
    expect(result.unexpected['101']).toBeGreaterThan(50);
    expect(result.accepted).toBe(result.unexpected['101']);
    expect(output.accepted).toBe(result.accepted);
  });

  it('reads an answer split across reads by its Content-Length, and asks again on the kept connection', async () => {
    const { output, result } = await flood(fixture('split'), BAD_KEY);
    expect(result.unexpected).toEqual({});
    expect(result.expected).toBeGreaterThan(50);
    expect(result.errors).toBe(0);
    expect(output.connections).toBe(0);
  });

  it('reads a body without a length to the close (RFC 9112 6.3)', async () => {
    const { output, result } = await flood(fixture('no-length'), BAD_KEY);
    expect(result.unexpected).toEqual({});
    expect(result.expected).toBeGreaterThan(50);
    expect(result.errors).toBe(0);
    expect(Math.abs(output.connections - output.count)).toBeLessThanOrEqual(CONNECTIONS);
  });

  it('counts connections closed without an answer as errors, not answers', async () => {
    const { output, result } = await flood(fixture('hang-up'), BAD_KEY);
    expect(output.statuses).toEqual({});
    expect(result.responses).toBe(0);
    expect(output.closed_early).toBeGreaterThan(50);
    expect(result.errorCodes).toEqual({ 'closed unanswered': output.closed_early });
  });

  it('gives up a connection that gets no answer for 3 s, and opens another', async () => {
    const { output, result } = await flood(fixture('silent'), BAD_KEY, { warmup: 0, duration: 3.6 });
    expect(output.statuses).toEqual({});
    expect(result.timeouts).toBe(CONNECTIONS);
    expect(result.errorCodes).toEqual({ 'stalled 3 s': CONNECTIONS });
  });

  it('fails the run on an answer that is not HTTP', async () => {
    await expect(flood(fixture('garbage'), BAD_KEY)).rejects.toThrow(/not an HTTP\/1\.x status line: SSH-2\.0/);
  });

  it('refuses to start without the Origin its variant needs, or with a flood it does not know', () => {
    const noOrigin = spawnSync(session.binary, ['--mode', 'flood', '--flood', 'bad-key', '--port', '1'], { encoding: 'utf8' });
    expect(noOrigin.status).toBe(2);
    expect(noOrigin.stderr).toMatch(/needs --origin/);
    const unknown = spawnSync(session.binary, ['--mode', 'flood', '--flood', 'bad-path', '--origin', ALLOWED_ORIGIN, '--port', '1'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown flood bad-path/);
  });
});

describe('loadgenFloodArgs', () => {
  it("sends each variant's own Origin: the allowed one beside the bad key, the refused one beside the valid key", () => {
    const args = (variant: FloodVariant): string[] =>
      loadgenFloodArgs({ port: 9, variant, connections: 64, warmupSeconds: 1, durationSeconds: 5, niceness: 10 });
    const originOf = (list: string[]): string => list[list.indexOf('--origin') + 1];
    expect(args(BAD_KEY).slice(0, 4)).toEqual(['--mode', 'flood', '--flood', 'bad-key']);
    expect(originOf(args(BAD_KEY))).toBe(ALLOWED_ORIGIN);
    expect(originOf(args(BAD_ORIGIN))).toBe(DISALLOWED_ORIGIN);
    expect(args(BAD_ORIGIN).join(' ')).toContain('--concurrency 64 --port 9 --warmup 1 --duration 5 --nice 10');
  });
});

describe('parseLoadgenFlood', () => {
  const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n';

  function output(fields: Readonly<Record<string, unknown>> = {}): LoadgenResult {
    return {
      mode: 'flood', conns: 64, seconds: 5, count: 50_000, rate: 10_000, payload_mb_per_s: 0, gen_cpu: 0.4, server_cpu: 0.9,
      server_core_busy: 0.95, server_core_steal: 0, gen_core_busy: 0.9, wire_out_per_msg: 0, wire_in_per_msg: 0,
      window_start_unix_ms: 1_000_000, window_end_unix_ms: 1_005_000, flood: 'bad-key', expected_status: 400,
      statuses: { 400: 60_000 }, accepted: 0, closed_early: 0, timeouts: 0, connections: 49_990, request: REQUEST,
      ...fields,
    } as unknown as LoadgenResult;
  }

  it('takes the rate over the window, the statuses over the run, and the connections opened per second', () => {
    const result = parseLoadgenFlood(output(), 400);
    expect(result.responsesPerSecond).toBe(10_000);
    expect(result.responses).toBe(50_000);
    expect(result.expected).toBe(60_000);
    expect(result.unexpected).toEqual({});
    expect(result.newConnectionsPerSecond).toBe(9998);
    expect(result.clientCpu).toBe(0.4);
    expect([result.startMs, result.finishMs]).toEqual([1_000_000, 1_005_000]);
    expect(result.request).toBe(REQUEST);
  });

  it('keeps other statuses apart, 1xx and 2xx as accepted handshakes, and names the errors', () => {
    const result = parseLoadgenFlood(output({ statuses: { 400: 10, 101: 7, 200: 1, 403: 2 }, accepted: 8, closed_early: 3, timeouts: 2 }), 400);
    expect(result.expected).toBe(10);
    expect(result.unexpected).toEqual({ 101: 7, 200: 1, 403: 2 });
    expect(result.accepted).toBe(8);
    expect(result.errors).toBe(5);
    expect(result.timeouts).toBe(2);
    expect(result.errorCodes).toEqual({ 'closed unanswered': 3, 'stalled 3 s': 2 });
  });

  it('refuses output of another mode or variant, or that does not add up', () => {
    expect(() => parseLoadgenFlood(output({ mode: 'echo' }), 400)).toThrow(/mode echo, not flood/);
    expect(() => parseLoadgenFlood(output(), 403)).toThrow(/expected 400, the variant 403/);
    expect(() => parseLoadgenFlood(output({ statuses: { 600: 1 } }), 400)).toThrow(/status 600/);
    expect(() => parseLoadgenFlood(output({ statuses: { 400: 1, 101: 2 }, accepted: 0 }), 400)).toThrow(/accepted 0, but the statuses say 2/);
    expect(() => parseLoadgenFlood(output({ request: 'GET / HTTP/1.1\r\n' }), 400)).toThrow(/no whole request/);
    expect(() => parseLoadgenFlood(output({ seconds: 0 }), 400)).toThrow(/0 s/);
    expect(() => parseLoadgenFlood(output({ window_end_unix_ms: 1_000_000 }), 400)).toThrow(/no measured window/);
  });

  it('reads the measured window every mode prints', () => {
    expect(measuredWindow(output())).toEqual({ startMs: 1_000_000, endMs: 1_005_000 });
    expect(() => measuredWindow({ ...output(), window_start_unix_ms: undefined } as unknown as LoadgenResult)).toThrow(/no measured window/);
  });
});
