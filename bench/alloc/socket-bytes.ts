/**
 * The bytes a server's WebSocket connections carried, read from the kernel (`ss -ti`, tcp_info), so the
 * count of messages needs no code in the server: with the generator stopped and every queue empty,
 * bytes received / bytes of one client frame is the number of messages the server has read, and bytes
 * acknowledged by the peer / bytes of one server frame the number it has written (RFC 6455 section 5.2
 * fixes both frame sizes for a workload). The Unix socket of the heap probe is not TCP, so not counted.
 */
import { spawnSync } from 'node:child_process';

export interface SocketBytes {
  readonly sockets: number;
  /** tcpi_bytes_received summed over the server's connections. */
  readonly received: number;
  /** tcpi_bytes_acked: what the peers' kernels have acknowledged, retransmissions left out. */
  readonly acked: number;
  /** Bytes waiting in the server's receive queues (not yet read by the server) and send queues. */
  readonly receiveQueue: number;
  readonly sendQueue: number;
}

function counter(info: string, name: string): number {
  // ss leaves a counter out while it is zero.
  const match = new RegExp(`\\b${name}:(\\d+)`).exec(info);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Sums `ss -tinH state established` output: each socket is a line "Recv-Q Send-Q local peer" followed
 * by an indented line of tcp_info fields.
 */
export function parseSocketBytes(output: string): SocketBytes {
  let sockets = 0;
  let received = 0;
  let acked = 0;
  let receiveQueue = 0;
  let sendQueue = 0;
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      received += counter(line, 'bytes_received');
      acked += counter(line, 'bytes_acked');
      continue;
    }
    const [recvQ, sendQ] = line.trim().split(/\s+/);
    if (!/^\d+$/.test(recvQ) || !/^\d+$/.test(sendQ)) throw new Error(`ss: unexpected socket line ${JSON.stringify(line)}`);
    sockets++;
    receiveQueue += Number(recvQ);
    sendQueue += Number(sendQ);
  }
  return { sockets, received, acked, receiveQueue, sendQueue };
}

/** The established connections whose local port is the server's. */
export function readSocketBytes(port: number): SocketBytes {
  const result = spawnSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error !== undefined) throw new Error('cannot run ss (iproute2) to read the connections\' byte counters', { cause: result.error });
  if (result.status !== 0) throw new Error(`ss failed: ${result.stderr}`);
  return parseSocketBytes(result.stdout);
}
