/**
 * The kernel's ABI: everything the wasm module exports. Both builds (kernel-simd.wasm and
 * kernel-scalar.wasm) export exactly this list; src/kernels/wasm.ts is its only caller.
 *
 * Globals (i32, constant), the memory layout of layout.ts:
 *   STAGING_START, STAGING_SIZE      where chunk bytes go in and unmasked payloads come out
 *   RECORDS_START, RECORDS_CAPACITY  where scanStaging writes its records (RECORD_WORDS i32 each)
 *
 * Functions:
 *   scanStaging(length, capacity, options): records written
 *       the contract's scan over staging[0, length), at most `capacity` records (1..RECORDS_CAPACITY),
 *       offsets relative to STAGING_START; masked payloads are unmasked in staging.
 *   xorStaging(offset, length, key)
 *       staging[offset + i] ^= key octet (i MOD 4) for i < length; `key` has octet 0 in its low byte.
 *
 * memory: the module's own linear memory (the stub runtime never grows it).
 */
export { RECORDS_CAPACITY, RECORDS_START, STAGING_SIZE, STAGING_START } from './layout';
export { xorStaging } from './mask';
export { scanStaging } from './scan';
