/**
 * Protocol errors as data: every error carries ws's stable `code` (WS_ERR_*), ws's message text, and
 * the close status it calls for (RFC 6455 section 7.4.1) under `error[kStatusCode]`, as ws does, so
 * code written against ws keeps working.
 */
import {
  ERROR_CONTROL_NOT_FIN,
  ERROR_CONTROL_PAYLOAD_LENGTH,
  ERROR_EXPECTED_MASK,
  ERROR_INVALID_OPCODE,
  ERROR_LENGTH_TOO_LARGE,
  ERROR_RSV_1,
  ERROR_RSV_2_3,
  ERROR_UNEXPECTED_MASK,
} from '../kernels/contract';
import {
  CLOSE_INVALID_PAYLOAD,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_POLICY_VIOLATION,
  CLOSE_PROTOCOL_ERROR,
} from './constants';

/**
 * The property that holds an error's close status (a number, e.g. 1002): the WebSocket layer closes
 * with `error[kStatusCode]`, exactly as ws's websocket.js does with its own kStatusCode symbol.
 */
export const kStatusCode: unique symbol = Symbol('status-code');

export type WsErrorCode =
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_UTF8';

/** A protocol error: a RangeError (or an Error for UTF-8, as in ws) with a code and a close status. */
export interface WebSocketError extends Error {
  code: WsErrorCode;
  /** The close code to send (RFC 6455 section 7.4.1). */
  [kStatusCode]: number;
}

interface ErrorKind {
  readonly type: ErrorConstructor | RangeErrorConstructor;
  readonly status: number;
  /** ws prefixes frame-level violations with "Invalid WebSocket frame: ". */
  readonly framePrefix: boolean;
}

function kind(type: ErrorConstructor | RangeErrorConstructor, status: number, framePrefix: boolean): ErrorKind {
  return { type, status, framePrefix };
}

/** ws's receiver.js createError arguments, one row per code. */
const KINDS: Readonly<Record<WsErrorCode, ErrorKind>> = {
  WS_ERR_UNEXPECTED_RSV_2_3: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_UNEXPECTED_RSV_1: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_INVALID_OPCODE: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_EXPECTED_FIN: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_EXPECTED_MASK: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_UNEXPECTED_MASK: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: kind(RangeError, CLOSE_MESSAGE_TOO_BIG, false),
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: kind(RangeError, CLOSE_MESSAGE_TOO_BIG, false),
  WS_ERR_TOO_MANY_BUFFERED_PARTS: kind(RangeError, CLOSE_POLICY_VIOLATION, false),
  WS_ERR_INVALID_CLOSE_CODE: kind(RangeError, CLOSE_PROTOCOL_ERROR, true),
  WS_ERR_INVALID_UTF8: kind(Error, CLOSE_INVALID_PAYLOAD, true),
};

/** The one factory: `detail` is ws's message for this case (e.g. "invalid opcode 0"). */
export function createWsError(code: WsErrorCode, detail: string): WebSocketError {
  const { type, status, framePrefix } = KINDS[code];
  const error = new type(framePrefix ? `Invalid WebSocket frame: ${detail}` : detail) as WebSocketError;
  Error.captureStackTrace(error, createWsError);
  error.code = code;
  error[kStatusCode] = status;
  return error;
}

/** The message texts ws uses more than once. */
export const MESSAGE_INVALID_UTF8 = 'invalid UTF-8 sequence';
export const MESSAGE_MAX_PAYLOAD = 'Max payload size exceeded';

interface KernelError {
  readonly code: WsErrorCode;
  /** ws's message; some quote the opcode or the 7-bit length field of the offending header. */
  readonly detail: (opcode: number, length7: number) => string;
}

/** Kernel ERROR ids (src/kernels/contract.ts) to ws's errors; the close status comes with the code. */
const KERNEL_ERRORS: ReadonlyMap<number, KernelError> = new Map<number, KernelError>([
  [ERROR_RSV_2_3, { code: 'WS_ERR_UNEXPECTED_RSV_2_3', detail: () => 'RSV2 and RSV3 must be clear' }],
  [ERROR_RSV_1, { code: 'WS_ERR_UNEXPECTED_RSV_1', detail: () => 'RSV1 must be clear' }],
  [ERROR_INVALID_OPCODE, { code: 'WS_ERR_INVALID_OPCODE', detail: (opcode) => `invalid opcode ${opcode}` }],
  [ERROR_CONTROL_NOT_FIN, { code: 'WS_ERR_EXPECTED_FIN', detail: () => 'FIN must be set' }],
  [
    ERROR_CONTROL_PAYLOAD_LENGTH,
    { code: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', detail: (_, length7) => `invalid payload length ${length7}` },
  ],
  [ERROR_EXPECTED_MASK, { code: 'WS_ERR_EXPECTED_MASK', detail: () => 'MASK must be set' }],
  [ERROR_UNEXPECTED_MASK, { code: 'WS_ERR_UNEXPECTED_MASK', detail: () => 'MASK must be clear' }],
  [
    ERROR_LENGTH_TOO_LARGE,
    {
      code: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
      detail: () => 'Unsupported WebSocket frame: payload length > 2^53 - 1',
    },
  ],
]);

/** A kernel ERROR record as ws's error, from the record's error id and the header's first two bytes. */
export function errorFromKernel(errorId: number, byte0: number, byte1: number): WebSocketError {
  const entry = KERNEL_ERRORS.get(errorId);
  if (entry === undefined) throw new Error(`unknown kernel error id ${errorId}`);
  return createWsError(entry.code, entry.detail(byte0 & 0x0f, byte1 & 0x7f));
}
