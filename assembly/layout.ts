/**
 * The kernel's fixed memory regions. The compiler places them (`memory.data`) right after its own
 * static data, so nothing can overlap them; their addresses are compile-time constants, exported as
 * globals for the JavaScript side (src/buffers/wasm-staging.ts). The stub runtime never allocates
 * and nothing calls memory.grow, so the layout never moves.
 *
 *   0 ┌───────────────────────────────────────────────┐
 *     │ reserved by the compiler (1 KiB today; our    │
 *     │ code has no static data of its own)           │
 *     ├───────────────────────────────────────────────┤ STAGING_START (16-aligned)
 *     │ staging: STAGING_SIZE = 256 KiB               │ chunk bytes copied in by JS, scanned and
 *     │                                               │ unmasked here, payloads copied back out
 *     ├───────────────────────────────────────────────┤ RECORDS_START (16-aligned)
 *     │ records: RECORDS_CAPACITY = 8192 records      │ RECORD_WORDS i32 each (contract.ts layout),
 *     │          × 6 × 4 bytes = 192 KiB              │ offsets relative to STAGING_START
 *     └───────────────────────────────────────────────┘ (memory: 8 pages of 64 KiB)
 *
 * There is no padding after staging and no key slot: no load or store runs past the bytes it was
 * given (mask.ts ends with an overlapping final vector instead of running over), and the masking
 * key travels as an i32 argument.
 */

/**
 * 256 KiB holds a whole socket read (Node reads 64 KiB at a time) with room to spare. It is a
 * multiple of 4, so a payload unmasked in staging-sized pieces starts every piece at key octet 0
 * (RFC 6455 section 5.3: octet i uses key octet i MOD 4).
 */
export const STAGING_SIZE: u32 = 256 * 1024;
export const STAGING_START: usize = memory.data(STAGING_SIZE, 16);

/** 8192 records: as many frames as fit a 64 KiB chunk of 8-byte frames, in one call. */
export const RECORDS_CAPACITY: u32 = 8192;
export const RECORD_BYTES: u32 = 6 * 4;
export const RECORDS_START: usize = memory.data(RECORDS_CAPACITY * RECORD_BYTES, 16);
