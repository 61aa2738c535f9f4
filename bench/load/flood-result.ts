/**
 * Reading one flood (bench/load/flood-client.js's JSON line, autocannon's result inside it): how many
 * responses came back per second, how many had the status a correct server answers with, what came
 * back instead, and the errors. Any 1xx or 2xx means the server accepted a handshake it had to refuse
 * (RFC 6455 section 4.2.2 item 4): that is a failure, never a rejection.
 */

/** The fields of autocannon 8's result that the report uses. */
interface AutocannonResult {
  readonly duration: number;
  readonly start: string;
  readonly finish: string;
  readonly errors: number;
  readonly timeouts: number;
  readonly requests: { readonly total: number; readonly sent: number };
  readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
}

interface FloodClientOutput {
  readonly result: AutocannonResult;
  readonly request: string | null;
  readonly errorCodes: Readonly<Record<string, number>>;
  readonly cpu: number;
}

/** One flood's figures, from autocannon (here) or from the C flood (loadgen-flood.ts). */
export interface FloodResult {
  /** Completed responses per second over the flood's run (the C flood: its measured window), whatever their status. */
  readonly responsesPerSecond: number;
  readonly responses: number;
  readonly seconds: number;
  /** Responses with the expected status. */
  readonly expected: number;
  /** Responses with any other status, by status. */
  readonly unexpected: Readonly<Record<string, number>>;
  /** Responses with a 1xx or 2xx status: upgrades or pages the server should have refused. */
  readonly accepted: number;
  /** The client's errors (timeouts included) and, of them, the timeouts. */
  readonly errors: number;
  readonly timeouts: number;
  readonly errorCodes: Readonly<Record<string, number>>;
  /** TCP connections opened per second; null where the client does not count them (autocannon). */
  readonly newConnectionsPerSecond: number | null;
  /** The flood client's CPU over its run, as a share of one core. */
  readonly clientCpu: number;
  /** The span the figures cover, on the wall clock: autocannon's run; the C flood's measured window. */
  readonly startMs: number;
  readonly finishMs: number;
  /** The request exactly as the client wrote it. */
  readonly request: string;
}

function fail(what: string): never {
  throw new Error(`flood client output: ${what}`);
}

/** `value` as a finite number >= 0; `onError` throws, naming the output it came from. */
export function nonNegative(value: unknown, what: string, onError: (what: string) => never): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) onError(`${what} is not a number >= 0`);
  return value;
}

function finite(value: unknown, what: string): number {
  return nonNegative(value, what, fail);
}

function time(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) fail(`${what} is not a date`);
  return ms;
}

export function parseFloodOutput(line: string, expectedStatus: number): FloodResult {
  let output: FloodClientOutput;
  try {
    output = JSON.parse(line) as FloodClientOutput;
  } catch {
    return fail(`not JSON: ${line.slice(0, 200)}`);
  }
  const result = output.result ?? fail('no result');
  if (typeof output.request !== 'string') fail('no request: autocannon never built one');
  const seconds = finite(result.duration, 'duration');
  if (seconds === 0) fail('the flood lasted 0 s');
  const responses = finite(result.requests?.total, 'requests.total');
  let expected = 0;
  let accepted = 0;
  const unexpected: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? fail('no statusCodeStats'))) {
    const count = finite(stats.count, `count of status ${status}`);
    if (Number(status) === expectedStatus) {
      expected += count;
      continue;
    }
    unexpected[status] = count;
    if (Number(status) < 300) accepted += count;
  }
  if (Object.values(unexpected).reduce((sum, count) => sum + count, expected) !== responses) {
    fail(`statusCodeStats do not add up to the ${responses} responses`);
  }
  return {
    responsesPerSecond: responses / seconds,
    responses,
    seconds,
    expected,
    unexpected,
    accepted,
    errors: finite(result.errors, 'errors'),
    timeouts: finite(result.timeouts, 'timeouts'),
    errorCodes: output.errorCodes ?? {},
    newConnectionsPerSecond: null,
    clientCpu: finite(output.cpu, 'cpu'),
    startMs: time(result.start, 'start'),
    finishMs: time(result.finish, 'finish'),
    request: output.request as string,
  };
}

