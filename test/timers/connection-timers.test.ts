/**
 * The per-connection timers on a wheel of their own, driven by vitest's fake clock: idleTimeout,
 * sendPingsAutomatically and maxLifetime against a stand-in connection that records what it is told
 * to do. The real sockets are in sockets.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionTimerOptions,
  ConnectionTimers,
  MAX_LIFETIME_CLOSE_CODE,
  MAX_LIFETIME_CLOSE_REASON,
  TimedConnection,
  TimerClock,
  createConnectionTimers,
  sharedClock,
  validateConnectionTimerOptions,
} from '../../src/timers/connection-timers';
import { TimerWheel } from '../../src/timers/timer-wheel';
import { WebSocketServer } from '../../src/websocket-server';

/** The wheel's resolution in these tests: a timer fires at most one tick after its delay. */
const TICK = 10;

class FakeConnection implements TimedConnection {
  readyState = 1;
  readonly calls: string[] = [];

  ping(): void {
    this.calls.push('ping');
  }

  close(code: number, reason: string): void {
    this.calls.push(`close ${code} ${reason}`);
    this.readyState = 2;
  }

  terminate(): void {
    this.calls.push('terminate');
    this.readyState = 3;
  }
}

function fakeClock(): TimerClock {
  return { wheel: new TimerWheel(TICK, 64, () => Date.now()), now: () => Date.now() };
}

function open(options: ConnectionTimerOptions, clock: TimerClock): { connection: FakeConnection; timers: ConnectionTimers } {
  const connection = new FakeConnection();
  // Not null: every caller turns at least one option on (the null case has its own test).
  const timers = createConnectionTimers(connection, options, clock) as ConnectionTimers;
  timers.start();
  return { connection, timers };
}

describe('connection timers: options', () => {
  it('costs nothing when every option is off (the ws default)', () => {
    const connection = new FakeConnection();
    expect(createConnectionTimers(connection, {})).toBeNull();
    expect(createConnectionTimers(connection, { idleTimeout: 0, maxLifetime: 0, sendPingsAutomatically: true })).toBeNull();
  });

  it('refuses durations that cannot mean anything, and a non-boolean sendPingsAutomatically', () => {
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => validateConnectionTimerOptions({ idleTimeout: value }), String(value)).toThrow(RangeError);
      expect(() => validateConnectionTimerOptions({ maxLifetime: value }), String(value)).toThrow(RangeError);
    }
    expect(() => validateConnectionTimerOptions({ sendPingsAutomatically: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => validateConnectionTimerOptions({ idleTimeout: 0.5, maxLifetime: 2, sendPingsAutomatically: true })).not.toThrow();
  });

  it('the server refuses them at construction, and defaults every one to off', () => {
    expect(() => new WebSocketServer({ noServer: true, idleTimeout: -1 })).toThrow(RangeError);
    const { options } = new WebSocketServer({ noServer: true });
    expect([options.idleTimeout, options.sendPingsAutomatically, options.maxLifetime]).toEqual([0, false, 0]);
  });
});

