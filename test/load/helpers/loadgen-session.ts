/**
 * What every load-generator test file sets up: the generator binary, built once per file, and the
 * one server a test starts, stopped after each test (only the process the test started).
 */
import { afterEach, beforeAll } from 'vitest';
import { buildLoadgen } from '../../../bench/load/build-loadgen';
import { startServer } from '../../../bench/load/processes';
import type { RunningServer } from '../../../bench/load/processes';
import type { ServerDefinition } from '../../../bench/load/servers';

export interface LoadgenSession {
  /** The generator's path (set before the first test). */
  readonly binary: string;
  /** Starts `definition` on `port`; it is stopped after the test. */
  start(definition: ServerDefinition, port: number): Promise<RunningServer>;
}

export function useLoadgenSession(): LoadgenSession {
  let running: RunningServer | null = null;
  const session = {
    binary: '',
    async start(definition: ServerDefinition, port: number): Promise<RunningServer> {
      running = await startServer(definition, port);
      return running;
    },
  };
  beforeAll(() => {
    session.binary = buildLoadgen();
  });
  afterEach(async () => {
    await running?.stop();
    running = null;
  });
  return session;
}
