/**
 * The flood's report: medians over the runs, ratios to ws under the same flood client, the live p99
 * beside the one without a flood, every wrong status named (with the client and run it happened in),
 * what limited each row, and a section that replaces only itself in RESULTS.md.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSection } from '../../bench/lib/results-file';
import {
  chartBars, ConditionResult, FLOOD_CLIENTS, floodFaulty, floodKey, floodLimit, FloodRunInfo, problemLines, renderSection, RunFigures,
  SECTION_NAME, ServerResult, variantTable,
} from '../../bench/load/flood-report';
import { FLOOD_VARIANTS, FloodVariant } from '../../bench/load/flood-requests';

const [BAD_KEY, BAD_ORIGIN] = FLOOD_VARIANTS as [FloodVariant, FloodVariant];

interface FloodSketch {
  rate: number;
  unexpected?: Record<string, number>;
  accepted?: number;
  clientCpu?: number;
  connectsPerSecond?: number;
  errorCodes?: Record<string, number>;
}

function run(p99Us: number, flood: FloodSketch | null, serverCpu = 0.5): RunFigures {
  return {
    live: { p50Us: 40, p99Us, p999Us: p99Us * 2, samples: 20_000, serverCpu, genCpu: 0.15, serverCoreBusy: 0.6, genCoreBusy: 0.95 },
    flood: flood === null ? null : {
      responsesPerSecond: flood.rate, unexpected: flood.unexpected ?? {}, accepted: flood.accepted ?? 0,
      errorCodes: flood.errorCodes ?? {}, newConnectionsPerSecond: flood.connectsPerSecond ?? null, clientCpu: flood.clientCpu ?? 0.8,
    },
  };
}

function condition(runs: RunFigures[], failure: string | null = null): ConditionResult {
  return { runs, failure };
}

/** A server's floods: autocannon's bad key and bad Origin, then the C flood's (absent: not run). */
function server(id: string, quiet: ConditionResult, badKey: ConditionResult, badOrigin: ConditionResult, cBadKey?: ConditionResult): ServerResult {
  const floods = new Map([[floodKey('autocannon', BAD_KEY.id), badKey], [floodKey('autocannon', BAD_ORIGIN.id), badOrigin]]);
  if (cBadKey !== undefined) floods.set(floodKey('loadgen', BAD_KEY.id), cBadKey);
  return { id, label: id, quiet, floods };
}

const ws = server(
  'ws',
  condition([run(100, null), run(120, null), run(110, null)]),
  condition([run(1000, { rate: 4000 }), run(1200, { rate: 4200 }), run(900, { rate: 3800 })]),
  condition([run(800, { rate: 5000 })]),
  condition([run(1500, { rate: 9000, connectsPerSecond: 9000, clientCpu: 0.4 }, 0.97)]),
);
const faulty = server(
  'simdws',
  condition([run(50, null)]),
  condition([run(500, { rate: 8000 }), run(400, { rate: 8000, unexpected: { 101: 3, 200: 1 }, accepted: 4 })]),
  condition([], 'loadgen: connection 7: the server closed the connection (state 3)'),
  condition([run(700, { rate: 27_000, connectsPerSecond: 0, errorCodes: { 'closed unanswered': 2 }, unexpected: { 101: 5 }, accepted: 5 })]),
);

function rowOf(table: string, client: string, id: string): string {
  return table.split('\n').find((line) => new RegExp(`^\\| ${id} +\\| +${client} \\|`).test(line)) ?? '';
}

