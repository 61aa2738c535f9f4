/**
 * Slabs for outgoing frames: the Sender writes headers (and small frames whole) into a shared slab
 * instead of allocating a Buffer per send. A slab goes back to the pool only when every socket write
 * that points into it has completed, so no byte is overwritten before the socket has flushed it.
 *
 * Accounting is by write callback: each write into a slab counts one pending write, and the write's
 * callback (Writable callbacks run once the data is handed to the OS, or with an error when the socket
 * is destroyed) counts it down. A full slab is retired; a retired slab with no pending write returns to
 * the free list. A write whose callback never runs only keeps its slab out of the pool; it never makes
 * the slab reusable early.
 */

/** 16 KiB: a few hundred small frames per slab; a stalled socket pins at most this much of it. */
export const SLAB_BYTES = 16 * 1024;
/** Free slabs kept for reuse; beyond this, released slabs are left to the garbage collector. */
export const MAX_FREE_SLABS = 64;

export class Slab {
  readonly buffer: Buffer;
  /** Bytes handed out so far. */
  used = 0;
  private pending = 0;
  private retired = false;
  /** Pass as a write callback (or call from one) for a write that points into this slab. */
  readonly onWritten: () => void;

  constructor(
    size: number,
    private readonly pool: SlabPool,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(size);
    this.onWritten = () => {
      this.pending--;
      this.recycleIfIdle();
    };
  }

  /** Counts one more write that points into this slab; its callback must call onWritten. */
  addWrite(): void {
    this.pending++;
  }

  retire(): void {
    this.retired = true;
    this.recycleIfIdle();
  }

  /** Back in the pool: empty and accepting writes again. */
  reset(): void {
    this.used = 0;
    this.retired = false;
  }

  private recycleIfIdle(): void {
    if (this.retired && this.pending === 0) this.pool.recycle(this);
  }
}

export class SlabPool {
  private readonly free: Slab[] = [];
  private active: Slab | null = null;

  constructor(
    readonly slabBytes: number = SLAB_BYTES,
    private readonly maxFree: number = MAX_FREE_SLABS,
  ) {}

  /**
   * Reserves `length` bytes (at most slabBytes) and returns the slab that holds them, at
   * slab.used - length. The caller writes its bytes there and must count its write (addWrite).
   */
  reserve(length: number): Slab {
    let slab = this.active;
    if (slab === null || slab.used + length > slab.buffer.length) {
      if (slab !== null) slab.retire();
      slab = this.free.pop() ?? new Slab(this.slabBytes, this);
      this.active = slab;
    }
    slab.used += length;
    return slab;
  }

  /** Free slabs waiting for reuse (for tests and memory accounting). */
  get freeCount(): number {
    return this.free.length;
  }

  /** Called by a retired slab whose last write completed. */
  recycle(slab: Slab): void {
    slab.reset();
    if (this.free.length < this.maxFree) this.free.push(slab);
  }
}

/** The pool every Sender shares, so an idle connection holds no slab of its own. */
export const slabPool = new SlabPool();
