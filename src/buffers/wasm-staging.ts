/**
 * The JavaScript side of the wasm kernel's staging and records regions (assembly/layout.ts): views
 * over the module's memory, re-created whenever memory.buffer changes (a grown memory detaches the
 * old ArrayBuffer), and the copies in and out of staging.
 *
 * WASM code sees only its own linear memory, so every byte it works on is copied into staging first
 * and every byte it changes is copied back out (DESIGN.md, "The kernel: one contract, three tiers").
 */

/**
 * The part of WebAssembly.Memory used here. The project compiles against ES2022 and @types/node 20,
 * neither of which declares the WebAssembly namespace.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/** xor(offset, length, key): staging[offset + i] ^= key octet (i MOD 4); octet 0 in the low byte. */
export type StagingXor = (offset: number, length: number, key: number) => void;

/**
 * Up to this many bytes a byte loop copies faster than `set` with a subarray view (Node 20, this
 * machine: about 40 ns against 60 ns at 32 bytes; the order flips by 64).
 */
const COPY_LOOP_MAX_BYTES = 32;

/**
 * xorThrough's piece: small enough that the piece of the source, staging and the piece of the target
 * stay in the L1 data cache between the copy in, the XOR and the copy out. Against whole-staging pieces
 * (256 KiB) it masks 64 KiB at 22.6 GB/s instead of 14.4 and unmasks 1 MiB at 22.7 instead of 16.0 on
 * a Xeon with a 48 KiB L1d; 8 KiB and 24 KiB are slower than 16 (bench/RESULTS.md, "wasm: xorThrough's
 * piece size").
 * A multiple of 4, so each piece starts at key octet 0.
 */
const XOR_PIECE_BYTES = 16 * 1024;

/**
 * The views are re-created by refresh() only: reading memory.buffer costs about 27 ns, too much to
 * pay per frame, and nothing grows memory during a kernel call (the stub runtime never allocates),
 * so one refresh at the start of each call is enough.
 */
export class WasmStaging {
  private buffer: ArrayBuffer | null = null;
  private stagingView = new Uint8Array(0);
  private recordsView = new Int32Array(0);
  /** xorThrough's piece: XOR_PIECE_BYTES, or the whole staging region if that is smaller. */
  private readonly pieceBytes: number;

  constructor(
    private readonly memory: WasmMemory,
    private readonly stagingStart: number,
    /** Bytes in the staging region; a multiple of 4 (checked by the loader). */
    readonly stagingSize: number,
    private readonly recordsStart: number,
    /** Int32 words in the records region. */
    private readonly recordsWords: number,
  ) {
    this.pieceBytes = Math.min(XOR_PIECE_BYTES, stagingSize);
  }

  /** Re-creates the views if memory.buffer changed (memory grew, detaching the old buffer). */
  refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.buffer) return;
    this.buffer = buffer;
    this.stagingView = new Uint8Array(buffer, this.stagingStart, this.stagingSize);
    this.recordsView = new Int32Array(buffer, this.recordsStart, this.recordsWords);
  }

  /** The staging region, as of the last refresh(). */
  get bytes(): Uint8Array {
    return this.stagingView;
  }

  /** The records region as Int32 words, as of the last refresh(). */
  get records(): Int32Array {
    return this.recordsView;
  }

  /** staging[0, length) = source[from, from + length). */
  copyIn(source: Uint8Array, from: number, length: number): void {
    this.stagingView.set(source.subarray(from, from + length));
  }

  /** target[to, to + length) = staging[at, at + length). */
  copyOut(at: number, length: number, target: Uint8Array, to: number): void {
    const staging = this.stagingView;
    if (length <= COPY_LOOP_MAX_BYTES) {
      for (let i = 0; i < length; i++) target[to + i] = staging[at + i];
      return;
    }
    target.set(staging.subarray(at, at + length), to);
  }

  /**
   * target[to + i] = source[from + i] ^ key octet (i MOD 4) for i < length, through staging in
   * pieces of XOR_PIECE_BYTES (or the whole staging region, if smaller; both multiples of 4), so
   * every piece starts at key octet 0 and the key never needs rotating (RFC 6455 section 5.3). source
   * and target may be the same bytes: each piece is read before it is written.
   */
  xorThrough(
    source: Uint8Array,
    from: number,
    target: Uint8Array,
    to: number,
    length: number,
    key: number,
    xor: StagingXor,
  ): void {
    for (let done = 0; done < length; ) {
      const piece = Math.min(length - done, this.pieceBytes);
      this.copyIn(source, from + done, piece);
      xor(0, piece, key);
      this.copyOut(0, piece, target, to + done);
      done += piece;
    }
  }
}