describe('flood report', () => {
  it('shows medians, the ratio to ws, and the live p99 with and without the flood', () => {
    const table = variantTable(BAD_KEY, FLOOD_CLIENTS, [ws, faulty], 'ws');
    const wsRow = rowOf(table, 'autocannon', 'ws');
    expect(wsRow).toMatch(/\| +4,000 \|/);
    expect(wsRow).toMatch(/\| +1\.00x \|/);
    // autocannon counts no connections; p99 under the flood 1000 µs, 110 µs without: 9.1 times.
    expect(wsRow).toMatch(/\| +n\/a \| +1,000 \| +110 \| +9\.1x \|/);
    expect(wsRow).toMatch(/\| +60,000 \|/);
    const simdwsRow = rowOf(table, 'autocannon', 'simdws');
    expect(simdwsRow).toMatch(/\| +2\.00x \|/);
    expect(simdwsRow).toContain('3 × 101, 1 × 200');
  });

  it('gives the C flood its own rows, each ratio taken to ws under the C flood', () => {
    const table = variantTable(BAD_KEY, FLOOD_CLIENTS, [ws, faulty], 'ws');
    const lines = table.split('\n');
    expect(lines).toHaveLength(2 + FLOOD_CLIENTS.length * 2);
    const wsRow = rowOf(table, 'C flood', 'ws');
    // 9,000 rejections/s, one new connection each; the server at 97%: its own ceiling.
    expect(wsRow).toMatch(/\| +9,000 \| +±0\.0% \| +1\.00x \| +none \| +none \| +9,000 \| +1,500 \|/);
    expect(wsRow).toMatch(/\| +97% \|.*\| +40% \|.*\| +server CPU \|$/);
    const simdwsRow = rowOf(table, 'C flood', 'simdws');
    expect(simdwsRow).toMatch(/\| +27,000 \| +±0\.0% \| +3\.00x \| +5 × 101 \| +2 × closed unanswered \| +0 \|/);
    const other = variantTable(BAD_ORIGIN, FLOOD_CLIENTS, [ws, faulty], 'ws');
    expect(rowOf(other, 'C flood', 'ws')).toMatch(/\| +FAILED \|.*\| +n\/a \|$/);
  });

  it('names every wrong status with its run, and every failure in full', () => {
    const lines = problemLines(FLOOD_VARIANTS, FLOOD_CLIENTS, [ws, faulty]);
    expect(lines).toEqual([
      `- simdws, ${BAD_KEY.label}, autocannon, run 2: answered 3 × 101, 1 × 200; 4 of them accepted a handshake it had to refuse`,
      `- simdws, ${BAD_KEY.label}, C flood, run 1: answered 5 × 101; 5 of them accepted a handshake it had to refuse`,
      `- simdws, ${BAD_ORIGIN.label}, autocannon: loadgen: connection 7: the server closed the connection (state 3)`,
    ]);
    expect(problemLines(FLOOD_VARIANTS, FLOOD_CLIENTS, [ws])).toEqual([]);
    expect(floodFaulty(ws.floods.get(floodKey('autocannon', BAD_KEY.id)) as ConditionResult)).toBe(false);
    expect(floodFaulty(faulty.floods.get(floodKey('autocannon', BAD_KEY.id)) as ConditionResult)).toBe(true);
    expect(floodFaulty(faulty.floods.get(floodKey('autocannon', BAD_ORIGIN.id)) as ConditionResult)).toBe(true);
    expect(floodFaulty(faulty.floods.get(floodKey('loadgen', BAD_KEY.id)) as ConditionResult)).toBe(true);
  });

  it('says what limited a flood', () => {
    expect(floodLimit(run(1, { rate: 1, clientCpu: 0.2 }, 0.95))).toBe('server CPU');
    expect(floodLimit(run(1, { rate: 1, clientCpu: 0.75 }, 0.95))).toBe('server CPU, and core 1 full');
    expect(floodLimit(run(1, { rate: 1, clientCpu: 0.75 }))).toBe('core 1 (flood client + live generator)');
    expect(floodLimit(run(1, { rate: 1, clientCpu: 0.2 }))).toBe('core 1 busy');
  });

  it('charts one bar per variant, flood client and server, a failed one without a figure', () => {
    const bars = chartBars(FLOOD_VARIANTS, FLOOD_CLIENTS, [ws, faulty]);
    expect(bars.map((bar) => bar.label)).toEqual([
      'ws, 400, ac', 'simdws, 400, ac', 'ws, 400, C', 'simdws, 400, C', 'ws, 403, ac', 'simdws, 403, ac', 'ws, 403, C', 'simdws, 403, C',
    ]);
    expect(bars[0].summary?.median).toBe(4000);
    expect(bars[3].summary?.median).toBe(27_000);
    expect(bars[5].summary).toBeNull();
    expect(bars[7].summary).toBeNull();
  });

  it('rewrites only its own section of RESULTS.md, with the exact requests', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'flood-results-')), 'RESULTS.md');
    writeFileSync(file, '# Benchmark results\n\n<!-- load:begin -->\nkept\n<!-- load:end -->\n');
    const info: FloodRunInfo = {
      machine: 'test cpu', node: 'v20', date: 'today', minutes: 4, loadAverage: '0.1', pinning: 'pinned', runs: 3,
      warmupSeconds: 2, durationSeconds: 4, floodConnections: 64, liveArgs: ['--mode', 'latency'], servers: ['ws: test'],
      requests: new Map([[BAD_KEY.id, 'GET / HTTP/1.1\nSec-WebSocket-Key: bad'], [BAD_ORIGIN.id, 'GET / HTTP/1.1\nOrigin: evil']]),
    };
    writeSection(file, SECTION_NAME, renderSection(info, FLOOD_VARIANTS, FLOOD_CLIENTS, [ws], 'ws'));
    writeSection(file, SECTION_NAME, renderSection({ ...info, date: 'tomorrow' }, FLOOD_VARIANTS, FLOOD_CLIENTS, [ws], 'ws'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('<!-- load:begin -->\nkept\n<!-- load:end -->');
    expect(text.match(/<!-- upgrade-flood:begin -->/g)).toHaveLength(1);
    expect(text).toContain('date: tomorrow');
    expect(text).not.toContain('date: today');
    expect(text).toContain('```http\nGET / HTTP/1.1\nSec-WebSocket-Key: bad\n```');
    expect(text).toContain('None: every response had the expected status');
  });
});
