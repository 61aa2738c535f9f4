/**
 * The bytes of one frame that arrived split across socket chunks, kept as the chunks themselves
 * (views, never copies) until the frame is whole. consume(n) hands out a view when the n bytes lie in
 * one chunk and copies only when they span chunks.
 */
/** The list of an empty ChunkList: shared, so an idle connection holds no array of its own. */
const NO_CHUNKS: Buffer[] = [];

export class ChunkList {
  private chunks: Buffer[] = NO_CHUNKS;
  /** Bytes held. */
  length = 0;

  /** Chunks held: what maxBufferedChunks limits (ws's `_buffers.length`). */
  get count(): number {
    return this.chunks.length;
  }

  /** Adds a non-empty chunk; the list keeps a reference, not a copy. */
  push(chunk: Buffer): void {
    if (this.chunks === NO_CHUNKS) this.chunks = [];
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** The first n bytes (n <= length), removed from the list. */
  consume(n: number): Buffer {
    const first = this.chunks[0];
    if (n === first.length) {
      this.chunks.shift();
      this.length -= n;
      return first;
    }
    if (n < first.length) {
      this.chunks[0] = first.subarray(n);
      this.length -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    this.copyTo(out, n);
    this.skip(n);
    return out;
  }

  /** Copies the first n bytes (n <= length) into target[0..n) and keeps them in the list. */
  copyTo(target: Uint8Array, n: number): void {
    let done = 0;
    for (let i = 0; done < n; i++) {
      const chunk = this.chunks[i];
      const take = Math.min(chunk.length, n - done);
      target.set(take === chunk.length ? chunk : chunk.subarray(0, take), done);
      done += take;
    }
  }

  /** Drops the first n bytes (n <= length). */
  skip(n: number): void {
    this.length -= n;
    let whole = 0;
    while (n > 0 && n >= this.chunks[whole].length) n -= this.chunks[whole++].length;
    // One splice, not a shift per chunk: a frame sent one byte per chunk holds thousands of them.
    if (whole > 0) this.chunks.splice(0, whole);
    if (n > 0) this.chunks[0] = this.chunks[0].subarray(n);
  }

  /** How many chunks hold at least one byte at or after byte `offset` of the list. */
  countFrom(offset: number): number {
    let before = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      before += this.chunks[i].length;
      if (before > offset) return this.chunks.length - i;
    }
    return 0;
  }

  clear(): void {
    this.chunks = NO_CHUNKS;
    this.length = 0;
  }
}
