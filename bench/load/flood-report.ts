/**
 * The "upgrade-flood" section of bench/RESULTS.md and the terminal print of the same text: per flood
 * variant and flood client (autocannon, and the C flood that shows the server's own ceiling), each
 * server's rejections per second with what went wrong (statuses other than the expected one, errors),
 * what limited it and what its live connections got meanwhile, beside a table of the same live load
 * without a flood; then the exact requests, and every failure in full.
 */
import { markdownTable } from '../lib/table';
import type { Cell } from '../lib/table';
import type { ChartBar } from './svg-chart';
import { ALLOWED_ORIGIN } from './flood-requests';
import type { FloodVariant, FloodVariantId } from './flood-requests';
import { FLOOD_LEAD_MS, FLOOD_NICENESS, FLOOD_TAIL_SECONDS } from './flood-runner';
import { LOADGEN_FLOOD_MARGIN_SECONDS, LOADGEN_FLOOD_TIMEOUT_SECONDS } from './loadgen-flood';
import { runHeaderLines } from './results-writer';
import { commonLimit, CORE_BUSY, median, SATURATED, summarize } from './stats';
import type { Summary } from './stats';

export const SECTION_NAME = 'upgrade-flood';
export const CHART_FILE = 'upgrade-flood.svg';

export type FloodClientId = 'autocannon' | 'loadgen';

/** What sends a flood: autocannon, the tool issue 5 names, or the C flood (loadgen.c --mode flood). */
export interface FloodClient {
  readonly id: FloodClientId;
  readonly label: string;
  /** What a chart label calls it. */
  readonly short: string;
}

export const FLOOD_CLIENTS: readonly FloodClient[] = [
  { id: 'autocannon', label: 'autocannon', short: 'ac' },
  { id: 'loadgen', label: 'C flood', short: 'C' },
];

/** The key of one flood condition in ServerResult.floods. */
export function floodKey(client: FloodClientId, variant: FloodVariantId): string {
  return `${client}/${variant}`;
}

/** What the live connections got in one run: the generator's figures over its measured window. */
export interface LiveFigures {
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  /** Echoes timed in the window; every one was compared with what was sent. */
  readonly samples: number;
  readonly serverCpu: number;
  readonly genCpu: number;
  /** Whole-core busy shares (/proc/stat, softirq included, where loopback TCP does much of its work). */
  readonly serverCoreBusy: number;
  readonly genCoreBusy: number;
}

/** One flood run's figures (see flood-result.ts). */
export interface FloodFigures {
  readonly responsesPerSecond: number;
  readonly unexpected: Readonly<Record<string, number>>;
  readonly accepted: number;
  readonly errorCodes: Readonly<Record<string, number>>;
  /** null where the client does not count them (autocannon). */
  readonly newConnectionsPerSecond: number | null;
  readonly clientCpu: number;
}

export interface RunFigures {
  readonly live: LiveFigures;
  /** null for the runs without a flood. */
  readonly flood: FloodFigures | null;
}

/** One server under one condition (no flood, or one variant) over its runs. */
export interface ConditionResult {
  readonly runs: readonly RunFigures[];
  /** Why the runs stopped, when one failed (the generator's or the server's own words). */
  readonly failure: string | null;
}

export interface ServerResult {
  readonly id: string;
  readonly label: string;
  readonly quiet: ConditionResult;
  /** By floodKey(client, variant). */
  readonly floods: ReadonlyMap<string, ConditionResult>;
}

export interface FloodRunInfo {
  readonly machine: string;
  readonly node: string;
  readonly date: string;
  readonly minutes: number;
  readonly loadAverage: string;
  readonly pinning: string;
  readonly runs: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly floodConnections: number;
  readonly liveArgs: readonly string[];
  readonly servers: readonly string[];
  /** The exact bytes of each variant's request, with the port as PORT. */
  readonly requests: ReadonlyMap<FloodVariant['id'], string>;
}

function percent(value: number | null): string {
  return value === null || value < 0 ? 'n/a' : `${Math.round(value * 100)}%`;
}

function medianOf(runs: readonly RunFigures[], pick: (run: RunFigures) => number | null): number | null {
  const values = runs.flatMap((run) => {
    const value = pick(run);
    return value === null ? [] : [value];
  });
  return values.length === 0 ? null : median(values);
}

function sumCounts(runs: readonly RunFigures[], pick: (flood: FloodFigures) => Readonly<Record<string, number>>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const run of runs) {
    if (run.flood === null) continue;
    for (const [key, count] of Object.entries(pick(run.flood))) total[key] = (total[key] ?? 0) + count;
  }
  return total;
}

