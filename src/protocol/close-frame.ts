/**
 * Close frame bodies (RFC 6455 section 5.5.1): a 2-byte big-endian status code, then a UTF-8 reason.
 */
import { isUtf8 } from 'buffer';
import { CLOSE_NO_STATUS, EMPTY_BUFFER, MAX_CLOSE_REASON } from './constants';
import { MESSAGE_INVALID_UTF8, WebSocketError, createWsError } from './errors';

/**
 * Whether a close frame may carry `code` (section 7.4): 1000-1003 and 1007-1014 are defined (1012-1014
 * by the IANA registry of section 11.7); 1004 is reserved, 1005 and 1006 must never be sent (7.4.1),
 * 3000-4999 are for libraries and applications (7.4.2). Everything else is invalid, as in ws's
 * isValidStatusCode.
 */
export function isValidStatusCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/**
 * The body of a close frame to send: empty without a code, else the code and the reason. Throws as
 * ws's Sender.close does, since a bad argument is API misuse.
 */
export function encodeCloseBody(code?: number, reason?: string | Uint8Array): Buffer {
  if (code === undefined) return EMPTY_BUFFER;
  if (typeof code !== 'number' || !isValidStatusCode(code)) {
    throw new TypeError('First argument must be a valid error code number');
  }
  if (reason === undefined || reason.length === 0) {
    const body = Buffer.allocUnsafe(2);
    body.writeUInt16BE(code, 0);
    return body;
  }
  const length = typeof reason === 'string' ? Buffer.byteLength(reason) : reason.byteLength;
  // Section 5.5: the whole control payload fits in 125 bytes, two of which hold the code.
  if (length > MAX_CLOSE_REASON) throw new RangeError('The message must not be greater than 123 bytes');
  const body = Buffer.allocUnsafe(2 + length);
  body.writeUInt16BE(code, 0);
  if (typeof reason === 'string') body.write(reason, 2);
  else if (reason instanceof Uint8Array) body.set(reason, 2);
  else throw new TypeError('Second argument must be a string or a Uint8Array');
  return body;
}

/** A received close: the code (1005 when the body was empty, section 7.1.5) and the raw reason bytes. */
export interface CloseBody {
  readonly code: number;
  readonly reason: Buffer;
}

/**
 * Parses a received close body. A 1-byte body never gets here: the kernel rejects it (5.5.1). An invalid
 * code is a protocol error (1002); a reason that is not UTF-8 is 1007 (section 8.1), unless the user
 * turned validation off (ws's skipUTF8Validation).
 */
export function decodeCloseBody(body: Buffer, skipUTF8Validation: boolean): CloseBody | WebSocketError {
  if (body.length === 0) return { code: CLOSE_NO_STATUS, reason: EMPTY_BUFFER };
  const code = body.readUInt16BE(0);
  if (!isValidStatusCode(code)) return createWsError('WS_ERR_INVALID_CLOSE_CODE', `invalid status code ${code}`);
  const reason = body.subarray(2);
  if (!skipUTF8Validation && !isUtf8(reason)) return createWsError('WS_ERR_INVALID_UTF8', MESSAGE_INVALID_UTF8);
  return { code, reason };
}
