/**
 * One measured window, from two readings of the heap probe and of the connections' byte counters, both
 * taken while the generator was stopped and the server idle. V8 has no cumulative "bytes allocated"
 * counter, so a window counts only if no collection ran in it (a scavenge would empty the young
 * generation and the growth of the used heap would no longer be the bytes allocated); then
 *   JS heap per message  = (growth of used_heap_size - the probe's own cost) / messages
 *   external per message = (growth of external_memory - the probe's own cost) / messages
 * where the probe's own cost is what the same two readings grow by in a window with no traffic.
 */
import type { HeapReading, WindowEndReading } from './probe-client';
import type { SocketBytes } from './socket-bytes';
import type { AllocWorkload } from './workloads';

/** What two readings grow by; for a window with no traffic, the measurement's own cost. */
export interface Growth {
  readonly heapBytes: number;
  readonly externalBytes: number;
  readonly arrayBufferBytes: number;
}

export interface WindowSample extends Growth {
  /** Messages the server read (published ones, for broadcast) and frames it wrote (deliveries). */
  readonly messages: number;
  readonly deliveries: number;
  /** How long the generator ran in the window. */
  readonly runMs: number;
}

export type WindowVerdict =
  | { readonly ok: true; readonly sample: WindowSample }
  | { readonly ok: false; readonly reason: string; readonly shorten: boolean };

export const NO_GROWTH: Growth = { heapBytes: 0, externalBytes: 0, arrayBufferBytes: 0 };

export function growthOf(before: HeapReading, after: HeapReading): Growth {
  return {
    heapBytes: after.usedHeap - before.usedHeap,
    externalBytes: after.externalMemory - before.externalMemory,
    arrayBufferBytes: after.arrayBuffers - before.arrayBuffers,
  };
}

function minus(growth: Growth, cost: Growth): Growth {
  return {
    heapBytes: growth.heapBytes - cost.heapBytes,
    externalBytes: growth.externalBytes - cost.externalBytes,
    arrayBufferBytes: growth.arrayBufferBytes - cost.arrayBufferBytes,
  };
}

export interface WindowReadings {
  readonly heapBefore: HeapReading;
  readonly heapAfter: WindowEndReading;
  readonly bytesBefore: SocketBytes;
  readonly bytesAfter: SocketBytes;
  readonly runMs: number;
}

/**
 * Whether the window counts, and what it measured. A collection in the window asks for a shorter one;
 * a count that is not whole frames, or replies that do not match the requests, asks for another.
 */
export function evaluateWindow(workload: AllocWorkload, readings: WindowReadings, probeCost: Growth): WindowVerdict {
  const { heapBefore, heapAfter, bytesBefore, bytesAfter } = readings;
  if (heapAfter.collections === null) throw new Error('the heap probe had no baseline for this window');
  if (heapAfter.collections.length > 0) {
    return { ok: false, reason: `${heapAfter.collections.join(', ')} during the window`, shorten: true };
  }
  if (bytesAfter.sockets !== bytesBefore.sockets || bytesAfter.sockets !== workload.connections) {
    throw new Error(`the server had ${bytesBefore.sockets} then ${bytesAfter.sockets} connections; the generator opens ${workload.connections}`);
  }
  if (bytesAfter.receiveQueue !== 0 || bytesAfter.sendQueue !== 0) {
    return { ok: false, reason: 'bytes still queued at the end of the window', shorten: false };
  }
  const received = bytesAfter.received - bytesBefore.received;
  const acked = bytesAfter.acked - bytesBefore.acked;
  if (received % workload.clientFrameBytes !== 0 || acked % workload.serverFrameBytes !== 0) {
    return { ok: false, reason: `not whole frames: ${received} bytes in, ${acked} out`, shorten: false };
  }
  const messages = received / workload.clientFrameBytes;
  const deliveries = acked / workload.serverFrameBytes;
  if (messages === 0) return { ok: false, reason: 'no messages in the window', shorten: false };
  if (deliveries !== messages * workload.fanOut) {
    return { ok: false, reason: `${messages} messages in but ${deliveries} frames out (expected ${messages * workload.fanOut})`, shorten: false };
  }
  const growth = minus(growthOf(heapBefore, heapAfter), probeCost);
  return { ok: true, sample: { ...growth, messages, deliveries, runMs: readings.runMs } };
}

export interface WindowBudget {
  /** Bytes the young generation may fill: a scavenge comes when it is full. */
  readonly heapBytes: number;
  /** ArrayBuffer bytes: past a limit of V8's (measurement.ts), allocating another one starts a scavenge. */
  readonly externalBytes: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** A window at most this many times as long as the last, so one slow window (a busy neighbour) cannot plan an overlong one. */
  readonly maxGrowth: number;
}

/** How long the next window may run so that, at the rates just seen, it stays within the budget. */
export function nextRunMs(sample: WindowSample, budget: WindowBudget): number {
  const limits = [budget.maxMs, sample.runMs * budget.maxGrowth];
  const heapRate = sample.heapBytes / sample.runMs;
  const externalRate = sample.externalBytes / sample.runMs;
  if (heapRate > 0) limits.push(budget.heapBytes / heapRate);
  if (externalRate > 0) limits.push(budget.externalBytes / externalRate);
  return Math.max(budget.minMs, Math.floor(Math.min(...limits)));
}

/** Bytes per message (or per delivery), from a sample. */
export function perUnit(sample: WindowSample, unit: 'messages' | 'deliveries'): Growth {
  const count = sample[unit];
  return {
    heapBytes: sample.heapBytes / count,
    externalBytes: sample.externalBytes / count,
    arrayBufferBytes: sample.arrayBufferBytes / count,
  };
}