function countsText(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? 'none' : entries.map(([key, count]) => `${count} × ${key}`).join(', ');
}

export function rejectionSummary(condition: ConditionResult): Summary | null {
  const rates = condition.runs.flatMap((run) => (run.flood === null ? [] : [run.flood.responsesPerSecond]));
  return rates.length === 0 ? null : summarize(rates);
}

/** Whether a flood went wrong: statuses other than the expected one, accepted handshakes, a failed run. */
export function floodFaulty(condition: ConditionResult): boolean {
  if (condition.failure !== null) return true;
  return condition.runs.some((run) => run.flood !== null && Object.keys(run.flood.unexpected).length > 0);
}

export type FloodLimit =
  | 'server CPU'
  | 'server CPU, and core 1 full'
  | 'core 1 (flood client + live generator)'
  | 'core 0 busy'
  | 'core 1 busy'
  | 'round trips';

/**
 * What held the flood's rate in one run: the server using its core, or the flood client and the live
 * generator filling theirs (both at once: the figure is the server's ceiling only as far as the client
 * could go); failing both, a core busy without them (softirq for loopback TCP, or another job on this
 * shared machine); failing that, the round trips of the client's connections.
 */
export function floodLimit(run: RunFigures): FloodLimit {
  const clientFull = run.flood !== null && run.flood.clientCpu + run.live.genCpu >= SATURATED;
  if (run.live.serverCpu >= SATURATED) return clientFull ? 'server CPU, and core 1 full' : 'server CPU';
  if (clientFull) return 'core 1 (flood client + live generator)';
  if (run.live.serverCoreBusy >= CORE_BUSY) return 'core 0 busy';
  if (run.live.genCoreBusy >= CORE_BUSY) return 'core 1 busy';
  return 'round trips';
}

function spreadText(summary: Summary): string {
  return `±${((summary.spread * 100) / 2).toFixed(1)}%`;
}

function floodOf(server: ServerResult, client: FloodClient, variant: FloodVariant): ConditionResult | undefined {
  return server.floods.get(floodKey(client.id, variant.id));
}

/** One row per flood client and server: the clients' rows apart, each ratio taken to ws under the same client. */
export function variantTable(variant: FloodVariant, clients: readonly FloodClient[], servers: readonly ServerResult[], baselineId: string): string {
  const header = [
    'server', 'flood client', 'rejections/s', 'spread', 'vs ws', `statuses other than ${variant.expectedStatus}`, 'errors',
    'new TCP conns/s', 'live p99 µs, flood', 'live p99 µs, none', 'p99 ×', 'live echoes checked', 'server CPU', 'core 0 busy',
    'live gen CPU', 'flood client CPU', 'core 1 busy', 'limited by',
  ];
  const baseline = servers.find((server) => server.id === baselineId);
  const rows: Cell[][] = clients.flatMap((client) => {
    const baselineFlood = baseline === undefined ? undefined : floodOf(baseline, client, variant);
    const baselineRate = baselineFlood === undefined ? null : rejectionSummary(baselineFlood);
    return servers.map((server): Cell[] => {
      const condition = floodOf(server, client, variant) ?? { runs: [], failure: 'not run' };
      const summary = rejectionSummary(condition);
      const floodP99 = medianOf(condition.runs, (run) => run.live.p99Us);
      const quietP99 = medianOf(server.quiet.runs, (run) => run.live.p99Us);
      const failed = condition.failure === null ? '' : ` (then FAILED: see below)`;
      return [
        server.label,
        client.label,
        summary === null ? 'FAILED' : summary.median,
        summary === null ? '' : spreadText(summary),
        summary === null || baselineRate === null || baselineRate.median === 0 ? 'n/a' : `${(summary.median / baselineRate.median).toFixed(2)}x`,
        `${countsText(sumCounts(condition.runs, (flood) => flood.unexpected))}${failed}`,
        countsText(sumCounts(condition.runs, (flood) => flood.errorCodes)),
        medianOf(condition.runs, (run) => run.flood?.newConnectionsPerSecond ?? null) ?? 'n/a',
        floodP99,
        quietP99,
        floodP99 === null || quietP99 === null || quietP99 === 0 ? 'n/a' : `${(floodP99 / quietP99).toFixed(1)}x`,
        condition.runs.reduce((sum, run) => sum + run.live.samples, 0),
        percent(medianOf(condition.runs, (run) => run.live.serverCpu)),
        percent(medianOf(condition.runs, (run) => run.live.serverCoreBusy)),
        percent(medianOf(condition.runs, (run) => run.live.genCpu)),
        percent(medianOf(condition.runs, (run) => run.flood?.clientCpu ?? null)),
        percent(medianOf(condition.runs, (run) => run.live.genCoreBusy)),
        condition.runs.length === 0 ? 'n/a' : commonLimit(condition.runs.map(floodLimit)),
      ];
    });
  });
  return markdownTable(header, rows);
}

