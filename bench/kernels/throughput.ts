/**
 * Group 1: mask and unmask throughput, GB/s (10^9 bytes per second), at the payload sizes that
 * matter: 16 and 125 B (chat, game state, control frames: RFC 6455 section 5.5 caps those at 125),
 * 1 KiB, 16 KiB (a typical socket read), 64 KiB, 1 MiB.
 */
import { Contender } from './contenders';
import { Cell, markdownTable } from '../lib/table';
import { batchFor, Job, measure, MeasureSettings } from '../lib/measure';

export const THROUGHPUT_SIZES = [16, 125, 1024, 16 * 1024, 64 * 1024, 1024 * 1024] as const;

export type Operation = 'unmask' | 'mask';

/** GB/s by contender id, then by size; null where the contender has no such operation. */
export type ThroughputTable = Map<string, Map<number, number | null>>;

export function sizeLabel(size: number): string {
  if (size >= 1024 * 1024 && size % (1024 * 1024) === 0) return `${size / (1024 * 1024)} MiB`;
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024} KiB`;
  return `${size} B`;
}

export function measureThroughput(
  contenders: readonly Contender[],
  operation: Operation,
  settings: MeasureSettings,
): ThroughputTable {
  const jobs: Job[] = [];
  const sizeOf = new Map<string, number>();
  const ownerOf = new Map<string, string>();
  for (const contender of contenders) {
    const build = contender[operation];
    if (build === null) continue;
    for (const size of THROUGHPUT_SIZES) {
      const batch = batchFor(size);
      const name = `${operation} ${contender.name} ${size}`;
      const sample = build(size, batch);
      if (sample === null) continue;
      jobs.push({ name, sample, batch });
      sizeOf.set(name, size);
      ownerOf.set(name, contender.id);
    }
  }
  const nanoseconds = measure(jobs, settings);
  const table: ThroughputTable = new Map(
    contenders.map((contender) => [contender.id, new Map(THROUGHPUT_SIZES.map((size) => [size, null]))]),
  );
  for (const [name, ns] of nanoseconds) {
    const size = sizeOf.get(name) as number;
    table.get(ownerOf.get(name) as string)?.set(size, size / ns);
  }
  return table;
}

export function formatThroughput(contenders: readonly Contender[], operation: Operation, table: ThroughputTable): string {
  const columns = contenders.filter((contender) => contender[operation] !== null || contender.missing !== null);
  const header = [`${operation} GB/s`, ...columns.map((contender) => contender.name)];
  const rows: Cell[][] = THROUGHPUT_SIZES.map((size) => [
    sizeLabel(size),
    ...columns.map((contender): Cell => (contender.missing !== null ? 'not loaded' : (table.get(contender.id)?.get(size) ?? null))),
  ]);
  return markdownTable(header, rows);
}
