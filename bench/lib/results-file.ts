/**
 * bench/RESULTS.md holds one generated section per benchmark script, each between its own marker
 * comments, so a rerun replaces its section and leaves the others (and any prose around them) alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const TITLE = '# Benchmark results\n\nGenerated sections: rerun the script named in each to refresh it.\n';

function markers(name: string): { begin: string; end: string } {
  return { begin: `<!-- ${name}:begin -->`, end: `<!-- ${name}:end -->` };
}

export function writeSection(file: string, name: string, content: string): void {
  const { begin, end } = markers(name);
  const block = `${begin}\n${content.trim()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : TITLE;
  const from = current.indexOf(begin);
  const to = current.indexOf(end);
  const next =
    from !== -1 && to > from
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
