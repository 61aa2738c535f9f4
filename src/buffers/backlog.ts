/**
 * One connection's own memory for the small frames it sends while its socket is behind (an earlier
 * write still waits for the OS: the peer reads slower than it is sent to). Frames that would each
 * wait in the socket's queue as a Buffer of their own are copied back to back into a chunk instead,
 * and everything appended in one tick leaves as one write, a view of the chunk. A frame alone in the
 * queue costs a Buffer object, a queue entry and, above 64 bytes, a backing store: 130-300 bytes of
 * V8 heap per frame measured from 32 B to 2 KiB, 9x the bytes of a 34-byte frame (bench/backlog-memory.ts,
 * bench/RESULTS.md "Sender: memory of frames waiting for a slow peer"); here, 2-15 bytes per frame.
 *
 * Only this connection's frames share a chunk, so what a stalled peer pins is its own queue plus the
 * unused end of its chunks. Chunks double from FIRST_CHUNK_BYTES to MAX_CHUNK_BYTES while the
 * connection stays behind, so one that falls behind for a frame holds 1 KiB; a frame that does not
 * fit the chunk's end continues in the next one, so a chunk holds nothing but frames. Once everything
 * appended has been written, the chunk is let go: a connection that caught up holds none.
 *
 * The frames are held only until the end of the tick, or until anything else is written to the
 * socket: the Sender's other writes, a subscriber's share of the publishes (src/pubsub/topic-batch.ts),
 * the drain marker and our FIN all call Sender#flushBatch first, so bytes leave in call order (RFC 6455
 * section 5: frames back to back on the wire).
 */
import { EMPTY_BUFFER } from '../protocol/constants';
import { flushAtTickEnd } from '../backpressure/tick-cork';

/** What the backlog writes to: net.Socket, tls.TLSSocket, any Duplex. */
interface BacklogSocket {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  readonly writableEnded?: boolean;
}

type FrameCallback = (error?: Error) => void;

const FIRST_CHUNK_BYTES = 1024;
/** As a topic batch (src/pubsub/topic-batch.ts, BATCH_MAX_BYTES): one write's worth. */
const MAX_CHUNK_BYTES = 64 * 1024;

export class Backlog {
  /** The bytes appended and not yet written are chunk[start..end). */
  private chunk: Buffer = EMPTY_BUFFER;
  private start = 0;
  private end = 0;
  private nextChunkBytes = FIRST_CHUNK_BYTES;
  /** The send callbacks of the frames not yet written, in order. */
  private callbacks: FrameCallback[] = [];
  private scheduled = false;
  /** The write callback of a range: once nothing is left to write, the chunk is let go. */
  private readonly rangeWritten = (): void => {
    if (this.start !== this.end) return;
    this.chunk = EMPTY_BUFFER;
    this.start = 0;
    this.end = 0;
    this.nextChunkBytes = FIRST_CHUNK_BYTES;
  };

  constructor(private readonly socket: BacklogSocket) {}

  /** Bytes appended and not yet handed to the socket: they count in bufferedAmount. */
  get pending(): number {
    return this.end - this.start;
  }

  /**
   * Appends source[start..end), filling the chunk to its end before the next is started (so a chunk
   * holds nothing but frames); `cb` runs once the last of them is written.
   */
  append(source: Uint8Array, start: number, end: number, cb: FrameCallback | undefined): void {
    while (start < end) {
      if (this.end === this.chunk.length) this.startChunk();
      const take = Math.min(end - start, this.chunk.length - this.end);
      this.chunk.set(source.subarray(start, start + take), this.end);
      this.end += take;
      start += take;
    }
    if (cb !== undefined) this.callbacks.push(cb);
    if (!this.scheduled) {
      this.scheduled = true;
      flushAtTickEnd(this);
    }
  }

  /** Writes the pending bytes as one write. */
  flush(): void {
    if (this.start === this.end) return;
    const range = this.chunk.subarray(this.start, this.end);
    this.start = this.end;
    const callbacks = this.callbacks;
    if (this.socket.writableEnded === true) {
      // The connection ended TCP before the tick did (a write now would fail the socket): like any
      // write after end, these frames cannot go, and their callbacks say so.
      this.callbacks = [];
      const error = new Error('write after end');
      for (let i = 0; i < callbacks.length; i++) process.nextTick(callbacks[i], error);
      this.rangeWritten();
      return;
    }
    if (callbacks.length === 0) {
      this.socket.write(range, this.rangeWritten);
      return;
    }
    this.callbacks = [];
    this.socket.write(range, (error) => {
      this.rangeWritten();
      for (let i = 0; i < callbacks.length; i++) callbacks[i](error ?? undefined);
    });
  }

  /** The end of the tick (backpressure/tick-cork.ts). */
  flushTick(): void {
    this.scheduled = false;
    this.flush();
  }

  /** The chunk is full: what it holds is written, and a chunk twice its size (up to the maximum) follows. */
  private startChunk(): void {
    this.flush();
    this.chunk = Buffer.allocUnsafeSlow(this.nextChunkBytes);
    this.nextChunkBytes = Math.min(this.nextChunkBytes * 2, MAX_CHUNK_BYTES);
    this.start = 0;
    this.end = 0;
  }
}
