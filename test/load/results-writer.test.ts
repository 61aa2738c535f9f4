import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSection } from '../../bench/lib/results-file';
import { LoadRow, ratioToBaseline, renderSection, SECTION_NAME, workloadTable, WorkloadResult } from '../../bench/load/results-writer';
import { summarize } from '../../bench/load/stats';
import { WORKLOADS } from '../../bench/load/workloads';

function row(serverId: string, values: number[] | null): LoadRow {
  return {
    serverId, label: serverId, summary: values === null ? null : summarize(values), error: values === null ? 'boom' : null,
    serverCpu: 0.99, serverCoreBusy: 1, genCpu: 0.4, genCoreBusy: 0.45, limit: values === null ? null : 'server CPU',
    wireOut: 320, wireIn: 150, note: '',
  };
}

const echo = WORKLOADS.find((workload) => workload.id === 'echo-32b')!;
const latency = WORKLOADS.find((workload) => workload.id === 'latency-p99')!;
const compressed = WORKLOADS.find((workload) => workload.deflate)!;

describe('load results', () => {
  it('states ratios so that above 1x is better than ws, whichever way the unit points', () => {
    expect(ratioToBaseline(echo, row('uws', [800]), row('ws', [100]))).toBe('8.00x');
    expect(ratioToBaseline(latency, row('uws', [50]), row('ws', [200]))).toBe('4.00x');
    expect(ratioToBaseline(echo, row('x', null), row('ws', [100]))).toBe('n/a');
  });

  it('rewrites only its own section of RESULTS.md', () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'load-results-')), 'RESULTS.md');
    writeFileSync(file, '# Benchmark results\n\n<!-- kernels:begin -->\n## Kernels\nkept\n<!-- kernels:end -->\n');
    const results: WorkloadResult[] = [{ workload: echo, rows: [row('ws', [100, 110, 90]), row('simdws-native', null)] }];
    const info = {
      machine: 'test cpu', node: 'v20', date: 'today', pinning: 'pinned', runs: 3, warmupSeconds: 1, durationSeconds: 5,
      loadAverage: '0.10', servers: ['ws: test'], minutes: 1,
    };
    const labels = [{ id: 'ws', label: 'ws' }, { id: 'simdws-native', label: 'simdws-native' }];
    writeSection(file, SECTION_NAME, renderSection(info, results, labels, 'ws'));
    writeSection(file, SECTION_NAME, renderSection({ ...info, date: 'tomorrow' }, results, labels, 'ws'));
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('## Kernels\nkept\n<!-- kernels:end -->');
    expect(text.match(/<!-- load:begin -->/g)).toHaveLength(1);
    expect(text).toContain('date: tomorrow');
    expect(text).not.toContain('date: today');
    expect(text).toMatch(/\| ws +\| +100 \| +±10\.0% \| +1\.00x \| +99% \|/);
    expect(text).toMatch(/\| simdws-native +\| +FAILED \|.*boom/);
    expect(text).toContain('![echo-32b](charts/load-echo-32b.svg)');
    expect(text).not.toContain('| wire B/msg out |');
    // No simdws row was measured: no targets to judge.
    expect(text).not.toContain('### Targets');
  });

  it('judges the targets after the overview when a simdws row was measured', () => {
    const info = {
      machine: 'test cpu', node: 'v20', date: 'today', pinning: 'pinned', runs: 1, warmupSeconds: 1, durationSeconds: 5,
      loadAverage: '0.10', servers: [], minutes: 1,
    };
    const results: WorkloadResult[] = [{ workload: echo, rows: [row('ws', [100]), row('uws', [800]), row('simdws-native', [900])] }];
    const section = renderSection(info, results, [{ id: 'ws', label: 'ws' }], 'ws');
    expect(section.indexOf('### Targets')).toBeGreaterThan(section.indexOf('### Overview'));
    expect(section).toMatch(/\| echo 32 B: simdws \/ uWebSockets\.js +\| +>= 1\.00x \| +1\.13x \| +n\/a \| +PASS \|/);
  });

  it('shows the bytes on the wire each way for a compressed workload, and only there', () => {
    const table = workloadTable({ workload: compressed, rows: [row('ws', [100]), row('uws', null)] }, 'ws');
    expect(table).toMatch(/\| server +\| +msg\/s \| +spread \| +vs ws \| wire B\/msg out \| wire B\/msg in \| server CPU \|/);
    expect(table).toMatch(/\| ws +\| +100 \| +±0\.0% \| +1\.00x \| +320 \| +150 \| +99% \|/);
    // A failed row keeps every column, so the error lands under "note".
    expect(table).toMatch(/\| uws +\| +FAILED(?: \| +){10}boom \|/);
  });
});
