/**
 * The workloads whose allocations are measured: the load benchmark's echo 32 B binary, echo 1 KiB text
 * and broadcast 64 B, with the same generator arguments, and the sizes of the frames each way that turn
 * the connections' byte counters into message counts.
 */
import { WORKLOADS } from '../load/workloads';
import type { Workload } from '../load/workloads';

export interface AllocWorkload {
  readonly load: Workload;
  /** The generator's arguments: the load row's, but for broadcast's publishes in flight (ALLOC_BROADCAST_WINDOW). */
  readonly args: readonly string[];
  readonly title: string;
  readonly mode: 'echo' | 'broadcast';
  /** Connections the generator opens: echo connections, or subscribers plus the publisher. */
  readonly connections: number;
  /** Deliveries per message read: 1 for echo, the subscribers for broadcast. */
  readonly fanOut: number;
  /** Bytes of one masked client frame and of one unmasked server frame. */
  readonly clientFrameBytes: number;
  readonly serverFrameBytes: number;
}

export const ALLOC_WORKLOAD_IDS = ['echo-32b', 'echo-1k-text', 'broadcast-64b'] as const;

/**
 * Publishes in flight while broadcast allocations are counted. With the load row's 64, ws makes about
 * 70 MB of garbage per round of publishes (1.1 KB per delivery), and no window of the method is free of
 * a collection (measured: 0 of 12 tries); with 16 it is. What simdws and the floor allocate per
 * delivery is the share of one batch Buffer and a write, with either.
 */
export const ALLOC_BROADCAST_WINDOW = 16;

/** Header bytes of a frame with this payload length (RFC 6455 section 5.2: 7-bit, 16-bit or 64-bit length). */
export function frameHeaderBytes(payloadBytes: number, masked: boolean): number {
  const length = payloadBytes < 126 ? 2 : payloadBytes < 65536 ? 4 : 10;
  // Section 5.3: every client-to-server frame carries a 4-byte masking key.
  return length + (masked ? 4 : 0);
}

function argument(workload: Workload, name: string): number {
  const at = workload.args.indexOf(name);
  const value = at === -1 ? NaN : Number(workload.args[at + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`workload ${workload.id} has no ${name}`);
  return value;
}

export function allocWorkload(id: (typeof ALLOC_WORKLOAD_IDS)[number]): AllocWorkload {
  const load = WORKLOADS.find((workload) => workload.id === id);
  if (load === undefined) throw new Error(`no load workload ${id}`);
  const mode = load.args.includes('broadcast') ? 'broadcast' : 'echo';
  const conns = argument(load, '--conns');
  const size = argument(load, '--size');
  const args = [...load.args];
  let title = load.title;
  if (mode === 'broadcast') {
    args[args.indexOf('--window') + 1] = String(ALLOC_BROADCAST_WINDOW);
    title = title.replace(/\d+ publishes in flight/, `${ALLOC_BROADCAST_WINDOW} publishes in flight`);
  }
  return {
    load,
    args,
    title,
    mode,
    connections: mode === 'broadcast' ? conns + 1 : conns,
    fanOut: mode === 'broadcast' ? conns : 1,
    clientFrameBytes: frameHeaderBytes(size, true) + size,
    serverFrameBytes: frameHeaderBytes(size, false) + size,
  };
}

export const ALLOC_WORKLOADS: readonly AllocWorkload[] = ALLOC_WORKLOAD_IDS.map(allocWorkload);
