/**
 * The peers the load benchmark compares, each a process started with its own command line. Every
 * server speaks the same small protocol (servers/control.js): port as first argument, "ready" on
 * stdout, "gc" on stdin; echo on any path, broadcast from /pub to every /sub connection; and
 * SIMDWS_BENCH_DEFLATE in its environment turns its permessage-deflate on for compressed workloads.
 */
import path from 'node:path';
import type { TierName } from '../../src/kernels/contract';
import { BUN_BINARY, fetchBun } from './bun-binary';

export interface ServerDefinition {
  readonly id: string;
  /** What the table shows. */
  readonly label: string;
  /** The program: this process's Node, or Bun's binary. */
  readonly command: string;
  /** Makes `command` available where it is not part of the install (Bun: fetched on first use); throws why not. */
  readonly fetchCommand?: () => unknown;
  /** Arguments after the command; the port is appended. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Set for simdws rows: the kernel tier it was forced to. */
  readonly tier: TierName | null;
  /** The rows it gives in a compressed workload, one per setting; none: it cannot compress. */
  readonly deflate: readonly DeflateVariant[];
}

/** One compression setting of a server: the SIMDWS_BENCH_DEFLATE value and what the row's label adds. */
export interface DeflateVariant {
  readonly setting: string;
  /** Empty for the library's plain "on", which keeps the server's id, so ratios to ws still find ws. */
  readonly suffix: string;
}

export const DEFLATE_ENV = 'SIMDWS_BENCH_DEFLATE';
const DEFLATE_ON: readonly DeflateVariant[] = [{ setting: 'on', suffix: '' }];

const SERVERS_DIR = path.join(__dirname, 'servers');
const NODE_FLAGS = ['--expose-gc'];
/** Compression off unless the workload asks, whatever the shell that started the bench had set. */
const DEFLATE_OFF = { [DEFLATE_ENV]: '' };

function plain(id: string, label: string, file: string, deflate: readonly DeflateVariant[]): ServerDefinition {
  return { id, label, command: process.execPath, args: [...NODE_FLAGS, path.join(SERVERS_DIR, file)], env: DEFLATE_OFF, tier: null, deflate };
}

const BUN: ServerDefinition = {
  id: 'bun',
  label: 'Bun',
  command: BUN_BINARY,
  fetchCommand: fetchBun,
  args: [path.join(SERVERS_DIR, 'bun-server.js')],
  env: DEFLATE_OFF,
  tier: null,
  deflate: DEFLATE_ON,
};

function simdws(tier: TierName): ServerDefinition {
  return {
    id: `simdws-${tier}`,
    label: `simdws (${tier})`,
    command: process.execPath,
    args: [...NODE_FLAGS, path.join(SERVERS_DIR, 'simdws-server.js')],
    env: { ...DEFLATE_OFF, SIMDWS_KERNEL: tier },
    tier,
    deflate: [...DEFLATE_ON, { setting: 'memory-lean', suffix: 'MEMORY_LEAN_DEFLATE' }],
  };
}

/** The bare `net` server: what part of a figure is Node itself. */
export const FLOOR_SERVER = 'node-floor';

export const SERVERS: readonly ServerDefinition[] = [
  plain(FLOOR_SERVER, 'Node floor (net)', 'node-floor-server.js', []),
  plain('ws', 'ws + bufferutil', 'ws-server.js', DEFLATE_ON),
  plain('uws', 'uWebSockets.js', 'uws-server.js', DEFLATE_ON),
  BUN,
  simdws('native'),
  simdws('wasm'),
  simdws('ts'),
];

/** A server's rows in a compressed workload: itself with each of its compression settings. */
export function deflateRows(server: ServerDefinition): ServerDefinition[] {
  return server.deflate.map((variant) => ({
    ...server,
    id: variant.suffix === '' ? server.id : `${server.id}-${variant.setting}`,
    label: variant.suffix === '' ? server.label : `${server.label}, ${variant.suffix}`,
    env: { ...server.env, [DEFLATE_ENV]: variant.setting },
  }));
}

/** The row every ratio is taken against: the library simdws replaces. */
export const BASELINE_SERVER = 'ws';
