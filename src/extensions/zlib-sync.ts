/**
 * Synchronous zlib steps on a connection's own, persistent zlib stream: no trip to the thread pool.
 *
 * Why: for a 1 KiB message zlib itself takes ~17 µs, while each asynchronous zlib job costs the main
 * thread a thread-pool handoff, a wakeup and a callback, several times that (bench/RESULTS.md, "deflate
 * sync"). Node's own `zlib.deflateRawSync` & co. run this way: they call the stream handle's
 * `writeSync` and read the two counters it leaves in `_writeState`. The public-looking shortcut,
 * `_processChunk(chunk, flushFlag)` without a callback, closes the handle when it returns (Node 20, 22
 * and 24 alike), which would drop the LZ77 window that context takeover keeps between messages (RFC
 * 7692 section 7.1.1). So this module makes the same handle call and leaves the stream open.
 *
 * Those members are underscore-private: `supportsSyncSteps` checks them on the stream, and
 * PerMessageDeflate keeps to the asynchronous path where they are missing.
 */
import type * as zlib from 'zlib';

/** The native handle's synchronous write, as lib/zlib.js calls it. */
interface ZlibHandle {
  writeSync(
    flushFlag: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
}

/** What lib/zlib.js keeps on every zlib stream: the handle (null once closed), [availOut, availIn], chunkSize. */
interface ZlibInternals {
  _handle: ZlibHandle | null;
  _writeState: Uint32Array;
  _chunkSize: number;
}

type ZlibStream = zlib.InflateRaw | zlib.DeflateRaw;

/** Output pieces of one run; `bytes` counts them, across runs when the caller does not clear it. */
export interface SyncOutput {
  readonly parts: Buffer[];
  bytes: number;
  /** Input bytes zlib took in the last run: where the rest starts when it stopped early. */
  consumed: number;
}

// How a run ended.

/** zlib took all the input and gave all the output it had. */
export const SYNC_DONE = 0;
/** zlib stopped taking input with room left for output: the DEFLATE stream ended (BFINAL=1). */
export const SYNC_ENDED = 1;
/** `output.bytes` passed the limit while zlib had more to give; the rest of the input starts at `consumed`. */
export const SYNC_OVER_LIMIT = 2;
/** zlib refused the data: the stream destroyed itself, and `stream.errored` is the error. */
export const SYNC_FAILED = 3;

export type SyncStatus = typeof SYNC_DONE | typeof SYNC_ENDED | typeof SYNC_OVER_LIMIT | typeof SYNC_FAILED;

/**
 * One scratch area for every run (runs are synchronous, so none overlaps another), as large as the
 * largest chunkSize seen; zlib's default chunkSize to begin with.
 */
let scratch = Buffer.allocUnsafe(16 * 1024);

/** Whether `stream` still has the members a synchronous run needs (and an open handle). */
export function supportsSyncSteps(stream: ZlibStream): boolean {
  const internals = stream as unknown as Partial<ZlibInternals>;
  const handle = internals._handle;
  return (
    typeof handle === 'object' &&
    handle !== null &&
    typeof handle.writeSync === 'function' &&
    internals._writeState instanceof Uint32Array &&
    typeof internals._chunkSize === 'number'
  );
}

/**
 * Feeds `input` to `stream` with `flushFlag` on this thread and appends what zlib gives to `output`,
 * one piece per step of the stream's chunkSize (as its asynchronous path does: an inflater only checks
 * distances against its window when they reach past the current output area, RFC 7692 section 7.1.2),
 * each copied out of the scratch area so the Buffers belong to the caller. Stops after the first full
 * step that takes `output.bytes` past `limit`: what it holds is then at most the limit plus one step.
 * A last, partial step is kept whatever the limit: the caller checks its totals.
 */
export function runSync(stream: ZlibStream, input: Buffer, flushFlag: number, output: SyncOutput, limit: number): SyncStatus {
  const internals = stream as unknown as ZlibInternals;
  const handle = internals._handle as ZlibHandle;
  const state = internals._writeState;
  const step = internals._chunkSize;
  if (scratch.length < step) scratch = Buffer.allocUnsafe(step);
  let offset = 0;
  let remaining = input.length;
  output.consumed = 0;
  for (;;) {
    handle.writeSync(flushFlag, input, offset, remaining, scratch, 0, step);
    // zlib's error callback ran inside writeSync and destroyed the stream (its 'error' event comes later).
    if (stream.destroyed) return SYNC_FAILED;
    const availableOut = state[0];
    const availableIn = state[1];
    offset += remaining - availableIn;
    remaining = availableIn;
    output.consumed = offset;
    const produced = step - availableOut;
    if (produced > 0) {
      const piece = Buffer.allocUnsafe(produced);
      scratch.copy(piece, 0, 0, produced);
      output.parts.push(piece);
      output.bytes += produced;
    }
    if (availableOut !== 0) return remaining > 0 ? SYNC_ENDED : SYNC_DONE;
    // A full scratch area means zlib may have more to give: step again, unless past the limit.
    if (output.bytes > limit) return SYNC_OVER_LIMIT;
  }
}
