import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerHandle, TimerWheel } from '../../src/timers/timer-wheel';

describe('TimerWheel (one coalesced timer for all connections)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function makeWheel(tickMs = 10, slots = 8): { wheel: TimerWheel; fired: string[]; handle(name: string): TimerHandle<string> } {
    const fired: string[] = [];
    const wheel = new TimerWheel(tickMs, slots, () => Date.now());
    const onFire = (name: string): void => {
      fired.push(name);
    };
    return { wheel, fired, handle: (name) => new TimerHandle(onFire, name) };
  }

  it('fires no earlier than the delay and at most one tick after it', () => {
    const { wheel, fired, handle } = makeWheel();
    wheel.schedule(handle('a'), 35);
    vi.advanceTimersByTime(34);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(11);
    expect(fired).toEqual(['a']);
    expect(wheel.size).toBe(0);
  });

  it('keeps a single driver timer however many timers are scheduled', () => {
    const { wheel, fired, handle } = makeWheel();
    for (let i = 0; i < 100; i++) wheel.schedule(handle(`t${i}`), 20 + (i % 5) * 10);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(80);
    expect(fired).toHaveLength(100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancels in O(1) without firing, and stops the driver when empty', () => {
    const { wheel, fired, handle } = makeWheel();
    const a = handle('a');
    const b = handle('b');
    wheel.schedule(a, 20);
    wheel.schedule(b, 20);
    wheel.cancel(a);
    expect(a.active).toBe(false);
    vi.advanceTimersByTime(50);
    expect(fired).toEqual(['b']);
    wheel.schedule(a, 20);
    wheel.cancel(a);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rescheduling moves a timer instead of duplicating it', () => {
    const { wheel, fired, handle } = makeWheel();
    const a = handle('a');
    wheel.schedule(a, 20);
    wheel.schedule(a, 60);
    expect(wheel.size).toBe(1);
    vi.advanceTimersByTime(40);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(40);
    expect(fired).toEqual(['a']);
  });

  it('handles delays longer than one turn of the wheel (8 slots x 10 ms)', () => {
    const { wheel, fired, handle } = makeWheel();
    wheel.schedule(handle('near'), 30);
    wheel.schedule(handle('far'), 250);
    vi.advanceTimersByTime(100);
    expect(fired).toEqual(['near']);
    vi.advanceTimersByTime(140);
    expect(fired).toEqual(['near']);
    vi.advanceTimersByTime(30);
    expect(fired).toEqual(['near', 'far']);
  });

  it('a callback may cancel a timer due in the same tick, or schedule a new one', () => {
    const fired: string[] = [];
    const wheel = new TimerWheel(10, 8, () => Date.now());
    const other = new TimerHandle((name: string) => fired.push(name), 'other');
    const first = new TimerHandle((name: string) => {
      fired.push(name);
      wheel.cancel(other);
      wheel.schedule(again, 0);
    }, 'first');
    const again = new TimerHandle((name: string) => fired.push(name), 'again');
    wheel.schedule(other, 20);
    wheel.schedule(first, 20);
    vi.advanceTimersByTime(60);
    // 'other' was due with 'first' but cancelled by it; 'again' fired on a later tick.
    expect(fired).toEqual(['first', 'again']);
    expect(wheel.size).toBe(0);
  });

  it('catches up when the process slept past many turns', () => {
    const { wheel, fired, handle } = makeWheel();
    wheel.schedule(handle('a'), 15);
    wheel.schedule(handle('b'), 500);
    vi.setSystemTime(Date.now() + 10_000);
    // 'a' is due within 15 + 10 ms of scheduling (one tick late at most): its driver fires by then.
    vi.advanceTimersByTime(25);
    expect(fired.sort()).toEqual(['a', 'b']);
  });

  it('refuses a slot count that is not a power of two', () => {
    expect(() => new TimerWheel(10, 6)).toThrow(RangeError);
  });
});
