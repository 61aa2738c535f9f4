/**
 * The "alloc" section of bench/RESULTS.md and its terminal print: how the numbers were taken, one table
 * per workload (bytes of JS heap and of external memory per message, median of the windows with their
 * range), and the sanity check that shows the method sees a known extra allocation.
 */
import { formatNumber, markdownTable } from '../lib/table';
import type { Cell } from '../lib/table';
import { summarize } from '../load/stats';
import { PROBE_COST_WINDOWS } from './measurement';
import type { AllocRow } from './measurement';
import { Growth, perUnit } from './window';

export const SECTION_NAME = 'alloc';

export interface AllocRunInfo {
  readonly machine: string;
  readonly node: string;
  readonly date: string;
  readonly pinning: string;
  readonly semiSpaceMiB: number;
  readonly warmupSeconds: number;
  readonly windows: number;
  readonly servers: readonly string[];
  readonly minutes: number;
}

/** The sanity check: the plain server and the same server with `extraBytes` more allocated per message. */
export interface SanityCheck {
  readonly extraBytes: number;
  readonly plain: AllocRow;
  readonly extra: AllocRow;
}

type Field = keyof Growth;

/** Median over the windows of bytes per message (or delivery), with the smallest and largest window. */
export function perUnitFigures(row: AllocRow, unit: 'messages' | 'deliveries', field: Field): { median: number; min: number; max: number } | null {
  if (row.samples.length === 0) return null;
  const summary = summarize(row.samples.map((sample) => perUnit(sample, unit)[field]));
  return { median: summary.median, min: summary.min, max: summary.max };
}

function figureCell(row: AllocRow, unit: 'messages' | 'deliveries', field: Field): string {
  if (row.error !== null && row.samples.length === 0) return 'n/a';
  const figures = perUnitFigures(row, unit, field);
  if (figures === null) return 'n/a';
  return `${formatNumber(figures.median)} (${formatNumber(figures.min)}–${formatNumber(figures.max)})`;
}

function countCell(row: AllocRow, unit: 'messages' | 'deliveries'): Cell {
  return row.samples.length === 0 ? null : summarize(row.samples.map((sample) => sample[unit])).median;
}

function windowsCell(row: AllocRow): string {
  const text = `${row.samples.length} of ${row.samples.length + row.discarded.length}`;
  return row.error === null ? text : `${text}: ${row.error}`;
}

export function workloadTable(rows: readonly AllocRow[]): string {
  const broadcast = rows.length > 0 && rows[0].workload.mode === 'broadcast';
  if (!broadcast) {
    return markdownTable(
      ['server', 'JS heap B/msg', 'external B/msg', 'msgs per window', 'windows counted'],
      rows.map((row) => [row.label, figureCell(row, 'messages', 'heapBytes'), figureCell(row, 'messages', 'externalBytes'), countCell(row, 'messages'), windowsCell(row)]),
    );
  }
  return markdownTable(
    ['server', 'JS heap B/delivery', 'external B/delivery', 'JS heap B/published', 'external B/published', 'deliveries per window', 'windows counted'],
    rows.map((row) => [
      row.label,
      figureCell(row, 'deliveries', 'heapBytes'),
      figureCell(row, 'deliveries', 'externalBytes'),
      figureCell(row, 'messages', 'heapBytes'),
      figureCell(row, 'messages', 'externalBytes'),
      countCell(row, 'deliveries'),
      windowsCell(row),
    ]),
  );
}

function medianOf(row: AllocRow, field: Field): number | null {
  return perUnitFigures(row, 'messages', field)?.median ?? null;
}

function difference(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a - b;
}

export function sanityTable(check: SanityCheck): string {
  const plainHeap = medianOf(check.plain, 'heapBytes');
  const plainExternal = medianOf(check.plain, 'externalBytes');
  const extraHeap = medianOf(check.extra, 'heapBytes');
  const extraExternal = medianOf(check.extra, 'externalBytes');
  const expected = check.extra.bufferAllocCost;
  return markdownTable(
    ['', 'JS heap B/msg', 'external B/msg'],
    [
      [check.plain.label, plainHeap, plainExternal],
      [check.extra.label, extraHeap, extraExternal],
      ['measured difference', difference(extraHeap, plainHeap), difference(extraExternal, plainExternal)],
      [
        `expected: one Buffer.alloc(${check.extraBytes}), measured in a loop in that server`,
        expected === null || expected.collections.length > 0 ? null : expected.heapPerCall,
        expected === null || expected.collections.length > 0 ? null : expected.externalPerCall,
      ],
    ],
  );
}

