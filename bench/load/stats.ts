/**
 * Summaries of repeated runs, and the reading of what limited a run. A shared two-core machine is
 * noisy, so a row is the median of its runs and carries their spread; and since a load benchmark
 * means nothing if the generator was the limit, every row says which core was the limit and whether
 * something else was running on it.
 */
import type { LoadgenMode, LoadgenResult } from './workloads';

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max - min) / median: the share of the figure the runs disagree on. */
  readonly spread: number;
  readonly runs: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const middle = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: middle, min, max, spread: middle === 0 ? 0 : (max - min) / Math.abs(middle), runs: values.length };
}

/** A process at or above this share of a core is the limit. */
export const SATURATED = 0.85;
/** A core this busy while its process was not: something else on the machine took the rest. */
export const CORE_BUSY = 0.9;

export type Limit =
  | 'server CPU'
  | 'server and generator CPU'
  | 'generator CPU'
  | 'core 0 shared'
  | 'core 1 shared'
  | 'offered rate'
  | 'round trips';

/**
 * The server saturating its core is the answer we want. When the generator saturated its own as
 * well, the figure is no more than a lower bound on the server's, and the row says so. A core that
 * is busy while its process is not (other jobs, or the hypervisor's steal) makes the row suspect, and
 * says so.
 */
export function limitOf(mode: LoadgenMode, result: LoadgenResult): Limit {
  if (result.server_cpu >= SATURATED) return result.gen_cpu >= SATURATED ? 'server and generator CPU' : 'server CPU';
  if (result.gen_cpu >= SATURATED) return 'generator CPU';
  const serverCoreTaken = result.server_core_busy + Math.max(0, result.server_core_steal);
  if (serverCoreTaken >= CORE_BUSY) return 'core 0 shared';
  if (result.gen_core_busy >= CORE_BUSY) return 'core 1 shared';
  return mode === 'latency' ? 'offered rate' : 'round trips';
}

/** The limit named most often over the runs; ties go to the first run's. */
export function commonLimit<T extends string>(limits: readonly T[]): T {
  let best = limits[0];
  let bestCount = 0;
  for (const limit of limits) {
    const count = limits.filter((entry) => entry === limit).length;
    if (count > bestCount) {
      best = limit;
      bestCount = count;
    }
  }
  return best;
}
