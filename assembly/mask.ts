/**
 * XOR with a repeating 4-byte masking key, in place (RFC 6455 section 5.3: octet i of the data is
 * XORed with octet i MOD 4 of the key; masking and unmasking are the same operation).
 *
 * `key` holds key octet 0 in its low byte: exactly what a little-endian load of the key gives where
 * it stands on the wire. The SIMD build XORs 16 bytes per v128 (64 per unrolled step), the scalar
 * build 8 per u64 (32 per unrolled step). Neither touches a byte outside [ptr, ptr + length): the
 * last partial step is done by one overlapping word or vector, computed from the original bytes
 * before the main loop runs, then stored after it.
 */
import { STAGING_START } from './layout';

/** The key as seen by a word that starts `offset` bytes into the data. */
// @ts-ignore: decorator
@inline
function keyAt(key: u32, offset: usize): u32 {
  return <u32>rotr<i32>(<i32>key, <i32>(offset & 3) << 3);
}

// @ts-ignore: decorator
@inline
function splat64(key: u32): u64 {
  return <u64>key | (<u64>key << 32);
}

function xorBytes(ptr: usize, length: usize, key: u32): void {
  for (let i: usize = 0; i < length; i++) {
    store<u8>(ptr + i, load<u8>(ptr + i) ^ <u8>(keyAt(key, i) & 0xff));
  }
}

/** length >= 8. */
function xorWords(ptr: usize, length: usize, key: u32): void {
  const word = splat64(key);
  const tailAt = length - 8;
  const tail = load<u64>(ptr + tailAt) ^ splat64(keyAt(key, tailAt));
  const unrolled = length & ~(<usize>31);
  let i: usize = 0;
  for (; i < unrolled; i += 32) {
    const p = ptr + i;
    store<u64>(p, load<u64>(p) ^ word);
    store<u64>(p, load<u64>(p, 8) ^ word, 8);
    store<u64>(p, load<u64>(p, 16) ^ word, 16);
    store<u64>(p, load<u64>(p, 24) ^ word, 24);
  }
  for (; i + 8 <= length; i += 8) {
    store<u64>(ptr + i, load<u64>(ptr + i) ^ word);
  }
  store<u64>(ptr + tailAt, tail);
}

/** length >= 16; SIMD build only. */
function xorVectors(ptr: usize, length: usize, key: u32): void {
  const vector = i32x4.splat(<i32>key);
  const tailAt = length - 16;
  const tail = v128.xor(v128.load(ptr + tailAt), i32x4.splat(<i32>keyAt(key, tailAt)));
  const unrolled = length & ~(<usize>63);
  let i: usize = 0;
  for (; i < unrolled; i += 64) {
    const p = ptr + i;
    v128.store(p, v128.xor(v128.load(p), vector));
    v128.store(p, v128.xor(v128.load(p, 16), vector), 16);
    v128.store(p, v128.xor(v128.load(p, 32), vector), 32);
    v128.store(p, v128.xor(v128.load(p, 48), vector), 48);
  }
  for (; i + 16 <= length; i += 16) {
    v128.store(ptr + i, v128.xor(v128.load(ptr + i), vector));
  }
  v128.store(ptr + tailAt, tail);
}

export function xorKey(ptr: usize, length: usize, key: u32): void {
  if (ASC_FEATURE_SIMD) {
    if (length >= 16) {
      xorVectors(ptr, length, key);
      return;
    }
  }
  if (length >= 8) {
    xorWords(ptr, length, key);
    return;
  }
  xorBytes(ptr, length, key);
}

/** The ABI entry (index.ts): XOR staging[offset, offset + length) with the key. */
export function xorStaging(offset: u32, length: u32, key: u32): void {
  xorKey(STAGING_START + <usize>offset, length, key);
}
