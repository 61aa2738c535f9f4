/**
 * Group 3: frames per second through Kernel.scan, per tier, beside ws's own Receiver fed the same
 * bytes. The chunk is 64 KiB of whole masked binary frames (RFC 6455 section 5.3: every client
 * frame is masked), as one socket read would deliver them.
 *
 * scan unmasks payloads in place (so does ws's Receiver, through views into the chunk), so each
 * sample first restores the masked bytes from a pristine copy. That restore is a 64 KiB memcpy
 * between the same two buffers every time; it is measured alone, per contestant, and subtracted,
 * and both figures are printed.
 */
import { Kernel, KIND_FRAME, RECORD_WORDS, recordKind, SCAN_EXPECT_MASKED } from '../../dist/kernels/contract';
import { tsKernel } from '../../dist/kernels/ts';
import { Tiers } from './contenders';
import { bufferPair, randomBytes } from '../lib/buffers';
import { Cell, markdownTable } from '../lib/table';
import { Job, measure, MeasureSettings } from '../lib/measure';

const CHUNK_BYTES = 64 * 1024;
export const SCAN_PAYLOADS = [32, 1024] as const;

interface Workload {
  readonly payload: number;
  readonly frames: number;
  /** The bytes on the wire. */
  readonly pristine: Buffer;
  /** The same bytes with every payload unmasked: what a correct scan leaves behind. */
  readonly expected: Buffer;
}

function header(payload: number): Buffer {
  // 5.2: FIN + opcode 0x2 (binary), MASK bit + 7-bit length, or 126 and a 16-bit length.
  return payload < 126 ? Buffer.from([0x82, 0x80 | payload]) : Buffer.from([0x82, 0x80 | 126, payload >> 8, payload & 0xff]);
}

function buildWorkload(payload: number): Workload {
  const frameBytes = header(payload).length + 4 + payload;
  const frames = Math.floor(CHUNK_BYTES / frameBytes);
  const wire: Buffer[] = [];
  const plain: Buffer[] = [];
  for (let frame = 0; frame < frames; frame++) {
    const head = header(payload);
    const key = randomBytes(4);
    const data = randomBytes(payload);
    const masked = Buffer.from(data.map((byte, index) => byte ^ key[index & 3]));
    wire.push(head, key, masked);
    plain.push(head, key, data);
  }
  return { payload, frames, pristine: Buffer.concat(wire), expected: Buffer.concat(plain) };
}

