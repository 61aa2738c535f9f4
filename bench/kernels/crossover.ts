/**
 * Group 2: ns per call at small sizes, ts against native and wasm (wasm with its copies), raw tier
 * functions. The crossover is where a tier starts to pay for crossing into it; select.ts keeps
 * smaller calls in TypeScript (the NATIVE_* and WASM_* MIN_BYTES constants).
 */
import { Kernel } from '../../dist/kernels/contract';
import { tsKernel } from '../../dist/kernels/ts';
import { Tiers } from './contenders';
import { bufferPair, randomBytes } from '../lib/buffers';
import { Operation } from './throughput';
import { Cell, markdownTable } from '../lib/table';
import { batchFor, batchLoop, Job, measure, MeasureSettings } from '../lib/measure';

export const CROSSOVER_SIZES = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 512, 1024] as const;

const OPERATIONS: readonly Operation[] = ['mask', 'unmask'];

interface Series {
  readonly tier: string;
  readonly operation: Operation;
  /** ns per call by size; null when the tier did not load. */
  readonly ns: ReadonlyMap<number, number> | null;
  readonly missing: string | null;
}

export interface Crossover {
  readonly series: readonly Series[];
}

function loop(kernel: Kernel, operation: Operation, size: number, batch: number): () => void {
  const key = randomBytes(4);
  const { source, target } = bufferPair(size);
  return operation === 'unmask'
    ? batchLoop(kernel, kernel.unmask, [source, key, 0, size], batch)
    : batchLoop(kernel, kernel.mask, [source, key, target, 0, size], batch);
}

export function measureCrossover(tiers: Tiers, settings: MeasureSettings): Crossover {
  const kernels: [string, Kernel | null][] = [
    ['ts', tsKernel],
    ['native', tiers.native],
    ['wasm', tiers.wasm],
  ];
  const jobs: Job[] = [];
  for (const [tier, kernel] of kernels) {
    if (kernel === null) continue;
    for (const operation of OPERATIONS) {
      for (const size of CROSSOVER_SIZES) {
        const batch = batchFor(size);
        jobs.push({ name: `${tier} ${operation} ${size}`, sample: loop(kernel, operation, size, batch), batch });
      }
    }
  }
  const ns = measure(jobs, settings);
  const series: Series[] = [];
  for (const [tier, kernel] of kernels) {
    for (const operation of OPERATIONS) {
      series.push({
        tier,
        operation,
        missing: kernel === null ? (tiers.errors.get(tier) ?? 'did not load') : null,
        ns:
          kernel === null
            ? null
            : new Map(CROSSOVER_SIZES.map((size) => [size, ns.get(`${tier} ${operation} ${size}`) as number])),
      });
    }
  }
  return { series };
}

function find(crossover: Crossover, tier: string, operation: Operation): Series | undefined {
  return crossover.series.find((entry) => entry.tier === tier && entry.operation === operation);
}

/**
 * A tie is not worth a crossing: the tier "beats" ts where it takes at most this share of ts's time,
 * which also keeps reruns on a noisy machine from flipping the threshold between grid points.
 */
const WIN_RATIO = 0.9;

/**
 * The smallest measured size from which the tier beats ts at every larger measured size too: one
 * lucky point below the real crossover must not pull the threshold down. null when the tier did not
 * load or does not beat ts even at the largest size measured.
 */
export function crossoverSize(crossover: Crossover, tier: string, operation: Operation): number | null {
  const tierNs = find(crossover, tier, operation)?.ns;
  const tsNs = find(crossover, 'ts', operation)?.ns;
  if (tierNs === null || tierNs === undefined || tsNs === null || tsNs === undefined) return null;
  let from: number | null = null;
  for (let index = CROSSOVER_SIZES.length - 1; index >= 0; index--) {
    const size = CROSSOVER_SIZES[index];
    if ((tierNs.get(size) as number) > WIN_RATIO * (tsNs.get(size) as number)) break;
    from = size;
  }
  return from;
}

export function formatCrossover(crossover: Crossover): string {
  const header = ['size', ...crossover.series.map((entry) => `${entry.tier} ${entry.operation} ns`)];
  const rows: Cell[][] = CROSSOVER_SIZES.map((size) => [
    `${size} B`,
    ...crossover.series.map((entry): Cell => (entry.ns === null ? 'not loaded' : (entry.ns.get(size) as number))),
  ]);
  return markdownTable(header, rows);
}

export interface Threshold {
  readonly constant: string;
  readonly tier: string;
  readonly operation: Operation;
  readonly current: number;
  readonly measured: number | null;
}

export function formatThresholds(crossover: Crossover, thresholds: readonly Threshold[]): string {
  const rows: Cell[][] = thresholds.map((threshold) => {
    const series = find(crossover, threshold.tier, threshold.operation);
    const measured =
      series?.missing != null
        ? `tier not loaded`
        : threshold.measured === null
          ? `never below ${CROSSOVER_SIZES[CROSSOVER_SIZES.length - 1]} B`
          : `${threshold.measured} B`;
    return [threshold.constant, measured, `${threshold.current} B`];
  });
  return markdownTable(['select.ts constant', 'tier >= 10% faster than ts from', 'value in select.ts'], rows);
}
