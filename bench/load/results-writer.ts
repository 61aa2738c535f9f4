/**
 * The "Load" section of bench/RESULTS.md (between its own markers; the "Kernels" section and any
 * prose are left alone) and the terminal print of the same text: a table per workload with the
 * median, spread, ratio to ws, CPU of both sides and what limited the row, after one overview table and
 * the targets' verdicts (targets.ts).
 */
import { markdownTable } from '../lib/table';
import type { Limit, Summary } from './stats';
import { targetsSection } from './targets';
import type { Workload } from './workloads';

export const SECTION_NAME = 'load';

export interface LoadRow {
  readonly serverId: string;
  readonly label: string;
  /** null when the server failed this workload; `error` says why. */
  readonly summary: Summary | null;
  readonly error: string | null;
  /** Medians over the runs, as fractions of one core; null where not measured (memory). */
  readonly serverCpu: number | null;
  readonly serverCoreBusy: number | null;
  readonly genCpu: number | null;
  readonly genCoreBusy: number | null;
  readonly limit: Limit | null;
  /** Medians over the runs of the frame bytes per message sent and received; null where not measured. */
  readonly wireOut: number | null;
  readonly wireIn: number | null;
  /** A second figure worth showing (p50 beside p99, connect time beside memory, deflate's agreement). */
  readonly note: string;
}

export interface WorkloadResult {
  readonly workload: Workload;
  readonly rows: readonly LoadRow[];
}

export interface RunInfo {
  readonly machine: string;
  readonly node: string;
  readonly date: string;
  readonly pinning: string;
  readonly runs: number;
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly loadAverage: string;
  readonly servers: readonly string[];
  readonly minutes: number;
}

/** What a section's header says of its run: bench:load's RunInfo, and bench:flood's (flood-report.ts). */
export type RunHeader = Pick<
  RunInfo,
  'machine' | 'node' | 'pinning' | 'date' | 'minutes' | 'loadAverage' | 'runs' | 'warmupSeconds' | 'durationSeconds' | 'servers'
>;

/** The header's lines: machine, Node and pinning, date, what each figure is a median of (`each`: "row", "figure"), servers. */
export function runHeaderLines(info: RunHeader, each: string): string[] {
  return [
    `- machine: ${info.machine}`,
    `- Node ${info.node}; ${info.pinning}`,
    `- date: ${info.date}; whole run ${info.minutes.toFixed(1)} min; 1-minute load average at start ${info.loadAverage}`,
    `- each ${each}: median of ${info.runs} runs of ${info.durationSeconds} s measured after ${info.warmupSeconds} s warmup, a fresh server process per run`,
    '- servers:',
    ...info.servers.map((line) => `    ${line}`),
  ];
}

function percent(value: number | null): string {
  return value === null || value < 0 ? 'n/a' : `${Math.round(value * 100)}%`;
}

/** How the row compares with ws, oriented so that > 1x always means better than ws. */
export function ratioToBaseline(workload: Workload, row: LoadRow, baseline: LoadRow | undefined): string {
  if (row.summary === null || baseline === undefined || baseline.summary === null || baseline.summary.median === 0) return 'n/a';
  const ratio = workload.higherIsBetter
    ? row.summary.median / baseline.summary.median
    : baseline.summary.median / row.summary.median;
  return `${ratio.toFixed(2)}x`;
}

/** Compressed workloads show the bytes on the wire each way beside the figure. */
function wireHeader(workload: Workload): string[] {
  return workload.deflate ? ['wire B/msg out', 'wire B/msg in'] : [];
}

function wireCells(workload: Workload, row: LoadRow): (number | null)[] {
  return workload.deflate ? [row.wireOut, row.wireIn] : [];
}

export function workloadTable(result: WorkloadResult, baselineId: string): string {
  const baseline = result.rows.find((row) => row.serverId === baselineId);
  const wireBlank = wireHeader(result.workload).map(() => '');
  const header = [
    'server',
    result.workload.unit,
    'spread',
    'vs ws',
    ...wireHeader(result.workload),
    'server CPU',
    'core 0 busy',
    'gen CPU',
    'core 1 busy',
    'limited by',
    'note',
  ];
  const rows = result.rows.map((row) =>
    row.summary === null
      ? [row.label, 'FAILED', '', '', ...wireBlank, '', '', '', '', '', row.error ?? '']
      : [
          row.label,
          row.summary.median,
          `±${((row.summary.spread * 100) / 2).toFixed(1)}%`,
          ratioToBaseline(result.workload, row, baseline),
          ...wireCells(result.workload, row),
          percent(row.serverCpu),
          percent(row.serverCoreBusy),
          percent(row.genCpu),
          percent(row.genCoreBusy),
          row.limit ?? 'n/a',
          row.note,
        ],
  );
  return markdownTable(header, rows);
}

