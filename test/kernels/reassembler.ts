/**
 * The smallest receiver loop that the kernel contract allows, for the streaming tests: it keeps the
 * unconsumed tail of each chunk and prepends it to the next. On PARTIAL it simply waits for more
 * bytes and rescans from FRAME_START (nothing was unmasked); on FULL it calls again at once.
 */
import { Kernel } from '../../src/kernels/contract';
import { concatBytes } from '../helpers/frames';
import { fillPseudoRandom } from './placement';
import { lengthOf, readRecord } from './records';

export interface FrameEvent {
  /** The first header byte and the MASK bit, as in a record's INFO. */
  info: number;
  length: number;
  /** The unmasked payload, copied out. */
  payload: Uint8Array;
}

export interface ReassemblerOptions {
  scanOptions: number;
  /** Size of the records array in words; small values make the kernel report FULL often. */
  recordWords: number;
  /** Garbage bytes before `start` in every scanned buffer, so offsets and alignment vary. */
  lead?: number;
}

export function reassemble(kernel: Kernel, chunks: readonly Uint8Array[], options: ReassemblerOptions): FrameEvent[] {
  const records = new Int32Array(options.recordWords);
  const lead = options.lead ?? 0;
  const events: FrameEvent[] = [];
  let tail = new Uint8Array(0);
  for (const chunk of chunks) {
    const buffer = concatBytes([new Uint8Array(lead), tail, chunk]);
    fillPseudoRandom(buffer.subarray(0, lead), lead + 1);
    let pos = lead;
    let again = true;
    while (again) {
      again = false;
      const callStart = pos;
      const count = kernel.scan(buffer, callStart, buffer.length, records, options.scanOptions);
      for (let i = 0; i < count; i++) {
        const record = readRecord(records, i);
        if (record.kind === 'FRAME') {
          const length = lengthOf(record);
          events.push({
            info: record.info,
            length,
            payload: buffer.slice(record.payloadStart, record.payloadStart + length),
          });
          pos = record.payloadStart + length;
        } else if (record.kind === 'FULL') {
          if (record.frameStart <= callStart) throw new Error(`FULL at ${record.frameStart} made no progress`);
          pos = record.frameStart;
          again = true;
        } else if (record.kind === 'NEED_HEADER' || record.kind === 'PARTIAL') {
          pos = record.frameStart;
        } else {
          throw new Error(`a valid stream gave a ${record.kind} record at ${record.frameStart}`);
        }
      }
    }
    tail = buffer.slice(pos);
  }
  if (tail.length !== 0) throw new Error(`${tail.length} bytes were left over at the end of the stream`);
  return events;
}
