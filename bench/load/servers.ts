/**
 * The peers the load benchmark compares, each a process started with its own command line. Every
 * server speaks the same small protocol (servers/control.js): port as first argument, "ready" on
 * stdout, "gc" on stdin; echo on any path, broadcast from /pub to every /sub connection.
 */
import path from 'node:path';
import type { TierName } from '../../src/kernels/contract';

export interface ServerDefinition {
  readonly id: string;
  /** What the table shows. */
  readonly label: string;
  /** Arguments after `node`; the port is appended. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Set for simdws rows: the kernel tier it was forced to. */
  readonly tier: TierName | null;
}

const SERVERS_DIR = path.join(__dirname, 'servers');
const NODE_FLAGS = ['--expose-gc'];

function plain(id: string, label: string, file: string): ServerDefinition {
  return { id, label, args: [...NODE_FLAGS, path.join(SERVERS_DIR, file)], env: {}, tier: null };
}

function simdws(tier: TierName): ServerDefinition {
  return {
    id: `simdws-${tier}`,
    label: `simdws (${tier})`,
    args: [...NODE_FLAGS, '--import', 'tsx', path.join(SERVERS_DIR, 'simdws-server.ts')],
    env: { SIMDWS_KERNEL: tier },
    tier,
  };
}

export const SERVERS: readonly ServerDefinition[] = [
  plain('node-floor', 'Node floor (net)', 'node-floor-server.js'),
  plain('ws', 'ws + bufferutil', 'ws-server.js'),
  plain('uws', 'uWebSockets.js', 'uws-server.js'),
  simdws('native'),
  simdws('wasm'),
  simdws('ts'),
];

/** The row every ratio is taken against: the library simdws replaces. */
export const BASELINE_SERVER = 'ws';
