/**
 * The load targets of issue 5, judged from one run's medians: each is a ratio between simdws and a
 * peer measured in the same run (or a byte budget), and beside it the same ratio for the Node floor,
 * the bare `net` server. Where the floor misses a target too, nothing built on Node's sockets reaches
 * it on this machine, and the table says so instead of leaving a bare MISS.
 */
import { markdownTable } from '../lib/table';
import type { WorkloadResult } from './results-writer';
import { FLOOR_SERVER, SERVERS } from './servers';

/** simdws's rows in the order the verdict uses them, SERVERS's: native, wasm, ts, as select.ts tries them. */
const SIMDWS_SERVERS = SERVERS.filter((server) => server.tier !== null).map((server) => server.id);

export interface LoadTarget {
  readonly workload: string;
  /** What the table calls it. */
  readonly label: string;
  /** The peer the ratio is taken against, or null for a fixed budget in the workload's unit. */
  readonly peer: string | null;
  /** The ratio simdws / peer must reach (at least, or at most for lower-is-better units), or the budget. */
  readonly goal: number;
  /** A budget or a ratio where lower is better (bytes, µs): at most; otherwise at least. */
  readonly atMost: boolean;
}

export const LOAD_TARGETS: readonly LoadTarget[] = [
  { workload: 'echo-32b', label: 'echo 32 B: simdws / uWebSockets.js', peer: 'uws', goal: 1, atMost: false },
  { workload: 'echo-32b', label: 'echo 32 B: simdws / ws', peer: 'ws', goal: 7, atMost: false },
  { workload: 'echo-1k-text', label: 'echo 1 KiB text: simdws / uWebSockets.js', peer: 'uws', goal: 1, atMost: false },
  { workload: 'echo-64k', label: 'echo 64 KiB: simdws / ws', peer: 'ws', goal: 2, atMost: false },
  { workload: 'broadcast-64b', label: 'broadcast 64 B: simdws / Bun', peer: 'bun', goal: 1, atMost: false },
  { workload: 'broadcast-64b', label: 'broadcast 64 B: simdws / ws', peer: 'ws', goal: 40, atMost: false },
  { workload: 'idle-memory', label: 'bytes per idle connection', peer: null, goal: 4300, atMost: true },
  { workload: 'idle-memory', label: 'bytes per idle connection: simdws / Node floor', peer: FLOOR_SERVER, goal: 1.1, atMost: true },
  { workload: 'handshakes', label: 'handshakes/s: simdws / ws', peer: 'ws', goal: 3, atMost: false },
  { workload: 'latency-p99', label: 'p99 at 20k msg/s: simdws / uWebSockets.js', peer: 'uws', goal: 1.2, atMost: true },
];

function medianOf(result: WorkloadResult | undefined, serverId: string): number | null {
  const row = result?.rows.find((candidate) => candidate.serverId === serverId);
  return row === undefined || row.summary === null ? null : row.summary.median;
}

/** The measured figure a target compares with its goal: the ratio to the peer, or the figure itself. */
function measure(target: LoadTarget, result: WorkloadResult | undefined, serverId: string): number | null {
  const value = medianOf(result, serverId);
  if (value === null || target.peer === null) return value;
  const peer = medianOf(result, target.peer);
  return peer === null || peer === 0 ? null : value / peer;
}

function meets(target: LoadTarget, value: number): boolean {
  return target.atMost ? value <= target.goal : value >= target.goal;
}

function format(target: LoadTarget, value: number | null): string {
  if (value === null) return 'n/a';
  return target.peer === null ? Math.round(value).toLocaleString('en-US') : `${value.toFixed(2)}x`;
}

export interface TargetVerdict {
  readonly target: LoadTarget;
  readonly simdws: number | null;
  /** The same comparison for the Node floor; null where it was not run or the target is against it. */
  readonly floor: number | null;
  readonly verdict: string;
}

export function judgeTargets(results: readonly WorkloadResult[], simdwsServer: string): TargetVerdict[] {
  return LOAD_TARGETS.map((target) => {
    const result = results.find((candidate) => candidate.workload.id === target.workload);
    const simdws = measure(target, result, simdwsServer);
    const floor = target.peer === FLOOR_SERVER ? null : measure(target, result, FLOOR_SERVER);
    let verdict: string;
    if (simdws === null) verdict = 'not measured';
    else if (meets(target, simdws)) verdict = 'PASS';
    else if (floor !== null && !meets(target, floor)) verdict = 'MISS; the Node floor misses it too';
    else verdict = 'MISS';
    return { target, simdws, floor, verdict };
  });
}

/** The simdws row the targets are judged on: the first tier this run measured. */
export function judgedServer(results: readonly WorkloadResult[]): string | null {
  return SIMDWS_SERVERS.find((id) => results.some((result) => medianOf(result, id) !== null)) ?? null;
}

/** The "Targets" part of the load section: heading, what the verdicts mean, and the table; null without a simdws row. */
export function targetsSection(results: readonly WorkloadResult[]): string | null {
  const server = judgedServer(results);
  if (server === null) return null;
  const rows = judgeTargets(results, server).map(({ target, simdws, floor, verdict }) => [
    target.label,
    `${target.atMost ? '<=' : '>='} ${format(target, target.goal)}`,
    format(target, simdws),
    format(target, floor),
    verdict,
  ]);
  return [
    '### Targets',
    '',
    'Each ratio from this run\'s medians. "The Node floor misses it too": the bare `net` server, with no',
    'validation, is short of the same goal in the same run, so Node\'s sockets, not the library, set the limit.',
    '',
    markdownTable(['target (issue 5)', 'goal', server, 'Node floor, same ratio', 'verdict'], rows),
  ].join('\n');
}
