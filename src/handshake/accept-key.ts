/**
 * Sec-WebSocket-Key and Sec-WebSocket-Accept (RFC 6455 sections 4.1 and 4.2.2): the client sends a
 * random nonce, the server proves it read the handshake by hashing the nonce with a fixed GUID.
 */
import * as crypto from 'crypto';
import { CHAR_BASE64, charClass } from './char-table';

/** RFC 6455 section 1.3: the GUID appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 6455 section 4.1: the key is 16 random bytes. */
const KEY_BYTES = 16;
/** base64 of 16 bytes: 22 alphabet characters and two '=' pads (RFC 4648 section 4). */
const KEY_LENGTH = 24;
const KEY_DATA_LENGTH = 22;
const PAD = 0x3d; // '='

/**
 * RFC 6455 section 4.2.1 item 5: the key must decode to 16 bytes. Same acceptance as ws
 * (/^[+/0-9A-Za-z]{22}==$/): the unused low bits of the last data character are not checked.
 */
export function isValidKey(key: string): boolean {
  if (key.length !== KEY_LENGTH) return false;
  for (let i = 0; i < KEY_DATA_LENGTH; i++) {
    if ((charClass(key.charCodeAt(i)) & CHAR_BASE64) === 0) return false;
  }
  return key.charCodeAt(KEY_DATA_LENGTH) === PAD && key.charCodeAt(KEY_DATA_LENGTH + 1) === PAD;
}

/**
 * crypto.hash (Node 20.12+, 21.7+) hashes in one call without a Hash object: the handshake is hot
 * in a connection storm. Older Node 20 releases have only createHash.
 */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** RFC 6455 section 4.2.2 item 5.4: base64(SHA-1(key + GUID)), the Sec-WebSocket-Accept value. */
export function acceptKey(key: string): string {
  return oneShotHash === undefined
    ? crypto
        .createHash('sha1')
        .update(key + WEBSOCKET_GUID)
        .digest('base64')
    : oneShotHash('sha1', key + WEBSOCKET_GUID, 'base64');
}

/** RFC 6455 section 4.1 item 7: a fresh nonce from a cryptographic source, for each handshake. */
export function generateKey(): string {
  return crypto.randomBytes(KEY_BYTES).toString('base64');
}