export function quietTable(servers: readonly ServerResult[]): string {
  const header = ['server', 'live p50 µs', 'live p99 µs', 'live p99.9 µs', 'live echoes checked', 'server CPU', 'core 0 busy', 'live gen CPU', 'core 1 busy', 'note'];
  const rows: Cell[][] = servers.map((server) => {
    const runs = server.quiet.runs;
    return [
      server.label,
      medianOf(runs, (run) => run.live.p50Us),
      medianOf(runs, (run) => run.live.p99Us),
      medianOf(runs, (run) => run.live.p999Us),
      runs.reduce((sum, run) => sum + run.live.samples, 0),
      percent(medianOf(runs, (run) => run.live.serverCpu)),
      percent(medianOf(runs, (run) => run.live.serverCoreBusy)),
      percent(medianOf(runs, (run) => run.live.genCpu)),
      percent(medianOf(runs, (run) => run.live.genCoreBusy)),
      server.quiet.failure === null ? '' : 'FAILED: see below',
    ];
  });
  return markdownTable(header, rows);
}

/**
 * One bar per variant, flood client and server, at the median rejections per second; the label names
 * the variant by its status and the client by its short name, so it fits the chart's label column.
 */
export function chartBars(variants: readonly FloodVariant[], clients: readonly FloodClient[], servers: readonly ServerResult[]): ChartBar[] {
  return variants.flatMap((variant) =>
    clients.flatMap((client) =>
      servers.map((server) => ({
        label: `${server.label}, ${variant.expectedStatus}, ${client.short}`,
        summary: rejectionSummary(floodOf(server, client, variant) ?? { runs: [], failure: null }),
      })),
    ),
  );
}

/** Every failed run and every wrong status, one line each, in full. */
export function problemLines(variants: readonly FloodVariant[], clients: readonly FloodClient[], servers: readonly ServerResult[]): string[] {
  const lines: string[] = [];
  for (const server of servers) {
    if (server.quiet.failure !== null) lines.push(`- ${server.label}, no flood: ${server.quiet.failure}`);
    for (const variant of variants) {
      for (const client of clients) {
        const condition = floodOf(server, client, variant);
        if (condition === undefined) continue;
        const where = `${server.label}, ${variant.label}, ${client.label}`;
        condition.runs.forEach((run, index) => {
          if (run.flood === null || Object.keys(run.flood.unexpected).length === 0) return;
          const accepted = run.flood.accepted > 0 ? `; ${run.flood.accepted} of them accepted a handshake it had to refuse` : '';
          lines.push(`- ${where}, run ${index + 1}: answered ${countsText(run.flood.unexpected)}${accepted}`);
        });
        if (condition.failure !== null) lines.push(`- ${where}: ${condition.failure}`);
      }
    }
  }
  return lines;
}