describe('connection timers on a fake clock', () => {
  let clock: TimerClock;

  beforeEach(() => {
    vi.useFakeTimers();
    // A start on a tick boundary: deadlines land exactly on ticks, the case where a timer fires at
    // its delay to the millisecond (it may, never earlier).
    vi.setSystemTime(1_700_000_000_000);
    clock = fakeClock();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('idleTimeout: drops a connection that received nothing for that many seconds, not before', () => {
    const { connection } = open({ idleTimeout: 1 }, clock);
    vi.advanceTimersByTime(999);
    expect(connection.calls).toEqual([]);
    vi.advanceTimersByTime(1 + TICK);
    expect(connection.calls).toEqual(['terminate']);
    expect(clock.wheel.size).toBe(0);
  });

  it('idleTimeout: every inbound chunk resets idleness', () => {
    const { connection, timers } = open({ idleTimeout: 1 }, clock);
    vi.advanceTimersByTime(600);
    timers.touch();
    vi.advanceTimersByTime(999);
    expect(connection.calls).toEqual([]);
    vi.advanceTimersByTime(1 + TICK);
    expect(connection.calls).toEqual(['terminate']);
  });

  it('sendPingsAutomatically: pings at three quarters of idleTimeout; a peer that answers stays open', () => {
    const { connection, timers } = open({ idleTimeout: 4, sendPingsAutomatically: true }, clock);
    vi.advanceTimersByTime(2999);
    expect(connection.calls).toEqual([]);
    vi.advanceTimersByTime(1 + TICK);
    expect(connection.calls).toEqual(['ping']);
    // The pong arrives 200 ms after the ping.
    vi.advanceTimersByTime(200);
    timers.touch();
    vi.advanceTimersByTime(2500);
    expect(connection.calls).toEqual(['ping']);
    expect(connection.readyState).toBe(1);
    // Idle again for three seconds since the pong: pinged again.
    vi.advanceTimersByTime(500 + TICK);
    expect(connection.calls).toEqual(['ping', 'ping']);
  });

  it('sendPingsAutomatically: a peer that does not answer is dropped once the pong wait is over', () => {
    const { connection } = open({ idleTimeout: 4, sendPingsAutomatically: true }, clock);
    vi.advanceTimersByTime(3000 + TICK);
    expect(connection.calls).toEqual(['ping']);
    // The ping went at 3,000-3,010 ms; the 1 s pong wait ends at 4,000-4,010 ms.
    vi.advanceTimersByTime(990 - TICK);
    expect(connection.calls).toEqual(['ping']);
    vi.advanceTimersByTime(3 * TICK);
    expect(connection.calls).toEqual(['ping', 'terminate']);
    expect(clock.wheel.size).toBe(0);
  });

  it('sendPingsAutomatically: the pong wait is at most 16 s (idleTimeout 120 pings at 104 s)', () => {
    const { connection } = open({ idleTimeout: 120, sendPingsAutomatically: true }, clock);
    vi.advanceTimersByTime(103_990);
    expect(connection.calls).toEqual([]);
    vi.advanceTimersByTime(10 + TICK);
    expect(connection.calls).toEqual(['ping']);
  });

  it('sendPingsAutomatically: after a stalled event loop a live peer is pinged first, not dropped', () => {
    const { connection, timers } = open({ idleTimeout: 4, sendPingsAutomatically: true }, clock);
    // The process slept past the whole idleTimeout: the clock jumps, then the driver fires.
    vi.setSystemTime(Date.now() + 10_000);
    vi.advanceTimersByTime(3000 + TICK);
    expect(connection.calls).toEqual(['ping']);
    timers.touch();
    vi.advanceTimersByTime(1000 + TICK);
    expect(connection.calls).toEqual(['ping']);
    expect(connection.readyState).toBe(1);
  });

  it('maxLifetime: closes with 1000 "please reconnect" at that age in minutes, however busy', () => {
    const { connection, timers } = open({ maxLifetime: 0.5 }, clock);
    for (let elapsed = 0; elapsed < 29_900; elapsed += 100) {
      vi.advanceTimersByTime(100);
      timers.touch();
    }
    expect(connection.calls).toEqual([]);
    vi.advanceTimersByTime(100 + TICK);
    expect(connection.calls).toEqual([`close ${MAX_LIFETIME_CLOSE_CODE} ${MAX_LIFETIME_CLOSE_REASON}`]);
    expect([MAX_LIFETIME_CLOSE_CODE, MAX_LIFETIME_CLOSE_REASON]).toEqual([1000, 'please reconnect']);
  });

  it('a connection already closing is left to closeTimeout: no ping, no drop, no timer kept', () => {
    const { connection } = open({ idleTimeout: 1, sendPingsAutomatically: true, maxLifetime: 0.01 }, clock);
    connection.readyState = 2;
    vi.advanceTimersByTime(5000);
    expect(connection.calls).toEqual([]);
    expect(clock.wheel.size).toBe(0);
  });

  it('stop() on close leaves no entry in the wheel and no Node timer', () => {
    const { timers } = open({ idleTimeout: 1, sendPingsAutomatically: true, maxLifetime: 1 }, clock);
    expect(clock.wheel.size).toBe(2);
    timers.stop();
    expect(clock.wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('100,000 connections are one Node timer, and closing them all empties the wheel', () => {
    const all: ConnectionTimers[] = [];
    for (let i = 0; i < 100_000; i++) {
      all.push(open({ idleTimeout: 1 + (i % 7), sendPingsAutomatically: true, maxLifetime: 1 }, clock).timers);
    }
    expect(clock.wheel.size).toBe(200_000);
    expect(vi.getTimerCount()).toBe(1);
    // Some expire (pings go out) while the rest wait: still one driver.
    vi.advanceTimersByTime(2_000);
    expect(vi.getTimerCount()).toBe(1);
    for (const timers of all) timers.stop();
    expect(clock.wheel.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('connection timers on the shared wheel (real timers)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('100,000 connections start at most one setTimeout and hold no ref on the process', () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const refTimersBefore = process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const sizeBefore = sharedClock.wheel.size;
    const all: ConnectionTimers[] = [];
    for (let i = 0; i < 100_000; i++) all.push(open({ idleTimeout: 60, maxLifetime: 10 }, sharedClock).timers);
    expect(sharedClock.wheel.size - sizeBefore).toBe(200_000);
    expect(setTimeoutSpy.mock.calls.length).toBeLessThanOrEqual(1);
    // The driver is unref'd: an idle server does not keep the process alive.
    expect(process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length).toBe(refTimersBefore);
    for (const timers of all) timers.stop();
    expect(sharedClock.wheel.size).toBe(sizeBefore);
  });
});