/** The probe's own cost per window, for the notes: what was subtracted. */
function probeCostLine(rows: readonly AllocRow[]): string {
  const costs = rows.filter((row) => Number.isFinite(row.probeCost.heapBytes));
  if (costs.length === 0) return '';
  const heap = costs.map((row) => row.probeCost.heapBytes);
  const external = costs.map((row) => row.probeCost.externalBytes);
  return `The readings' own cost, the smallest of ${PROBE_COST_WINDOWS} windows without traffic, per row, subtracted: ${formatNumber(Math.min(...heap))}–${formatNumber(Math.max(...heap))} B of JS heap and ${formatNumber(Math.min(...external))}–${formatNumber(Math.max(...external))} B external per window.`;
}

function discardedLine(rows: readonly AllocRow[]): string {
  const lines = rows.flatMap((row) => row.discarded.map((reason) => `${row.label}, ${row.workload.load.id}: ${reason}`));
  return lines.length === 0 ? 'No window was thrown away.' : `Windows thrown away (and retried): ${lines.join('; ')}.`;
}

export function renderSection(info: AllocRunInfo, byWorkload: readonly (readonly AllocRow[])[], sanity: SanityCheck | null): string {
  const rows = byWorkload.flat();
  const parts = [
    '## Allocations per message',
    '',
    `\`npm run bench:alloc\` (bench/alloc-per-message.ts), ${info.date}, ${info.minutes.toFixed(1)} minutes.`,
    '',
    `- Machine: ${info.machine}; Node ${info.node}; ${info.pinning}.`,
    `- Servers: the load benchmark's (bench/load/servers/, running dist/), each with bench/alloc/heap-probe.js preloaded ` +
      `(\`--require\`; it answers on a Unix socket, so the server's own code is unchanged) and ` +
      `\`--min-semi-space-size=${info.semiSpaceMiB} --max-semi-space-size=${info.semiSpaceMiB}\` (MiB). Generator: bench/load/loadgen.c with the load workloads' arguments.`,
    `- Method: V8 keeps no count of bytes allocated, so each window starts with the generator stopped (SIGSTOP) and the server idle, ` +
      'two full collections (the second waits for the ArrayBuffer sweeping of the first) and a reading (`v8.getHeapStatistics()`: used_heap_size, external_memory), then the generator runs (SIGCONT) ' +
      'for a time sized to stay under half the young generation and under 16 MiB of new ArrayBuffers (at 32 MiB V8 starts a scavenge), is stopped, and once the server is idle again ' +
      'the second reading is taken. A window counts only if V8 ran no collection in it (`v8.GCProfiler` over the window); otherwise ' +
      'it is thrown away and the next one is shorter. The growth of the used heap is the JS bytes allocated; the growth of external_memory ' +
      'the ArrayBuffer backing stores (Buffers) allocated. Messages are counted from the connections\' kernel byte counters (`ss -ti`: ' +
      'bytes received / bytes of one client frame, bytes acknowledged / bytes of one server frame), which must be whole frames and agree ' +
      '(every echo answered; every published message delivered to every subscriber) or the window is retried.',
    `- Each figure: median of ${info.windows} windows, with the smallest and largest window in parentheses; before them, ${info.warmupSeconds} s of warmup traffic ` +
      'and one window that only sizes the next (the first traffic after the idle of the cost windows reads about 5% high). ' +
      'External bytes include the chunks Node reads from the sockets (a new Buffer per read, shared by the messages in it).',
    `- ${probeCostLine(rows)}`,
    `- ${discardedLine(rows)}`,
    '- What each server said about itself on start:',
    ...info.servers.map((line) => `  - ${line}`),
  ];
  for (const workloadRows of byWorkload) {
    if (workloadRows.length === 0) continue;
    parts.push('', `### ${workloadRows[0].workload.title}`, '', workloadTable(workloadRows));
  }
  if (sanity !== null) {
    parts.push(
      '',
      `### Sanity check: one extra Buffer.alloc(${sanity.extraBytes}) per message`,
      '',
      `${sanity.extra.workload.title}; bench/alloc/extra-alloc-server.ts is the simdws echo with that one line added. ` +
        'The method must read the difference as one Buffer.alloc: its backing store in external memory, its two objects (ArrayBuffer and Uint8Array) in the JS heap.',
      '',
      sanityTable(sanity),
    );
  }
  return parts.join('\n');
}
