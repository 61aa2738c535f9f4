/**
 * RFC 6455 numbers the protocol layer shares, named once.
 */

/** Opcodes (RFC 6455 section 5.2, "Opcode"). */
export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

/** First header byte bits (section 5.2). */
export const FIN_BIT = 0x80;
export const RSV1_BIT = 0x40;
/** Second header byte: the MASK bit (section 5.2). */
export const MASK_BIT = 0x80;

/** Section 5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD = 125;
/** Section 5.5.1: a close body is a 2-byte code, so the reason gets 125 - 2 bytes. */
export const MAX_CLOSE_REASON = 123;

/** Close codes (section 7.4.1) the protocol layer sends or reports. */
export const CLOSE_NO_STATUS = 1005;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_PAYLOAD = 1007;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_MESSAGE_TOO_BIG = 1009;

/** How a binary message is handed over, as ws's `binaryType` (ws/lib/constants.js BINARY_TYPES). */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
export const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

/** The one empty payload every empty frame shares, as ws's EMPTY_BUFFER. */
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
