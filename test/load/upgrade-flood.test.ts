/**
 * The flood's parts against the real benchmark servers on 127.0.0.1, each with its Origin allow-list:
 * every response to a bad key is 400 and to a disallowed Origin 403 (RFC 6455 sections 4.2.1 and
 * 10.2), whatever the server; the generator's connections need an allowed Origin to be let in. Short
 * floods; nothing is asserted about rates.
 */
import { describe, expect, it } from 'vitest';
import { ALLOWED_ORIGIN, FLOOD_VARIANTS, ORIGINS_ENV } from '../../bench/load/flood-requests';
import { runFlood } from '../../bench/load/flood-runner';
import { freePort, runLoadgen } from '../../bench/load/processes';
import { SERVERS, ServerDefinition } from '../../bench/load/servers';
import { selectKernel } from '../../src/kernels/select';
import { useLoadgenSession } from './helpers/loadgen-session';
import { uwsBinaryShipped } from '../interop/helpers/uws-server';

const defaultTier = selectKernel({}).info.name;
const FLOODED = ['ws', 'uws', `simdws-${defaultTier}`].map((id) => SERVERS.find((server) => server.id === id) as ServerDefinition);
const SIMDWS = FLOODED[2];
const ECHO = ['--mode', 'echo', '--conns', '2', '--inflight', '2', '--size', '32', '--warmup', '0.2', '--duration', '0.5'];

const session = useLoadgenSession();

async function start(definition: ServerDefinition): Promise<number> {
  const port = await freePort();
  await session.start({ ...definition, env: { ...definition.env, [ORIGINS_ENV]: ALLOWED_ORIGIN } }, port);
  return port;
}

describe('the upgrade flood against each server with an allow-list', () => {
  for (const server of FLOODED) {
    // uWebSockets.js ships no binary for some Node versions (Node 24); its row is skipped there, as in test/interop.
    it.skipIf(server.id === 'uws' && !uwsBinaryShipped())(`${server.label}: every response has the expected status, none accepts`, async () => {
      const port = await start(server);
      for (const variant of FLOOD_VARIANTS) {
        const result = await runFlood({
          url: `http://127.0.0.1:${port}/`,
          connections: 8,
          durationSeconds: 1,
          headers: variant.headers,
          expectedStatus: variant.expectedStatus,
        });
        expect(result.responses).toBeGreaterThan(50);
        expect(result.unexpected).toEqual({});
        expect(result.expected).toBe(result.responses);
        expect(result.accepted).toBe(0);
        expect(result.timeouts).toBe(0);
        expect(result.request).toContain(`Origin: ${variant.headers.Origin}\r\n`);
      }
    });
  }
});

describe('the live connections', () => {
  it('are let in with an allowed Origin (loadgen --origin) and echo correctly', async () => {
    const port = await start(SIMDWS);
    const result = await runLoadgen(session.binary, [...ECHO, '--origin', ALLOWED_ORIGIN, '--port', String(port)], { timeoutMs: 15_000 });
    expect(result.count).toBeGreaterThan(10);
  });

  it('are refused with 403 without an Origin, so the flag is what lets them in', async () => {
    const port = await start(SIMDWS);
    await expect(runLoadgen(session.binary, [...ECHO, '--port', String(port)], { timeoutMs: 15_000 })).rejects.toThrow(
      /upgrade refused: HTTP\/1\.1 403/,
    );
  });
});
