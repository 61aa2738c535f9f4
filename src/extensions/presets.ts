/**
 * Named permessage-deflate presets: option objects for `perMessageDeflate`, in either role.
 */
import type { PerMessageDeflateOptions } from './negotiation';

/**
 * Memory-lean deflate, after uWebSockets.js's DEDICATED_COMPRESSOR_16KB (windowBits 11, memLevel 4)
 * and DEDICATED_DECOMPRESSOR_2KB (windowBits 11).
 *
 * zlib's own sizing: deflate holds 2^(windowBits+2) + 2^(memLevel+9) bytes, 8 KiB + 8 KiB here against
 * 128 KiB + 128 KiB with the defaults (15, 8); inflate holds a 2^windowBits window, 2 KiB against 32 KiB.
 * No context takeover either way (RFC 7692 sections 7.1.1.1-7.1.1.2), so every message starts from an
 * empty window: the server's messages can be compressed once for many connections (SharedDeflate).
 *
 * On a server, clientMaxWindowBits 11 can only be asked of clients whose offer carries
 * client_max_window_bits (section 7.1.2.2), as browsers' and ws's do; other offers are declined and
 * those clients talk uncompressed.
 */
export const MEMORY_LEAN_DEFLATE: Readonly<PerMessageDeflateOptions> = Object.freeze({
  serverNoContextTakeover: true,
  clientNoContextTakeover: true,
  serverMaxWindowBits: 11,
  clientMaxWindowBits: 11,
  zlibDeflateOptions: Object.freeze({ memLevel: 4 }),
});
