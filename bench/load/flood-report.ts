/**
 * The "upgrade-flood" section of bench/RESULTS.md and the terminal print of the same text: per flood
 * variant, each server's rejections per second with what went wrong (statuses other than the expected
 * one, errors) and what its live connections got meanwhile, beside a table of the same live load
 * without a flood; then the exact requests, and every failure in full.
 */
import { markdownTable } from '../lib/table';
import type { Cell } from '../lib/table';
import type { ChartBar } from './svg-chart';
import { ALLOWED_ORIGIN } from './flood-requests';
import type { FloodVariant } from './flood-requests';
import { FLOOD_LEAD_MS, FLOOD_NICENESS, FLOOD_TAIL_SECONDS } from './flood-runner';
import { commonLimit, CORE_BUSY, median, SATURATED, summarize } from './stats';
import type { Summary } from './stats';

export const SECTION_NAME = 'upgrade-flood';
export const CHART_FILE = 'upgrade-flood.svg';

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
  readonly floods: ReadonlyMap<FloodVariant['id'], ConditionResult>;
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

export type FloodLimit = 'server CPU' | 'core 1 (autocannon + generator)' | 'core 0 busy' | 'core 1 busy' | 'round trips';

/**
 * What held the flood's rate in one run: the server using its core, or autocannon and the generator
 * filling theirs; failing both, a core busy without them (softirq for loopback TCP, or another job on
 * this shared machine); failing that, autocannon's round trips.
 */
export function floodLimit(run: RunFigures): FloodLimit {
  if (run.live.serverCpu >= SATURATED) return 'server CPU';
  if (run.flood !== null && run.flood.clientCpu + run.live.genCpu >= SATURATED) return 'core 1 (autocannon + generator)';
  if (run.live.serverCoreBusy >= CORE_BUSY) return 'core 0 busy';
  if (run.live.genCoreBusy >= CORE_BUSY) return 'core 1 busy';
  return 'round trips';
}

function spreadText(summary: Summary): string {
  return `±${((summary.spread * 100) / 2).toFixed(1)}%`;
}

