/**
 * Reading autocannon's result: responses per second, the expected status told apart from every other
 * one (an accepted handshake, 1xx or 2xx, is a failure), errors by code, and refusal of output that
 * does not add up.
 */
import { describe, expect, it } from 'vitest';
import { parseFloodOutput } from '../../bench/load/flood-result';

const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n';

function output(statuses: Record<string, number>, extra: { errors?: number; timeouts?: number; errorCodes?: Record<string, number>; total?: number; request?: string | null } = {}): string {
  const total = extra.total ?? Object.values(statuses).reduce((sum, count) => sum + count, 0);
  return JSON.stringify({
    result: {
      duration: 8.01,
      start: '2026-11-22T07:00:00.000Z',
      finish: '2026-11-22T07:00:08.010Z',
      errors: extra.errors ?? 0,
      timeouts: extra.timeouts ?? 0,
      requests: { total, sent: total + 64, average: total / 8 },
      statusCodeStats: Object.fromEntries(Object.entries(statuses).map(([status, count]) => [status, { count }])),
      latency: { p99: 3 },
    },
    request: extra.request === undefined ? REQUEST : extra.request,
    errorCodes: extra.errorCodes ?? {},
    cpu: 0.93,
  });
}

describe('parseFloodOutput', () => {
  it('counts every completed response per second of the run, and those with the expected status', () => {
    const result = parseFloodOutput(output({ 403: 80_100 }), 403);
    expect(result.responses).toBe(80_100);
    expect(result.seconds).toBe(8.01);
    expect(result.responsesPerSecond).toBeCloseTo(10_000, 6);
    expect(result.expected).toBe(80_100);
    expect(result.unexpected).toEqual({});
    expect(result.accepted).toBe(0);
    expect(result.clientCpu).toBe(0.93);
    expect(result.finishMs - result.startMs).toBe(8010);
    expect(result.request).toBe(REQUEST);
  });

  it('keeps other statuses apart, and counts 1xx and 2xx as accepted handshakes', () => {
    const result = parseFloodOutput(output({ 400: 1000, 101: 7, 200: 3, 401: 20 }), 400);
    expect(result.expected).toBe(1000);
    expect(result.unexpected).toEqual({ 101: 7, 200: 3, 401: 20 });
    expect(result.accepted).toBe(10);
  });

  it('reports the errors with their codes', () => {
    const result = parseFloodOutput(output({ 400: 10 }, { errors: 5, timeouts: 1, errorCodes: { ECONNRESET: 4, 'request timed out': 1 } }), 400);
    expect(result.errors).toBe(5);
    expect(result.timeouts).toBe(1);
    expect(result.errorCodes).toEqual({ ECONNRESET: 4, 'request timed out': 1 });
    expect(parseFloodOutput(output({ 400: 10 }), 400).errorCodes).toEqual({});
  });

  it('refuses output that is not JSON, lacks the request, or whose statuses do not add up', () => {
    expect(() => parseFloodOutput('Running 8s test @ http://127.0.0.1', 400)).toThrow(/not JSON/);
    expect(() => parseFloodOutput(output({ 400: 10 }, { request: null }), 400)).toThrow(/no request/);
    expect(() => parseFloodOutput(output({ 400: 10 }, { total: 11 }), 400)).toThrow(/do not add up/);
    expect(() => parseFloodOutput(JSON.stringify({ request: REQUEST }), 400)).toThrow(/no result/);
  });
});
