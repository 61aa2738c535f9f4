/**
 * Starting, talking to and ending the benchmark's processes. Servers run on core 0 and the generator
 * on core 1 (taskset), each behind `sh -c 'ulimit -n …; exec …'` so 10,000 connections fit under the
 * descriptor limit; `exec` keeps the PID, so the PID we hold is the process measured and ended. Every
 * process is ended by its PID; none outlives its run.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import type { ServerDefinition } from './servers';
import type { LoadgenResult } from './workloads';

export const SERVER_CORE = 0;
export const GENERATOR_CORE = 1;

/** Raise the soft descriptor limit as far as the hard limit allows (65535 when permitted). */
const RAISE_FD_LIMIT = 'ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;

const live = new Set<ChildProcessWithoutNullStreams>();

/** How the run was pinned, for the results files' headers. */
export function pinningLine(): string {
  return tasksetWorks() ? `server pinned to CPU ${SERVER_CORE}, generator to CPU ${GENERATOR_CORE} (taskset)` : 'NOT pinned: taskset unavailable';
}

/** The generator's arguments every measured run shares: where the server is, how long to measure, whose CPU to record. */
export function generatorArgs(port: number, serverPid: number, timing: { readonly warmupSeconds: number; readonly durationSeconds: number }): string[] {
  return [
    '--port', String(port),
    '--warmup', String(timing.warmupSeconds),
    '--duration', String(timing.durationSeconds),
    '--server-pid', String(serverPid),
    '--server-core', String(SERVER_CORE),
    '--gen-core', String(GENERATOR_CORE),
  ];
}

/** The children (servers and generators) started and not yet exited: a test checks none outlives it. */
export function runningChildren(): number {
  return live.size;
}

/** Ends every child still running, by PID: for an interrupted or failed run. */
export function endAllChildren(): void {
  for (const child of live) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
}

let pinningChecked: boolean | null = null;

export function tasksetWorks(): boolean {
  if (pinningChecked === null) {
    const probe = spawnSync('taskset', ['-c', String(GENERATOR_CORE), 'true']);
    pinningChecked = probe.error === undefined && probe.status === 0;
  }
  return pinningChecked;
}

function launch(core: number, command: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams {
  const pinned = tasksetWorks() ? ['taskset', '-c', String(core), command] : [command];
  const child = spawn('/bin/sh', ['-c', RAISE_FD_LIMIT, 'sh', ...pinned, ...args], { env, stdio: 'pipe' });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves with the first stdout line for which `match` is true; rejects if the process exits first. */
function waitForLine(child: ChildProcessWithoutNullStreams, lines: readline.Interface, match: (line: string) => boolean, what: string, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}${stderr()}`)), READY_TIMEOUT_MS);
    const onLine = (line: string): void => {
      if (match(line)) finish(null, line);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`exited (${signal ?? code}) before ${what}${stderr()}`));
    function finish(error: Error | null, line = ''): void {
      clearTimeout(timer);
      lines.off('line', onLine);
      child.off('exit', onExit);
      if (error === null) resolve(line);
      else reject(error);
    }
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

function collectStderr(child: ChildProcessWithoutNullStreams): () => string {
  let text = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    text = (text + chunk).slice(-4000);
  });
  return () => (text.trim() === '' ? '' : `:\n${text.trim()}`);
}

export interface RunningServer {
  readonly pid: number;
  /** What the server printed about itself on start (library versions, kernel tier). */
  readonly description: string;
  collectGarbage(): Promise<void>;
  rssBytes(): number;
  stop(): Promise<void>;
}

export async function startServer(definition: ServerDefinition, port: number): Promise<RunningServer> {
  const child = launch(SERVER_CORE, definition.command, [...definition.args, String(port)], { ...process.env, ...definition.env });
  const stderr = collectStderr(child);
  const lines = readline.createInterface({ input: child.stdout });
  try {
    await waitForLine(child, lines, (line) => line === `ready ${port}`, `${definition.id} to listen`, stderr);
  } catch (error) {
    if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    throw error;
  }
  const pid = child.pid as number;
  return {
    pid,
    description: stderr().replace(/^:\n/, ''),
    async collectGarbage() {
      const done = waitForLine(child, lines, (line) => line === 'gc-done', `${definition.id} to collect garbage`, stderr);
      child.stdin.write('gc\n');
      await done;
    },
    rssBytes() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
      return Number(match[1]) * 1024;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const force = setTimeout(() => process.kill(pid, 'SIGKILL'), STOP_GRACE_MS);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        process.kill(pid, 'SIGTERM');
      });
    },
  };
}

export interface LoadgenRun {
  /** Called on the generator's "ready" line (idle mode); the hold ends when it resolves. */
  readonly onReady?: (event: { conns: number; connect_seconds: number }) => Promise<void>;
  /** Kill the generator if it has not finished after this long. */
  readonly timeoutMs: number;
}

export function runLoadgen(binary: string, args: readonly string[], run: LoadgenRun): Promise<LoadgenResult> {
  const child = launch(GENERATOR_CORE, binary, args, process.env);
  const stderr = collectStderr(child);
  const lines = readline.createInterface({ input: child.stdout });
  let result: LoadgenResult | null = null;
  let readyFailure: Error | null = null;
  lines.on('line', (line) => {
    const parsed = JSON.parse(line) as { event?: string };
    if (parsed.event === 'ready') {
      const onReady = run.onReady ?? (() => Promise.resolve());
      onReady(parsed as { conns: number; connect_seconds: number })
        .catch((error: Error) => {
          readyFailure = error;
        })
        .finally(() => child.stdin.end('done\n'));
      return;
    }
    result = parsed as LoadgenResult;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, run.timeoutMs);
    // 'close' comes after stdout has ended, so the result line has been read by then.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (readyFailure !== null) reject(readyFailure);
      else if (code === 0 && result !== null) resolve(result);
      else reject(new Error(`load generator ${signal === 'SIGKILL' ? 'timed out' : `failed (${signal ?? code})`}${stderr()}`));
    });
  });
}
