/**
 * What every load-generator test file sets up: the generator binary, built once per file, and the
 * servers a test starts, every one stopped after the test (only the processes the test started).
 */
import { afterEach, beforeAll, expect } from 'vitest';
import { buildLoadgen } from '../../../bench/load/build-loadgen';
import { runningChildren, startServer } from '../../../bench/load/processes';
import type { RunningServer } from '../../../bench/load/processes';
import type { ServerDefinition } from '../../../bench/load/servers';

export interface LoadgenSession {
  /** The generator's path (set before the first test). */
  readonly binary: string;
  /** Starts `definition` on `port`; it is stopped after the test, as is every other server the test started. */
  start(definition: ServerDefinition, port: number): Promise<RunningServer>;
}

export function useLoadgenSession(): LoadgenSession {
  const running: RunningServer[] = [];
  const session = {
    binary: '',
    async start(definition: ServerDefinition, port: number): Promise<RunningServer> {
      const server = await startServer(definition, port);
      running.push(server);
      return server;
    },
  };
  beforeAll(() => {
    session.binary = buildLoadgen();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop()));
    // Network tests stop by themselves: no server or generator of this test is left running.
    expect(runningChildren()).toBe(0);
  });
  return session;
}