export function overviewTable(results: readonly WorkloadResult[], labels: readonly { id: string; label: string }[]): string {
  const header = ['workload', ...labels.map((entry) => entry.label)];
  const rows = results.map((result) => [
    `${result.workload.id} (${result.workload.unit})`,
    ...labels.map((entry) => {
      const row = result.rows.find((candidate) => candidate.serverId === entry.id);
      return row === undefined ? '—' : row.summary === null ? 'FAILED' : row.summary.median;
    }),
  ]);
  return markdownTable(header, rows);
}

export const METHOD_NOTES = [
  '- Generator: bench/load/loadgen.c, one epoll thread on core 1; server on core 0 (taskset). The generator',
  '  does its own opening handshake (checks Sec-WebSocket-Accept), sends frames built and masked before the run',
  '  with a different key per pooled frame, counts messages from the frame headers it parses, and compares every',
  '  echoed or broadcast payload with what was sent (any mismatch fails the run).',
  '- server CPU / gen CPU: each process\'s CPU time over the measured window (all threads, /proc/PID/stat), as a',
  '  share of one core. core 0 / core 1 busy: the whole core (/proc/stat, softirq included). A core busy while',
  '  its process is not means other work on this shared machine took it: "core 0 shared" marks such rows as suspect.',
  '- limited by: "server CPU" when the server used >= 85% of its core (the goal: the generator had room left);',
  '  "server and generator CPU" when both did: the figure is only a lower bound on the server\'s (broadcast: the',
  '  generator\'s reads, and the ACK each sends over loopback, cost about as much as the server\'s writes);',
  '  "generator CPU" would mean the row measures the generator; "offered rate" for the open-loop latency run;',
  '  "round trips" for a closed loop with both sides below saturation.',
  '- spread: half of (max - min) / median over the runs. vs ws: > 1x is better than ws (for µs and bytes too).',
  '- Memory: server RSS with 10,000 idle upgraded connections minus RSS before, after a full GC each time',
  '  (--expose-gc; Bun: Bun.gc(true)), divided by 10,000; read 0.5 s after the connections opened, and in the',
  '  "settled" row after 15 s idle (the reading before them too), once V8 has given back the young generation',
  '  the burst of connects grew. Handshakes: a new TCP connection, the upgrade, a close frame each way and',
  '  the server\'s TCP close, 64 at a time. Latency: 20,000 msg/s scheduled in advance (open loop); the round trip',
  '  is counted from the scheduled send time, so a stall delays every message behind it.',
  '- Compressed echo (permessage-deflate, RFC 7692): the generator offers `permessage-deflate; client_max_window_bits`',
  '  as browsers do, sends every message compressed on its own (zlib default level, sync flush, within the client',
  '  window the server allows), inflates every reply with one inflate stream per connection sized to the agreed',
  '  server window and reset per message if server_no_context_takeover was agreed, and compares it with what was',
  '  sent. wire B/msg: WebSocket frame bytes (headers included, TCP/IP not) per echoed message, out = to the server,',
  '  in = from it; the 1 KiB payloads compress about 3.3x on their own. The note gives what the server agreed',
  '  (its window bits and context takeover) and the share of replies that came back compressed.',
].join('\n');

export function renderSection(info: RunInfo, results: readonly WorkloadResult[], labels: readonly { id: string; label: string }[], baselineId: string): string {
  const parts = [
    '## Load',
    '',
    'Generated by `npm run bench:load` (bench/load/run-load.ts); a rerun replaces this section.',
    '',
    ...runHeaderLines(info, 'row'),
    '',
    METHOD_NOTES,
    '',
    '### Overview (medians)',
    '',
    overviewTable(results, labels),
    '',
  ];
  const targets = targetsSection(results);
  if (targets !== null) parts.push(targets, '');
  for (const result of results) {
    parts.push(
      `### ${result.workload.title}`,
      '',
      `![${result.workload.id}](charts/load-${result.workload.id}.svg)`,
      '',
      workloadTable(result, baselineId),
      '',
    );
  }
  return parts.join('\n');
}