export function variantTable(variant: FloodVariant, servers: readonly ServerResult[], baselineId: string): string {
  const header = [
    'server', 'rejections/s', 'spread', 'vs ws', `statuses other than ${variant.expectedStatus}`, 'errors',
    'live p99 µs, flood', 'live p99 µs, none', 'p99 ×', 'live echoes checked', 'server CPU', 'core 0 busy', 'gen CPU',
    'autocannon CPU', 'core 1 busy', 'limited by',
  ];
  const baseline = servers.find((server) => server.id === baselineId);
  const baselineRate = baseline === undefined ? null : rejectionSummary(baseline.floods.get(variant.id) ?? { runs: [], failure: null });
  const rows: Cell[][] = servers.map((server) => {
    const condition = server.floods.get(variant.id) ?? { runs: [], failure: 'not run' };
    const summary = rejectionSummary(condition);
    const floodP99 = medianOf(condition.runs, (run) => run.live.p99Us);
    const quietP99 = medianOf(server.quiet.runs, (run) => run.live.p99Us);
    const failed = condition.failure === null ? '' : ` (then FAILED: see below)`;
    return [
      server.label,
      summary === null ? 'FAILED' : summary.median,
      summary === null ? '' : spreadText(summary),
      summary === null || baselineRate === null || baselineRate.median === 0 ? 'n/a' : `${(summary.median / baselineRate.median).toFixed(2)}x`,
      `${countsText(sumCounts(condition.runs, (flood) => flood.unexpected))}${failed}`,
      countsText(sumCounts(condition.runs, (flood) => flood.errorCodes)),
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
  return markdownTable(header, rows);
}

export function quietTable(servers: readonly ServerResult[]): string {
  const header = ['server', 'live p50 µs', 'live p99 µs', 'live p99.9 µs', 'live echoes checked', 'server CPU', 'core 0 busy', 'gen CPU', 'core 1 busy', 'note'];
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

/** One bar per server and variant, at the median rejections per second; the status names the variant (labels stay short enough for the chart). */
export function chartBars(variants: readonly FloodVariant[], servers: readonly ServerResult[]): ChartBar[] {
  return variants.flatMap((variant) =>
    servers.map((server) => ({
      label: `${server.label}, ${variant.expectedStatus}`,
      summary: rejectionSummary(server.floods.get(variant.id) ?? { runs: [], failure: null }),
    })),
  );
}

/** Every failed run and every wrong status, one line each, in full. */
export function problemLines(variants: readonly FloodVariant[], servers: readonly ServerResult[]): string[] {
  const lines: string[] = [];
  for (const server of servers) {
    if (server.quiet.failure !== null) lines.push(`- ${server.label}, no flood: ${server.quiet.failure}`);
    for (const variant of variants) {
      const condition = server.floods.get(variant.id);
      if (condition === undefined) continue;
      condition.runs.forEach((run, index) => {
        if (run.flood === null || Object.keys(run.flood.unexpected).length === 0) return;
        const accepted = run.flood.accepted > 0 ? `; ${run.flood.accepted} of them accepted a handshake it had to refuse` : '';
        lines.push(`- ${server.label}, ${variant.label}, run ${index + 1}: answered ${countsText(run.flood.unexpected)}${accepted}`);
      });
      if (condition.failure !== null) lines.push(`- ${server.label}, ${variant.label}: ${condition.failure}`);
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
    `- Flood: autocannon 8 (bench/load/flood-client.js), ${info.floodConnections} connections, one request in flight on each,`,
    `  pinned to core 1 beside the generator at nice ${FLOOD_NICENESS} (so the generator is not queued behind it), started`,
    `  ${FLOOD_LEAD_MS / 1000} s after the generator and running ${info.warmupSeconds} s + ${info.durationSeconds} s + ${FLOOD_TAIL_SECONDS} s, so it covers the`,
    '  whole measured window (checked each run). rejections/s: autocannon\'s completed responses per second over its run, whatever',
    '  the status; the next column lists every status other than the expected one (any 1xx or 2xx is an accepted handshake:',
    '  a failure), and "errors" autocannon\'s errors by code (timeouts included). autocannon writes its next request as soon',
    '  as a response ends, so against a server that closes after refusing, about every other request goes to a closing socket;',
    '  autocannon sends it again on a new connection and counts it neither as a response nor as an error.',
    `- Every server keeps the allow-list [${ALLOWED_ORIGIN}]: simdws with \`allowedOrigins\`, ws with \`verifyClient\``,
    '  answering 403, uWebSockets.js in its `upgrade` handler (with ws\'s key check, as uWS itself only checks that the key',
    '  has 24 characters and would answer the bad key with 101). ws and simdws close the connection after refusing',
    '  (Connection: close), so each of their rejections also costs a TCP connection; uWebSockets.js keeps it open.',
    '- server CPU / gen CPU: the server\'s and the generator\'s CPU over the measured window (/proc/PID/stat); autocannon CPU:',
    '  its own (process.cpuUsage) over its run; core 0 / core 1 busy: the whole core (/proc/stat, softirq included, where',
    '  loopback TCP does much of its work, so a core can be busy beyond its processes). All as a share of one core.',
    `  limited by: "server CPU" when the server used >= ${SATURATED * 100}% of its core; "core 1" when autocannon and the generator`,
    '  together did (then the figure is autocannon\'s rate, not the server\'s ceiling). spread: half of (max - min) / median.',
  ].join('\n');
}

export function renderSection(info: FloodRunInfo, variants: readonly FloodVariant[], servers: readonly ServerResult[], baselineId: string): string {
  const parts = [
    '## Upgrade-rejection flood',
    '',
    'Generated by `npm run bench:flood` (bench/load/upgrade-flood.ts); a rerun replaces this section. A server under a',
    'handshake flood must keep serving its connections: each server is flooded with upgrade requests it must refuse',
    'while a live load runs on its open connections, and the same live load is measured without the flood.',
    '',
    `- machine: ${info.machine}`,
    `- Node ${info.node}; ${info.pinning}`,
    `- date: ${info.date}; whole run ${info.minutes.toFixed(1)} min; 1-minute load average at start ${info.loadAverage}`,
    `- each figure: median of ${info.runs} runs of ${info.durationSeconds} s measured after ${info.warmupSeconds} s warmup, a fresh server process per run`,
    '- servers:',
    ...info.servers.map((line) => `    ${line}`),
    '',
    methodNotes(info),
    '',
    `![upgrade flood](charts/${CHART_FILE})`,
    '',
  ];
  for (const variant of variants) {
    parts.push(`### Flood: ${variant.label}`, '', 'Every request, as autocannon wrote it:', '', '```http', info.requests.get(variant.id) ?? '(never sent)', '```', '', variantTable(variant, servers, baselineId), '');
  }
  parts.push('### The same live load without a flood', '', quietTable(servers), '');
  const problems = problemLines(variants, servers);
  parts.push('### Problems', '', ...(problems.length === 0 ? ['None: every response had the expected status and every live run passed.'] : problems), '');
  return parts.join('\n');
}
