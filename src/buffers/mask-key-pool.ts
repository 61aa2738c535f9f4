/**
 * Client masking keys (RFC 6455 section 5.3): "The masking key needs to be unpredictable; thus, the
 * masking key MUST be derived from a strong source of entropy". One crypto fill serves many frames:
 * keys are handed out 4 bytes at a time from a large random buffer that is refilled when used up.
 */
import { randomFillSync } from 'crypto';

/** 2048 keys per fill: one randomFillSync call per 2048 client frames. */
export const MASK_KEY_POOL_BYTES = 8192;

export class MaskKeyPool {
  private readonly pool: Buffer;
  private next: number;

  constructor(size: number = MASK_KEY_POOL_BYTES) {
    if (size < 4 || size % 4 !== 0) throw new RangeError('the mask key pool size must be a positive multiple of 4');
    this.pool = Buffer.allocUnsafeSlow(size);
    // Filled lazily: a server never masks, so it never pays for the fill.
    this.next = size;
  }

  /** Copies a fresh 4-byte key into target[offset..offset + 4). Each key is handed out once. */
  take(target: Uint8Array, offset: number): void {
    if (this.next === this.pool.length) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    const at = this.next;
    target[offset] = this.pool[at];
    target[offset + 1] = this.pool[at + 1];
    target[offset + 2] = this.pool[at + 2];
    target[offset + 3] = this.pool[at + 3];
    this.next = at + 4;
  }
}

/** The pool every client connection shares. */
export const maskKeyPool = new MaskKeyPool();
