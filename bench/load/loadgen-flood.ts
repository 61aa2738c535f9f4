/**
 * The C flood (bench/load/loadgen.c --mode flood): the requests autocannon sends (flood-requests.ts),
 * byte for byte, from one epoll thread in C that costs a few syscalls per answer, so its rate says
 * what the server refuses per second rather than what the client can send. Its command line, and the
 * reading of its JSON line into the FloodResult the report shares with autocannon's floods.
 */
import type { FloodVariant, FloodVariantId } from './flood-requests';
import type { FloodResult } from './flood-result';
import { nonNegative } from './flood-result';
import { GENERATOR_CORE, runLoadgen } from './processes';
import type { LoadgenResult } from './workloads';

/**
 * The C flood's measured window opens this long before the live generator's and closes this long
 * after it (checked each run), so every timed live round trip meets the flood at full rate.
 */
export const LOADGEN_FLOOD_MARGIN_SECONDS = 0.5;
/** How long loadgen.c waits for a connect, an answer or the server's close before giving up on a connection. */
export const LOADGEN_FLOOD_TIMEOUT_SECONDS = 3;
/** Time beyond the flood's warmup and duration for the generator to start and report before it is killed. */
const GRACE_MS = 15_000;

/** The fields loadgen.c adds in flood mode to those every mode prints. */
export interface LoadgenFloodOutput extends LoadgenResult {
  readonly flood: FloodVariantId;
  readonly expected_status: number;
  /** Every answer of the run (warmup included) by status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Answers with a 1xx or 2xx status. */
  readonly accepted: number;
  /** Connections the server closed or reset before answering the request sent on them. */
  readonly closed_early: number;
  /** Connections given up after LOADGEN_FLOOD_TIMEOUT_SECONDS without progress. */
  readonly timeouts: number;
  /** TCP connections opened in the measured window. */
  readonly connections: number;
  readonly request: string;
}

/** The measured window on the wall clock, which every mode of loadgen.c prints. */
export interface MeasuredWindow {
  readonly startMs: number;
  readonly endMs: number;
}

export interface LoadgenFloodRun {
  readonly binary: string;
  readonly port: number;
  readonly variant: FloodVariant;
  /** Connections at a time, each with one request in flight. */
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  /** Its nice level, below the live generator's, with which it shares a core. */
  readonly niceness: number;
}

function fail(what: string): never {
  throw new Error(`loadgen flood output: ${what}`);
}

function count(value: unknown, what: string): number {
  return nonNegative(value, what, fail);
}

export function loadgenFloodArgs(run: Omit<LoadgenFloodRun, 'binary'>): string[] {
  return [
    '--mode', 'flood',
    '--flood', run.variant.id,
    // The variant's Origin: an allowed one beside the bad key, a refused one beside the valid key.
    '--origin', run.variant.headers.Origin,
    '--concurrency', String(run.connections),
    '--port', String(run.port),
    '--warmup', String(run.warmupSeconds),
    '--duration', String(run.durationSeconds),
    '--nice', String(run.niceness),
    '--gen-core', String(GENERATOR_CORE),
  ];
}

export function measuredWindow(result: LoadgenResult): MeasuredWindow {
  const { window_start_unix_ms: startMs, window_end_unix_ms: endMs } = result as LoadgenResult & Record<string, unknown>;
  if (typeof startMs !== 'number' || typeof endMs !== 'number' || !(endMs > startMs)) {
    throw new Error('loadgen output: no measured window (window_start_unix_ms < window_end_unix_ms)');
  }
  return { startMs, endMs };
}

/**
 * The answers per second over the measured window; the statuses over the whole run, the expected one
 * told apart from every other (a 1xx or 2xx is an accepted handshake: a failure); connections closed
 * unanswered and given up as errors by kind.
 */
export function parseLoadgenFlood(result: LoadgenResult, expectedStatus: number): FloodResult {
  const output = result as LoadgenFloodOutput;
  if (output.mode !== 'flood') fail(`mode ${output.mode}, not flood`);
  if (output.expected_status !== expectedStatus) fail(`it expected ${String(output.expected_status)}, the variant ${expectedStatus}`);
  if (typeof output.request !== 'string' || !output.request.endsWith('\r\n\r\n')) fail('no whole request');
  const seconds = count(output.seconds, 'seconds');
  if (seconds === 0) fail('the window lasted 0 s');
  const statuses = output.statuses ?? fail('no statuses');
  let expected = 0;
  let accepted = 0;
  const unexpected: Record<string, number> = {};
  for (const [status, value] of Object.entries(statuses)) {
    if (!/^[1-5]\d\d$/.test(status)) fail(`status ${status} is not three digits from 100 to 599`);
    const answers = count(value, `count of status ${status}`);
    if (Number(status) === expectedStatus) {
      expected += answers;
      continue;
    }
    unexpected[status] = answers;
    if (Number(status) < 300) accepted += answers;
  }
  if (accepted !== count(output.accepted, 'accepted')) fail(`accepted ${output.accepted}, but the statuses say ${accepted}`);
  const closedEarly = count(output.closed_early, 'closed_early');
  const timeouts = count(output.timeouts, 'timeouts');
  const errorCodes: Record<string, number> = {};
  if (closedEarly > 0) errorCodes['closed unanswered'] = closedEarly;
  if (timeouts > 0) errorCodes[`stalled ${LOADGEN_FLOOD_TIMEOUT_SECONDS} s`] = timeouts;
  const window = measuredWindow(result);
  return {
    responsesPerSecond: count(output.rate, 'rate'),
    responses: count(output.count, 'count'),
    seconds,
    expected,
    unexpected,
    accepted,
    errors: closedEarly + timeouts,
    timeouts,
    errorCodes,
    newConnectionsPerSecond: count(output.connections, 'connections') / seconds,
    clientCpu: count(output.gen_cpu, 'gen_cpu'),
    startMs: window.startMs,
    finishMs: window.endMs,
    request: output.request,
  };
}

export async function runLoadgenFlood(run: LoadgenFloodRun): Promise<FloodResult> {
  const result = await runLoadgen(run.binary, loadgenFloodArgs(run), {
    timeoutMs: (run.warmupSeconds + run.durationSeconds) * 1000 + GRACE_MS,
  });
  return parseLoadgenFlood(result, run.variant.expectedStatus);
}
