/**
 * Starts one autocannon flood (flood-client.js) on the generator's core, waits for its result, and
 * ends it by its PID if it overstays. `taskset` and `nice` exec the next program, so the PID held is
 * autocannon's own.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import path from 'node:path';
import { parseFloodOutput } from './flood-result';
import type { FloodResult } from './flood-result';
import { GENERATOR_CORE, tasksetWorks } from './processes';

const CLIENT = path.join(__dirname, 'flood-client.js');
/**
 * The flood shares core 1 with the C generator that times the live connections. Under a lower
 * priority it takes only the time the generator leaves, so the live round trips measure the server's
 * delay and not the generator waiting behind autocannon for its own core.
 */
export const FLOOD_NICENESS = 10;
/** The flood starts this long after the generator, once the live connections are open: they are the server's own. */
export const FLOOD_LEAD_MS = 500;
/** The flood runs this long past the generator's measured window, so it covers the window and the drain. */
export const FLOOD_TAIL_SECONDS = 2;
/** Time beyond the flood's duration for autocannon to start and report before it is killed. */
const GRACE_MS = 15_000;

export interface FloodRun {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly expectedStatus: number;
}

const live = new Set<ChildProcessWithoutNullStreams>();

/** Ends every flood still running, by PID: for an interrupted or failed run. */
export function endAllFloods(): void {
  for (const child of live) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

function commandLine(config: string): string[] {
  const client = [process.execPath, CLIENT, config];
  const lowered = ['nice', '-n', String(FLOOD_NICENESS), ...client];
  return tasksetWorks() ? ['taskset', '-c', String(GENERATOR_CORE), ...lowered] : lowered;
}

export function runFlood(run: FloodRun): Promise<FloodResult> {
  const config = JSON.stringify({ url: run.url, connections: run.connections, durationSeconds: run.durationSeconds, headers: run.headers });
  const [command, ...args] = commandLine(config);
  const child = spawn(command, args, { stdio: 'pipe' });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, run.durationSeconds * 1000 + GRACE_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      if (code !== 0) {
        reject(new Error(`autocannon ${signal === 'SIGKILL' ? 'timed out' : `failed (${signal ?? code})`}: ${stderr.trim()}`));
        return;
      }
      try {
        resolve(parseFloodOutput(stdout.trim(), run.expectedStatus));
      } catch (error) {
        reject(error);
      }
    });
  });
}
