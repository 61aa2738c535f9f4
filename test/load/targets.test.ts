import { describe, expect, it } from 'vitest';
import type { LoadRow, WorkloadResult } from '../../bench/load/results-writer';
import { summarize } from '../../bench/load/stats';
import { judgedServer, judgeTargets, LOAD_TARGETS, targetsSection } from '../../bench/load/targets';
import { WORKLOADS } from '../../bench/load/workloads';

function row(serverId: string, median: number | null): LoadRow {
  return {
    serverId, label: serverId, summary: median === null ? null : summarize([median]), error: median === null ? 'boom' : null,
    serverCpu: 1, serverCoreBusy: 1, genCpu: 0.5, genCoreBusy: 0.5, limit: 'server CPU', wireOut: null, wireIn: null, note: '',
  };
}

function result(id: string, medians: Record<string, number | null>): WorkloadResult {
  const workload = WORKLOADS.find((candidate) => candidate.id === id);
  if (workload === undefined) throw new Error(`no workload ${id}`);
  return { workload, rows: Object.entries(medians).map(([server, median]) => row(server, median)) };
}

function verdictOf(results: WorkloadResult[], label: string, server = 'simdws-native'): string {
  const verdict = judgeTargets(results, server).find((entry) => entry.target.label === label);
  if (verdict === undefined) throw new Error(`no target ${label}`);
  return verdict.verdict;
}

describe('load targets (issue 5)', () => {
  it('names only workloads the benchmark runs', () => {
    for (const target of LOAD_TARGETS) expect(WORKLOADS.map((workload) => workload.id)).toContain(target.workload);
  });

  it('passes a ratio at its goal and misses one below it, for higher-is-better units', () => {
    const label = 'echo 1 KiB text: simdws / uWebSockets.js';
    const at = [result('echo-1k-text', { uws: 600, 'simdws-native': 600, 'node-floor': 700 })];
    const below = [result('echo-1k-text', { uws: 600, 'simdws-native': 599, 'node-floor': 700 })];
    expect(verdictOf(at, label)).toBe('PASS');
    expect(verdictOf(below, label)).toBe('MISS');
  });

  it('reads lower-is-better targets (µs, bytes) as "at most"', () => {
    const p99 = 'p99 at 20k msg/s: simdws / uWebSockets.js';
    expect(verdictOf([result('latency-p99', { uws: 50, 'simdws-native': 60, 'node-floor': 40 })], p99)).toBe('PASS');
    expect(verdictOf([result('latency-p99', { uws: 50, 'simdws-native': 61, 'node-floor': 40 })], p99)).toBe('MISS');
    const budget = 'bytes per idle connection';
    expect(verdictOf([result('idle-memory', { 'simdws-native': 4300, 'node-floor': 4000 })], budget)).toBe('PASS');
    expect(verdictOf([result('idle-memory', { 'simdws-native': 4301, 'node-floor': 4000 })], budget)).toBe('MISS');
  });

  it('says when the Node floor misses the same goal in the same run', () => {
    const handshakes = [result('handshakes', { ws: 5000, 'simdws-native': 7500, 'node-floor': 9000 })];
    expect(verdictOf(handshakes, 'handshakes/s: simdws / ws')).toBe('MISS; the Node floor misses it too');
    const memory = [result('idle-memory', { 'simdws-native': 4900, 'node-floor': 4800 })];
    expect(verdictOf(memory, 'bytes per idle connection')).toBe('MISS; the Node floor misses it too');
    // Against the floor itself, the floor has no column of its own.
    expect(verdictOf(memory, 'bytes per idle connection: simdws / Node floor')).toBe('PASS');
    expect(verdictOf([result('idle-memory', { 'simdws-native': 5400, 'node-floor': 4800 })], 'bytes per idle connection: simdws / Node floor')).toBe('MISS');
  });

  it('reports a target whose rows failed or were not run as not measured', () => {
    expect(verdictOf([result('echo-64k', { ws: 1000, 'simdws-native': null })], 'echo 64 KiB: simdws / ws')).toBe('not measured');
    expect(verdictOf([], 'echo 64 KiB: simdws / ws')).toBe('not measured');
  });

  it('judges the tier select.ts would pick first among those measured', () => {
    expect(judgedServer([result('echo-32b', { ws: 1, 'simdws-wasm': 2, 'simdws-ts': 3 })])).toBe('simdws-wasm');
    expect(judgedServer([result('echo-32b', { ws: 1, 'simdws-native': null, 'simdws-ts': 3 })])).toBe('simdws-ts');
    expect(targetsSection([result('echo-32b', { ws: 1 })])).toBeNull();
  });

  it('prints ratios, budgets and both columns in its table', () => {
    const table = targetsSection([
      result('echo-32b', { ws: 100_000, uws: 900_000, 'node-floor': 990_000, 'simdws-native': 918_000 }),
      result('idle-memory', { 'node-floor': 4864, 'simdws-native': 4902 }),
    ]) as string;
    expect(table).toMatch(/\| echo 32 B: simdws \/ uWebSockets\.js +\| +>= 1\.00x \| +1\.02x \| +1\.10x \| +PASS \|/);
    expect(table).toMatch(/\| echo 32 B: simdws \/ ws +\| +>= 7\.00x \| +9\.18x \| +9\.90x \| +PASS \|/);
    expect(table).toMatch(/\| bytes per idle connection +\| +<= 4,300 \| +4,902 \| +4,864 \| MISS; the Node floor misses it too \|/);
    expect(table).toMatch(/\| handshakes\/s: simdws \/ ws +\| +>= 3\.00x \| +n\/a \| +n\/a \| +not measured +\|/);
  });
});
