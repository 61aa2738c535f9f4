/**
 * One horizontal bar chart per workload (bench/charts/load-<id>.svg), which the README shows: a bar
 * per server at its median, a whisker from the slowest to the fastest run, and the value. Plain SVG
 * with no scripts or external fonts, so GitHub renders it as an image.
 */
import { formatNumber } from '../lib/table';
import type { Summary } from './stats';

export interface ChartBar {
  readonly label: string;
  /** null: the server did not run (the reason is in RESULTS.md). */
  readonly summary: Summary | null;
}

export interface Chart {
  readonly title: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly bars: readonly ChartBar[];
}

const WIDTH = 760;
const LABEL_WIDTH = 170;
const VALUE_WIDTH = 110;
const ROW_HEIGHT = 30;
const TOP = 52;
const BOTTOM = 28;
const BAR_HEIGHT = 18;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function renderChart(chart: Chart): string {
  const height = TOP + chart.bars.length * ROW_HEIGHT + BOTTOM;
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const largest = Math.max(0, ...chart.bars.map((bar) => (bar.summary === null ? 0 : bar.summary.max)));
  const scale = largest > 0 ? plotWidth / largest : 0;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="12" y="40" fill="#555555">${escapeXml(`${chart.unit}, median of runs (whisker: min to max); ${chart.higherIsBetter ? 'higher' : 'lower'} is better`)}</text>`,
  ];
  chart.bars.forEach((bar, index) => {
    const y = TOP + index * ROW_HEIGHT;
    const middle = y + ROW_HEIGHT / 2;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${middle + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`);
    if (bar.summary === null) {
      parts.push(`<text x="${LABEL_WIDTH + 4}" y="${middle + 4}" fill="#aa0000">did not run</text>`);
      return;
    }
    const { median, min, max } = bar.summary;
    const barWidth = Math.max(1, median * scale);
    parts.push(
      `<rect class="bar" x="${LABEL_WIDTH}" y="${middle - BAR_HEIGHT / 2}" width="${barWidth.toFixed(1)}" height="${BAR_HEIGHT}" fill="${bar.label.startsWith('simdws') ? '#2f6db5' : '#9aa5b1'}"/>`,
      `<line class="whisker" x1="${(LABEL_WIDTH + min * scale).toFixed(1)}" x2="${(LABEL_WIDTH + max * scale).toFixed(1)}" y1="${middle}" y2="${middle}" stroke="#222222" stroke-width="1.5"/>`,
      `<text x="${(LABEL_WIDTH + Math.max(barWidth, max * scale) + 6).toFixed(1)}" y="${middle + 4}">${escapeXml(formatNumber(median))}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