export function methodNotes(info: FloodRunInfo): string {
  return [
    `- Live connections: bench/load/loadgen.c \`${info.liveArgs.join(' ')}\` with an allowed Origin, on core 1: open loop,`,
    '  every round trip counted from its scheduled send time, every echo compared with what was sent; a wrong echo, a',
    '  connection the server closes, or an echo not back within 3 s fails the run. "live echoes checked": echoes timed in',
    '  the measured windows of all runs.',
    `- Flood clients, each in its own runs, ${info.floodConnections} connections with one request in flight on each, pinned to core 1`,
    `  beside the live generator at nice ${FLOOD_NICENESS} (so the generator is not queued behind them):`,
    `  - autocannon 8 (bench/load/flood-client.js), the client issue 5 names, started ${FLOOD_LEAD_MS / 1000} s after the generator and running`,
    `    ${info.warmupSeconds} s + ${info.durationSeconds} s + ${FLOOD_TAIL_SECONDS} s, so it covers the whole measured window (checked each run).`,
    '    rejections/s: its completed responses per second over its run, whatever the status; "errors": its errors by code.',
    '    It writes its next request as soon as a response ends, so against a server that closes after refusing, about every',
    '    other request goes to a closing socket; it sends that one again on a new connection and counts it neither as a',
    '    response nor as an error. Against ws and simdws it pays a new connection per rejection from a Node process.',
    '  - C flood: bench/load/loadgen.c `--mode flood`, one epoll thread sending the same bytes (compared with autocannon\'s',
    '    each run): connect, send the request, read the answer\'s status line and, by its Content-Length, its body; then,',
    '    when the answer says Connection: close (ws, simdws), wait for the server\'s close and connect again, and when it does',
    '    not (uWebSockets.js), send the next request on the same connection. It never writes to a closing socket, so each',
    '    of ws\'s and simdws\'s rejections costs exactly one TCP connection ("new TCP conns/s"). Its measured window opens',
    `    ${LOADGEN_FLOOD_MARGIN_SECONDS} s before the live generator's and closes ${LOADGEN_FLOOD_MARGIN_SECONDS} s after it (checked each run). rejections/s: answers per`,
    '    second over that window, whatever the status; the statuses column counts every answer of its run; "errors":',
    `    connections the server closed unanswered, and connections stalled ${LOADGEN_FLOOD_TIMEOUT_SECONDS} s (connect, answer or close), then replaced.`,
    '  Any 1xx or 2xx status is an accepted handshake: a failure.',
    `- Every server keeps the allow-list [${ALLOWED_ORIGIN}]: simdws with \`allowedOrigins\`, ws with \`verifyClient\``,
    '  answering 403, uWebSockets.js in its `upgrade` handler (with ws\'s key check, as uWS itself only checks that the key',
    '  has 24 characters and would answer the bad key with 101). ws and simdws close the connection after refusing',
    '  (Connection: close), so each of their rejections also costs a TCP connection; uWebSockets.js keeps it open.',
    '- server CPU / live gen CPU: the server\'s and the live generator\'s CPU over its measured window (/proc/PID/stat);',
    '  flood client CPU: autocannon\'s (process.cpuUsage) over its run, the C flood\'s (CLOCK_PROCESS_CPUTIME_ID) over its',
    '  window; core 0 / core 1 busy: the whole core (/proc/stat, softirq included). All as a share of one core. Loopback',
    '  TCP processes each packet on the core that sent it, so the server\'s side of every connection the flood opens',
    '  (SYN, request, FIN) is kernel work on core 1, and a core can be busy well beyond its processes.',
    `  limited by: "server CPU" when the server used >= ${SATURATED * 100}% of its core; "core 1 (flood client + live generator)"`,
    '  when those two together did (then the figure is the client\'s rate, not the server\'s ceiling); "server CPU, and core 1',
    '  full" when both held (the server\'s ceiling, as far as the client could reach it); "core 0 busy" /',
    `  "core 1 busy" when the core was >= ${CORE_BUSY * 100}% busy beyond them (loopback TCP, or another job on this shared machine);`,
    '  else "round trips". spread: half of (max - min) / median.',
  ].join('\n');
}

export function renderSection(info: FloodRunInfo, variants: readonly FloodVariant[], clients: readonly FloodClient[], servers: readonly ServerResult[], baselineId: string): string {
  const parts = [
    '## Upgrade-rejection flood',
    '',
    'Generated by `npm run bench:flood` (bench/load/upgrade-flood.ts); a rerun replaces this section. A server under a',
    'handshake flood must keep serving its connections: each server is flooded with upgrade requests it must refuse',
    'while a live load runs on its open connections, and the same live load is measured without the flood. Each flood',
    'runs twice: from autocannon, and from the C flood, which costs so much less per rejection that the rate it reaches',
    'is the server\'s ("limited by" says where it is not).',
    '',
    ...runHeaderLines(info, 'figure'),
    '',
    methodNotes(info),
    '',
    `![upgrade flood](charts/${CHART_FILE})`,
    '',
  ];
  for (const variant of variants) {
    parts.push(
      `### Flood: ${variant.label}`, '', 'Every request, as autocannon wrote it and the C flood sends it:', '', '```http',
      info.requests.get(variant.id) ?? '(never sent)', '```', '', variantTable(variant, clients, servers, baselineId), '',
    );
  }
  parts.push('### The same live load without a flood', '', quietTable(servers), '');
  const problems = problemLines(variants, clients, servers);
  parts.push('### Problems', '', ...(problems.length === 0 ? ['None: every response had the expected status and every live run passed.'] : problems), '');
  return parts.join('\n');
}
