/**
 * tinybench, set up for kernels on a shared machine: every sample runs the operation a batch of
 * times so the timer's own cost (tens of ns) does not swamp a 16-byte unmask; each job's figure is
 * the median of its samples; and all jobs are run in several rounds, keeping each job's best
 * median, so a neighbour's burst that lands on one job in one round does not decide its number.
 */
import { Bench } from 'tinybench';

export interface Job {
  readonly name: string;
  /** One sample: performs the operation `batch` times. */
  readonly sample: () => void;
  readonly batch: number;
}

export interface MeasureSettings {
  /** Rounds over all jobs; each job keeps its lowest median. */
  readonly rounds: number;
  /** Time budget per job and round, in ms (tinybench's `time`). */
  readonly timeMs: number;
  /** Warmup per job, in ms, so every contender is measured after the optimiser settled. */
  readonly warmupMs: number;
}

/** Aim for this many bytes per sample; a sample of a few µs keeps the timer's share near 1%. */
const BYTES_PER_SAMPLE = 256 * 1024;
const MAX_BATCH = 1024;

export function batchFor(bytesPerOperation: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.ceil(BYTES_PER_SAMPLE / Math.max(1, bytesPerOperation))));
}

type AnyFunction = (...values: never[]) => unknown;

/**
 * A batch loop compiled afresh for every job. V8 keeps call-site feedback per function literal, so
 * one shared loop calling every contender would go megamorphic and stop inlining the TypeScript
 * functions, which the library calls from monomorphic sites. The arguments are bound once, outside
 * the timed loop.
 */
export function batchLoop(self: unknown, fn: AnyFunction, args: readonly unknown[], batch: number): () => void {
  const params = args.map((_, index) => `a${index}`);
  const factory = new Function(
    'self',
    'fn',
    'batch',
    ...params,
    `return function batchLoop() { for (let i = 0; i < batch; i++) fn.call(self, ${params.join(', ')}); };`,
  ) as (...values: unknown[]) => () => void;
  return factory(self, fn, batch, ...args);
}

const collectGarbage = (globalThis as { gc?: () => void }).gc;

function runRound(jobs: readonly Job[], settings: MeasureSettings): Map<string, number> {
  const bench = new Bench({ time: settings.timeMs, warmupTime: settings.warmupMs, throws: true });
  for (const job of jobs) {
    // A collection left over from building the previous job's buffers must not land in this one.
    bench.add(job.name, job.sample, { beforeAll: () => collectGarbage?.() });
  }
  bench.runSync();
  const medians = new Map<string, number>();
  for (const job of jobs) {
    const outcome = bench.getTask(job.name)?.result;
    if (outcome === undefined || !('latency' in outcome)) {
      throw new Error(`benchmark task ${job.name} produced no statistics (${outcome?.state ?? 'missing'})`);
    }
    medians.set(job.name, (outcome.latency.p50 * 1e6) / job.batch);
  }
  return medians;
}

/** Returns the best median ns per operation of each job over the rounds, by job name. */
export function measure(jobs: readonly Job[], settings: MeasureSettings): Map<string, number> {
  const best = new Map<string, number>();
  for (let round = 0; round < settings.rounds; round++) {
    for (const [name, ns] of runRound(jobs, settings)) best.set(name, Math.min(ns, best.get(name) ?? Infinity));
  }
  return best;
}