/** The part of ws's Receiver (a Writable) that the benchmark drives. */
interface ReceiverLike {
  write(chunk: Buffer): boolean;
  on(event: 'message', listener: (data: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

type ReceiverClass = new (options: { isServer: boolean }) => ReceiverLike;

/**
 * A contestant's own chunk and pristine copy (lib/buffers.ts places them so the memcpy between them
 * stays on its fast path), and the restore that every sample starts with.
 */
interface Staged {
  readonly chunk: Buffer;
  readonly restore: () => void;
}

function stage(work: Workload): Staged {
  const { source, target } = bufferPair(work.pristine.length);
  work.pristine.copy(source);
  return { chunk: target, restore: () => source.copy(target) };
}

/** Its sample (restore, then the work) after one checked run, or the reason it has no numbers. */
interface Contestant {
  readonly name: string;
  readonly sample: (() => void) | null;
  readonly restore: () => void;
  readonly missing: string | null;
}

function scanContestant(name: string, kernel: Kernel | null, missing: string, work: Workload): Contestant {
  const { chunk, restore } = stage(work);
  if (kernel === null) return { name, sample: null, restore, missing };
  const records = new Int32Array((work.frames + 2) * RECORD_WORDS);
  const sample = (): void => {
    restore();
    kernel.scan(chunk, 0, chunk.length, records, SCAN_EXPECT_MASKED);
  };
  try {
    restore();
    const count = kernel.scan(chunk, 0, chunk.length, records, SCAN_EXPECT_MASKED);
    for (let index = 0; index < count; index++) {
      if (recordKind(records, index) !== KIND_FRAME) throw new Error(`record ${index} is not a frame`);
    }
    if (count !== work.frames) throw new Error(`scan returned ${count} records for ${work.frames} frames`);
    if (!chunk.equals(work.expected)) throw new Error('scan left the payloads wrongly unmasked');
  } catch (error) {
    const reason = `wrong result: ${error instanceof Error ? error.message : String(error)}`;
    return { name, sample: null, restore, missing: reason };
  }
  return { name, sample, restore, missing: null };
}

function wsContestant(work: Workload): Contestant {
  const { Receiver } = require('ws') as { Receiver: ReceiverClass };
  const receiver = new Receiver({ isServer: true });
  const { chunk, restore } = stage(work);
  let messages = 0;
  let last: Buffer | null = null;
  let failure = '';
  receiver.on('message', (data) => {
    messages++;
    last = data;
  });
  receiver.on('error', (error) => {
    failure = `, error: ${error.message}`;
  });
  const sample = (): void => {
    restore();
    receiver.write(chunk);
  };
  sample();
  const payloadAt = work.expected.length - work.payload;
  const lastMatches = last !== null && (last as Buffer).equals(work.expected.subarray(payloadAt));
  if (messages !== work.frames || !lastMatches) {
    const reason = `wrong result: ${messages} messages for ${work.frames} frames${failure}`;
    return { name: 'ws Receiver', sample: null, restore, missing: reason };
  }
  return { name: 'ws Receiver', sample, restore, missing: null };
}

export interface ScanRow {
  readonly name: string;
  readonly missing: string | null;
  /** Median ns per chunk, restore included. */
  readonly chunkNs: number | null;
  /** Median ns of the restore alone. */
  readonly restoreNs: number | null;
  /** ns per frame with the restore subtracted. */
  readonly frameNs: number | null;
}

export interface ScanResult {
  readonly payload: number;
  readonly frames: number;
  readonly chunkBytes: number;
  readonly rows: readonly ScanRow[];
}

export function measureScan(tiers: Tiers, settings: MeasureSettings): ScanResult[] {
  return SCAN_PAYLOADS.map((payload) => {
    const work = buildWorkload(payload);
    const contestants = [
      scanContestant('native scan', tiers.native, tiers.errors.get('native') ?? '', work),
      scanContestant('wasm scan', tiers.wasm, tiers.errors.get('wasm') ?? '', work),
      scanContestant('ts scan', tsKernel, '', work),
      wsContestant(work),
    ];
    const jobs: Job[] = [];
    for (const contestant of contestants) {
      if (contestant.sample === null) continue;
      jobs.push({ name: contestant.name, sample: contestant.sample, batch: 1 });
      jobs.push({ name: `${contestant.name} restore`, sample: contestant.restore, batch: 1 });
    }
    const ns = measure(jobs, settings);
    const rows = contestants.map((contestant): ScanRow => {
      const chunkNs = ns.get(contestant.name) ?? null;
      const restoreNs = ns.get(`${contestant.name} restore`) ?? null;
      return {
        name: contestant.name,
        missing: contestant.missing,
        chunkNs,
        restoreNs,
        frameNs: chunkNs === null || restoreNs === null ? null : (chunkNs - restoreNs) / work.frames,
      };
    });
    return { payload, frames: work.frames, chunkBytes: work.pristine.length, rows };
  });
}

export function formatScan(result: ScanResult): string {
  const rows: Cell[][] = result.rows.map((row) =>
    row.missing !== null
      ? [row.name, row.missing, null, null, null]
      : [row.name, row.chunkNs, row.frameNs, row.frameNs === null ? null : 1e9 / row.frameNs, row.restoreNs],
  );
  const title = `${result.frames} × ${result.payload} B frames (${result.chunkBytes} B chunk)`;
  return markdownTable([title, 'ns/chunk incl. restore', 'ns/frame net', 'frames/s net', 'restore ns/chunk'], rows);
}
