/**
 * What a test started and must not outlive it: server processes and client connections, ended after
 * each test however it went (test/helpers/ipc-server-process.ts, test/helpers/non-reading-peer.ts).
 */
import type { ChildProcess } from 'child_process';
import { Socket } from 'net';
import type WsClient from 'ws';
import { afterEach } from 'vitest';

export interface EndedAfterEach {
  readonly children: ChildProcess[];
  readonly clients: (WsClient | Socket)[];
}

/** Registers the afterEach hook of the calling test file; push what you start into the lists. */
export function endedAfterEach(): EndedAfterEach {
  const started: EndedAfterEach = { children: [], clients: [] };
  afterEach(() => {
    for (const client of started.clients.splice(0)) {
      if (client instanceof Socket) client.destroy();
      else client.terminate();
    }
    for (const child of started.children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  return started;
}
