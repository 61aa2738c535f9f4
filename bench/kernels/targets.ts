/**
 * Group 4: the issue's targets, as ratios measured in this same run (ratios survive a noisy shared
 * machine better than absolute numbers). A ratio that cannot be computed because a contender did
 * not load is reported as such, never as a pass.
 */
import { ContenderId } from './contenders';
import { ScanResult } from './scan';
import { Operation, ThroughputTable } from './throughput';
import { Cell, formatNumber, markdownTable } from '../lib/table';

const AT_SIZE = 64 * 1024;

export interface Target {
  readonly label: string;
  readonly goal: number;
  /** null when one side has no number; `why` says which. */
  readonly ratio: number | null;
  readonly why: string;
}

interface Throughputs {
  readonly unmask: ThroughputTable;
  readonly mask: ThroughputTable;
}

function throughputTarget(
  tables: Throughputs,
  operation: Operation,
  subject: ContenderId,
  baseline: ContenderId,
  goal: number,
): Target {
  const table = tables[operation];
  const ours = table.get(subject)?.get(AT_SIZE) ?? null;
  const theirs = table.get(baseline)?.get(AT_SIZE) ?? null;
  const label = `${operation} 64 KiB: ${subject} / ${baseline}`;
  if (ours === null || theirs === null) {
    return { label, goal, ratio: null, why: `${ours === null ? subject : baseline} has no number` };
  }
  return { label, goal, ratio: ours / theirs, why: '' };
}

function scanTarget(result: ScanResult, tier: string, goal: number): Target {
  const ours = result.rows.find((row) => row.name === `${tier} scan`)?.frameNs ?? null;
  const ws = result.rows.find((row) => row.name === 'ws Receiver')?.frameNs ?? null;
  const label = `scan ${result.payload} B frames, per frame: ${tier} vs ws Receiver`;
  if (ours === null || ws === null) {
    return { label, goal, ratio: null, why: `${ours === null ? `${tier} scan` : 'ws Receiver'} has no number` };
  }
  return { label, goal, ratio: ws / ours, why: '' };
}

export function evaluateTargets(tables: Throughputs, smallFrames: ScanResult): Target[] {
  return [
    throughputTarget(tables, 'unmask', 'native', 'bufferutil', 1.6),
    throughputTarget(tables, 'mask', 'native', 'bufferutil', 1.6),
    throughputTarget(tables, 'unmask', 'wasm-in-place', 'bufferutil', 1.6),
    throughputTarget(tables, 'unmask', 'wasm', 'bufferutil', 0.6),
    throughputTarget(tables, 'mask', 'wasm', 'bufferutil', 0.6),
    throughputTarget(tables, 'unmask', 'ts', 'ws-js', 4),
    throughputTarget(tables, 'mask', 'ts', 'ws-js', 4),
    scanTarget(smallFrames, 'native', 3),
    scanTarget(smallFrames, 'wasm', 3),
    scanTarget(smallFrames, 'ts', 3),
  ];
}

export function formatTargets(targets: readonly Target[]): string {
  const rows: Cell[][] = targets.map((target) => [
    target.label,
    `>= ${target.goal}x`,
    target.ratio === null ? 'n/a' : `${formatNumber(target.ratio)}x`,
    target.ratio === null ? `MISS (not measured: ${target.why})` : target.ratio >= target.goal ? 'PASS' : 'MISS',
  ]);
  return markdownTable(['target', 'goal', 'measured', 'verdict'], rows);
}
