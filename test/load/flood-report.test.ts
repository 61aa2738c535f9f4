/**
 * The flood's report: medians over the runs, ratios to ws, the live p99 beside the one without a flood,
 * every wrong status named (with the run it happened in), what limited each row, and a section that
 * replaces only itself in RESULTS.md.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSection } from '../../bench/lib/results-file';
import {
  chartBars, ConditionResult, floodFaulty, floodLimit, FloodRunInfo, problemLines, renderSection, RunFigures, SECTION_NAME,
  ServerResult, variantTable,
} from '../../bench/load/flood-report';
import { FLOOD_VARIANTS, FloodVariant } from '../../bench/load/flood-requests';

const [BAD_KEY, BAD_ORIGIN] = FLOOD_VARIANTS as [FloodVariant, FloodVariant];

function run(p99Us: number, flood: { rate: number; unexpected?: Record<string, number>; accepted?: number; clientCpu?: number } | null, serverCpu = 0.5): RunFigures {
  return {
    live: { p50Us: 40, p99Us, p999Us: p99Us * 2, samples: 20_000, serverCpu, genCpu: 0.15, serverCoreBusy: 0.6, genCoreBusy: 0.95 },
    flood: flood === null ? null : {
      responsesPerSecond: flood.rate, unexpected: flood.unexpected ?? {}, accepted: flood.accepted ?? 0,
      errorCodes: {}, clientCpu: flood.clientCpu ?? 0.8,
    },
  };
}

function condition(runs: RunFigures[], failure: string | null = null): ConditionResult {
  return { runs, failure };
}

function server(id: string, quiet: ConditionResult, badKey: ConditionResult, badOrigin: ConditionResult): ServerResult {
  return { id, label: id, quiet, floods: new Map([[BAD_KEY.id, badKey], [BAD_ORIGIN.id, badOrigin]]) };
}

const ws = server(
  'ws',
  condition([run(100, null), run(120, null), run(110, null)]),
  condition([run(1000, { rate: 4000 }), run(1200, { rate: 4200 }), run(900, { rate: 3800 })]),
  condition([run(800, { rate: 5000 })]),
);
const faulty = server(
  'simdws',
  condition([run(50, null)]),
  condition([run(500, { rate: 8000 }), run(400, { rate: 8000, unexpected: { 101: 3, 200: 1 }, accepted: 4 })]),
  condition([], 'loadgen: connection 7: the server closed the connection (state 3)'),
);

describe('flood report', () => {
  it('shows medians, the ratio to ws, and the live p99 with and without the flood', () => {
    const table = variantTable(BAD_KEY, [ws, faulty], 'ws');
    const wsRow = table.split('\n').find((line) => line.startsWith('| ws '));
    expect(wsRow).toMatch(/\| +4,000 \|/);
    expect(wsRow).toMatch(/\| +1\.00x \|/);
    // p99 under the flood 1000 µs, 110 µs without: 9.1 times.
    expect(wsRow).toMatch(/\| +1,000 \| +110 \| +9\.1x \|/);
    expect(wsRow).toMatch(/\| +60,000 \|/);
    const simdwsRow = table.split('\n').find((line) => line.startsWith('| simdws '));
    expect(simdwsRow).toMatch(/\| +2\.00x \|/);
    expect(simdwsRow).toContain('3 × 101, 1 × 200');
  });

  it('names every wrong status with its run, and every failure in full', () => {
    const lines = problemLines(FLOOD_VARIANTS, [ws, faulty]);
    expect(lines).toEqual([
      `- simdws, ${BAD_KEY.label}, run 2: answered 3 × 101, 1 × 200; 4 of them accepted a handshake it had to refuse`,
      `- simdws, ${BAD_ORIGIN.label}: loadgen: connection 7: the server closed the connection (state 3)`,
    ]);
    expect(problemLines(FLOOD_VARIANTS, [ws])).toEqual([]);
    expect(floodFaulty(ws.floods.get(BAD_KEY.id) as ConditionResult)).toBe(false);
    expect(floodFaulty(faulty.floods.get(BAD_KEY.id) as ConditionResult)).toBe(true);
    expect(floodFaulty(faulty.floods.get(BAD_ORIGIN.id) as ConditionResult)).toBe(true);
  });

  it('says what limited a flood', () => {
    expect(floodLimit(run(1, { rate: 1 }, 0.95))).toBe('server CPU');
    expect(floodLimit(run(1, { rate: 1, clientCpu: 0.75 }))).toBe('core 1 (autocannon + generator)');
    expect(floodLimit(run(1, { rate: 1, clientCpu: 0.2 }))).toBe('core 1 busy');
  });

  it('charts one bar per server and variant, a failed one without a figure', () => {
    const bars = chartBars(FLOOD_VARIANTS, [ws, faulty]);
    expect(bars.map((bar) => bar.label)).toEqual(['ws, 400', 'simdws, 400', 'ws, 403', 'simdws, 403']);
    expect(bars[0].summary?.median).toBe(4000);
    expect(bars[3].summary).toBeNull();
  });

  it('rewrites only its own section of RESULTS.md, with the exact requests', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'flood-results-')), 'RESULTS.md');
    writeFileSync(file, '# Benchmark results\n\n<!-- load:begin -->\nkept\n<!-- load:end -->\n');
    const info: FloodRunInfo = {
      machine: 'test cpu', node: 'v20', date: 'today', minutes: 4, loadAverage: '0.1', pinning: 'pinned', runs: 3,
      warmupSeconds: 2, durationSeconds: 4, floodConnections: 64, liveArgs: ['--mode', 'latency'], servers: ['ws: test'],
      requests: new Map([[BAD_KEY.id, 'GET / HTTP/1.1\nSec-WebSocket-Key: bad'], [BAD_ORIGIN.id, 'GET / HTTP/1.1\nOrigin: evil']]),
    };
    writeSection(file, SECTION_NAME, renderSection(info, FLOOD_VARIANTS, [ws], 'ws'));
    writeSection(file, SECTION_NAME, renderSection({ ...info, date: 'tomorrow' }, FLOOD_VARIANTS, [ws], 'ws'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('<!-- load:begin -->\nkept\n<!-- load:end -->');
    expect(text.match(/<!-- upgrade-flood:begin -->/g)).toHaveLength(1);
    expect(text).toContain('date: tomorrow');
    expect(text).not.toContain('date: today');
    expect(text).toContain('```http\nGET / HTTP/1.1\nSec-WebSocket-Key: bad\n```');
    expect(text).toContain('None: every response had the expected status');
  });
});
