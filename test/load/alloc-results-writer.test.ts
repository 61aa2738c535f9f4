import { describe, expect, it } from 'vitest';
import type { AllocRow } from '../../bench/alloc/measurement';
import { perUnitFigures, sanityTable, workloadTable } from '../../bench/alloc/results-writer';
import type { WindowSample } from '../../bench/alloc/window';
import { allocWorkload } from '../../bench/alloc/workloads';

function sample(messages: number, heapBytes: number, externalBytes: number, fanOut = 1): WindowSample {
  return { messages, deliveries: messages * fanOut, heapBytes, externalBytes, arrayBufferBytes: externalBytes, runMs: 100 };
}

function row(label: string, samples: WindowSample[], workload = allocWorkload('echo-32b')): AllocRow {
  return {
    serverId: label, label, workload, description: '', samples, discarded: [], error: null, sites: null,
    probeCost: { heapBytes: 36_000, externalBytes: 5, arrayBufferBytes: 5 }, bufferAllocCost: null,
  };
}

describe('the alloc section', () => {
  it('gives the median of the windows per message, with their range', () => {
    const measured = row('simdws', [sample(1000, 280_000, 38_000), sample(2000, 540_000, 76_000), sample(1000, 300_000, 38_000)]);
    expect(perUnitFigures(measured, 'messages', 'heapBytes')).toEqual({ median: 280, min: 270, max: 300 });
    expect(workloadTable([measured])).toMatch(/\| simdws \|\s+280 \(270–300\) \|\s+38\.0 \(38\.0–38\.0\) \|/);
  });

  it('reports broadcast per delivery and per published message', () => {
    const broadcast = allocWorkload('broadcast-64b');
    const table = workloadTable([row('simdws', [sample(10, 160_000, 1430, 1000)], broadcast)]);
    expect(table).toContain('JS heap B/delivery');
    expect(table).toMatch(/\| simdws \|\s+16\.0 \(16\.0–16\.0\) \|\s+0\.143 \(0\.143–0\.143\) \|\s+16,000 \(16,000–16,000\) \|/);
  });

  it('sets the measured difference of the sanity check beside the expected cost', () => {
    const plain = row('plain', [sample(1000, 280_000, 38_000)]);
    const extra = { ...row('extra', [sample(1000, 465_000, 138_000)]), bufferAllocCost: { heapPerCall: 185, externalPerCall: 100, collections: [] } };
    const table = sanityTable({ extraBytes: 100, plain, extra });
    expect(table).toMatch(/\| measured difference\s+\|\s+185 \|\s+100 \|/);
    expect(table).toMatch(/\| expected: one Buffer\.alloc\(100\)[^|]*\|\s+185 \|\s+100 \|/);
  });
});
