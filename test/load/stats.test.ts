import { describe, expect, it } from 'vitest';
import { commonLimit, limitOf, median, summarize } from '../../bench/load/stats';
import type { LoadgenResult } from '../../bench/load/workloads';

function result(fields: Partial<LoadgenResult>): LoadgenResult {
  return {
    mode: 'echo', conns: 1, seconds: 5, count: 1, rate: 1, payload_mb_per_s: 0,
    gen_cpu: 0.3, server_cpu: 0.5, server_core_busy: 0.5, server_core_steal: 0, gen_core_busy: 0.3,
    wire_out_per_msg: 38, wire_in_per_msg: 34,
    ...fields,
  };
}

describe('median and spread of runs', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });

  it('reports min, max and (max - min) / median', () => {
    expect(summarize([90, 100, 110])).toEqual({ median: 100, min: 90, max: 110, spread: 0.2, runs: 3 });
  });
});

describe('what limited a run', () => {
  it('is the server when its process used its core', () => {
    expect(limitOf('echo', result({ server_cpu: 0.97, server_core_busy: 1 }))).toBe('server CPU');
  });

  it('is both when both saturated: the figure is then only a lower bound on the server', () => {
    expect(limitOf('broadcast', result({ server_cpu: 0.99, gen_cpu: 0.96 }))).toBe('server and generator CPU');
  });

  it('is the generator when the generator saturated and the server did not', () => {
    expect(limitOf('echo', result({ gen_cpu: 0.95, server_cpu: 0.6 }))).toBe('generator CPU');
  });

  it('flags a busy core whose own process was not busy: other load shared it', () => {
    expect(limitOf('echo', result({ server_cpu: 0.4, server_core_busy: 0.99 }))).toBe('core 0 shared');
    expect(limitOf('echo', result({ server_cpu: 0.4, server_core_busy: 0.5, server_core_steal: 0.45 }))).toBe('core 0 shared');
    expect(limitOf('echo', result({ gen_cpu: 0.2, gen_core_busy: 0.95 }))).toBe('core 1 shared');
  });

  it('is the offered rate for the open loop, round trips for a closed loop with room on both sides', () => {
    expect(limitOf('latency', result({}))).toBe('offered rate');
    expect(limitOf('echo', result({}))).toBe('round trips');
  });

  it('takes the limit most runs agree on', () => {
    expect(commonLimit(['core 0 shared', 'server CPU', 'server CPU'])).toBe('server CPU');
  });
});
