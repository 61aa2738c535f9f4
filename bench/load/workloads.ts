/**
 * The workloads: the seven of issue 5 and issue 4's compressed echo. What the generator does (its
 * command line) and which number of its result is the row's figure. Sizes are payload bytes; every
 * echo is checked byte for byte (after inflating it, when compressed).
 */
export type LoadgenMode = 'echo' | 'broadcast' | 'latency' | 'handshake' | 'idle' | 'flood';

/** One JSON line printed by loadgen.c; fields a mode does not measure are absent. */
export interface LoadgenResult {
  readonly mode: LoadgenMode;
  readonly conns: number;
  readonly seconds: number;
  readonly count: number;
  readonly rate: number;
  readonly payload_mb_per_s: number;
  /** Fractions of one core over the measured window; -1 when not measured. */
  readonly gen_cpu: number;
  readonly server_cpu: number;
  readonly server_core_busy: number;
  readonly server_core_steal: number;
  readonly gen_core_busy: number;
  readonly p50_us?: number;
  readonly p99_us?: number;
  readonly p999_us?: number;
  readonly max_us?: number;
  readonly sent_rate?: number;
  readonly samples?: number;
  /** Frame bytes (headers included) each way over the measured window, per counted message. */
  readonly wire_out_per_msg: number;
  readonly wire_in_per_msg: number;
  /** --deflate: the share of replies that came compressed, and what the first handshake agreed. */
  readonly compressed_reply_share?: number;
  readonly deflate?: DeflateAgreement;
}

/** permessage-deflate parameters as agreed (RFC 7692 section 7.1); window bits are 15 when absent. */
export interface DeflateAgreement {
  readonly server_no_context_takeover: boolean;
  readonly client_no_context_takeover: boolean;
  readonly server_max_window_bits: number;
  readonly client_max_window_bits: number;
}

/** What a memory run measures, read by the orchestrator from /proc while the connections idle. */
export interface MemoryResult {
  readonly conns: number;
  readonly rssBeforeBytes: number;
  readonly rssAfterBytes: number;
  readonly connectSeconds: number;
}

export interface Workload {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  /** Whether the kernel tier can change the figure; if not, only simdws's default tier runs it. */
  readonly kernelSensitive: boolean;
  /**
   * permessage-deflate on: the generator offers it (--deflate) and each server runs with its
   * compression on (servers.ts deflateRows); the rows add the bytes on the wire per message.
   */
  readonly deflate: boolean;
  readonly args: readonly string[];
  /** Memory workloads: how long the connections idle before RSS is read. */
  readonly idleMilliseconds?: number;
}

export const WORKLOADS: readonly Workload[] = [
  {
    id: 'echo-32b',
    title: 'Echo 32 B binary, 100 connections x 16 in flight',
    unit: 'msg/s',
    higherIsBetter: true,
    kernelSensitive: true,
    deflate: false,
    args: ['--mode', 'echo', '--conns', '100', '--inflight', '16', '--size', '32'],
  },
  {
    id: 'echo-1k-text',
    title: 'Echo 1 KiB text, 100 connections x 16 in flight',
    unit: 'msg/s',
    higherIsBetter: true,
    kernelSensitive: true,
    deflate: false,
    args: ['--mode', 'echo', '--conns', '100', '--inflight', '16', '--size', '1024', '--text'],
  },
  {
    id: 'echo-64k',
    title: 'Echo 64 KiB binary, 10 connections x 4 in flight',
    unit: 'MB/s one way',
    higherIsBetter: true,
    kernelSensitive: true,
    deflate: false,
    args: ['--mode', 'echo', '--conns', '10', '--inflight', '4', '--size', '65536'],
  },
  {
    id: 'broadcast-64b',
    title: 'Broadcast 64 B to 1,000 subscribers, 64 publishes in flight',
    unit: 'deliveries/s',
    higherIsBetter: true,
    kernelSensitive: true,
    deflate: false,
    // 64 in flight, not 16: with 16, every batching server (the floor, uWebSockets.js, Bun, simdws) read
    // 2.2-2.9M deliveries/s, capped alike by the generator's reads (and the ACK each sends over loopback),
    // and Bun read 2.3-2.9M where issue 5's table has 4.5M; with 64 Bun reads 4.35M and the servers part
    // (bench/RESULTS.md, "Broadcast: publishes in flight").
    args: ['--mode', 'broadcast', '--conns', '1000', '--size', '64', '--window', '64'],
  },
  {
    id: 'idle-memory',
    title: 'Memory per idle connection, 10,000 connections',
    unit: 'bytes/conn',
    higherIsBetter: false,
    kernelSensitive: false,
    deflate: false,
    args: ['--mode', 'idle', '--conns', '10000', '--concurrency', '256'],
    idleMilliseconds: 500,
  },
  {
    id: 'idle-memory-settled',
    title: 'Memory per idle connection, 10,000 connections, after 15 s idle',
    unit: 'bytes/conn',
    higherIsBetter: false,
    kernelSensitive: false,
    deflate: false,
    args: ['--mode', 'idle', '--conns', '10000', '--concurrency', '256'],
    // Half a second after connecting, about 3 KB of every Node server's figure is V8's young generation,
    // grown by the burst of connects; V8's memory reducer gives it back once allocation has been slow
    // for about 8 s (measured here: unchanged at 5 s, shrunk by 10 s, the same at 20 and 30 s). This
    // row is what idle connections cost a server that has settled.
    idleMilliseconds: 15_000,
  },
  {
    id: 'handshakes',
    title: 'Handshakes: connect, upgrade, close handshake; 64 at a time',
    unit: 'handshakes/s',
    higherIsBetter: true,
    kernelSensitive: false,
    deflate: false,
    args: ['--mode', 'handshake', '--concurrency', '64'],
  },
  {
    id: 'latency-p99',
    title: 'Round-trip p99 at 20,000 msg/s (open loop, 32 B, 50 connections)',
    unit: 'µs',
    higherIsBetter: false,
    kernelSensitive: true,
    deflate: false,
    args: ['--mode', 'latency', '--conns', '50', '--rate', '20000', '--size', '32'],
  },
  {
    id: 'echo-1k-json-deflate',
    title: 'Echo 1 KiB JSON, permessage-deflate, 100 connections x 16 in flight',
    unit: 'msg/s',
    higherIsBetter: true,
    // zlib's time dwarfs the unmasking of ~300 compressed bytes: one simdws row per preset, default tier.
    kernelSensitive: false,
    deflate: true,
    args: ['--mode', 'echo', '--conns', '100', '--inflight', '16', '--size', '1024', '--json', '--deflate'],
  },
];

/** The row's figure from one generator run. */
export function figureOf(workload: Workload, result: LoadgenResult): number {
  if (workload.id === 'echo-64k') return result.payload_mb_per_s;
  if (workload.id === 'latency-p99') return result.p99_us ?? NaN;
  return result.rate;
}

export function memoryFigure(result: MemoryResult): number {
  return (result.rssAfterBytes - result.rssBeforeBytes) / result.conns;
}
