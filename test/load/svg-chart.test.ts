import { describe, expect, it } from 'vitest';
import { escapeXml, renderChart } from '../../bench/load/svg-chart';
import { summarize } from '../../bench/load/stats';

describe('load charts', () => {
  const svg = renderChart({
    title: 'Echo <32 B> & co',
    unit: 'msg/s',
    higherIsBetter: true,
    bars: [
      { label: 'ws', summary: summarize([100, 110, 90]) },
      { label: 'uWebSockets.js', summary: summarize([800, 820, 780]) },
      { label: 'simdws (native)', summary: null },
    ],
  });

  it('draws a bar and a whisker per server that ran, and says which did not', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/class="bar"/g)).toHaveLength(2);
    expect(svg.match(/class="whisker"/g)).toHaveLength(2);
    expect(svg).toContain('did not run');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  });

  it('scales bars to the largest run, so the longest whisker ends at the plot edge', () => {
    const widths = [...svg.matchAll(/class="bar" x="170" y="[\d.]+" width="([\d.]+)"/g)].map((match) => Number(match[1]));
    expect(widths[1] / widths[0]).toBeCloseTo(8, 1);
    expect(svg).toContain('x2="650.0"');
  });

  it('escapes text', () => {
    expect(svg).toContain('Echo &#60;32 B&#62; &#38; co');
    expect(escapeXml(`"'`)).toBe('&#34;&#39;');
  });
});
