/**
 * Test buffers with a known relative placement. On the AMD EPYC the kernel tables were first measured
 * on (glibc 2.36), memcpy of a few KiB and up uses `rep movsb`, which runs ~15x slower when the
 * destination sits a few bytes past the source modulo 4 KiB (measured: a 64 KiB copy takes ~1.5 µs
 * normally, 22-28 µs when dst - src is 8 or 16 mod 4096). Two same-size buffers allocated one after
 * the other land exactly there, so every source/destination pair here comes from one allocation,
 * half a page apart.
 */
import { randomFillSync } from 'node:crypto';

const PAGE = 4096;

export function randomBytes(size: number): Buffer {
  return randomFillSync(Buffer.alloc(size));
}

/** `source` (random bytes) and `target` (zeros), each `size` bytes, target ≡ source + 2 KiB mod 4 KiB. */
export function bufferPair(size: number): { source: Buffer; target: Buffer } {
  const gap = Math.ceil(size / PAGE) * PAGE + PAGE / 2;
  const backing = Buffer.alloc(gap + size);
  randomFillSync(backing, 0, size);
  return { source: backing.subarray(0, size), target: backing.subarray(gap, gap + size) };
}
