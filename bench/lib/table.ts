/**
 * Markdown tables: the same text goes to the terminal and into bench/RESULTS.md, so what a reader
 * sees after a run is exactly what gets committed.
 */
export type Cell = string | number | null;

/** Three significant figures keep GB/s and ns readable without pretending to more precision. */
export function formatNumber(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

function text(cell: Cell): string {
  return typeof cell === 'number' || cell === null ? formatNumber(cell) : cell;
}

/** Left-aligns the first column, right-aligns the rest (they hold numbers). */
export function markdownTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const body = rows.map((row) => row.map(text));
  const widths = header.map((title, column) =>
    Math.max(title.length, 3, ...body.map((row) => row[column].length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
