/**
 * The numbers of src/kernels/contract.ts that the scan writes, repeated here because AssemblyScript
 * cannot import that file. The shared differential suite compares every record with the ts tier's,
 * so a drift here fails it.
 */

export const WORD_INFO: u32 = 0;
export const WORD_FRAME_START: u32 = 1;
export const WORD_PAYLOAD_START: u32 = 2;
export const WORD_LENGTH_LOW: u32 = 3;
export const WORD_LENGTH_HIGH: u32 = 4;
export const WORD_EXTRA: u32 = 5;

export const KIND_SHIFT: u32 = 12;
export const KIND_FRAME: u32 = 0;
export const KIND_PARTIAL: u32 = 1;
export const KIND_NEED_HEADER: u32 = 2;
export const KIND_ERROR: u32 = 3;
export const KIND_FULL: u32 = 4;

export const SCAN_EXPECT_MASKED: u32 = 1;
export const SCAN_ALLOW_RSV1: u32 = 2;

export const ERROR_RSV_2_3: u32 = 1;
export const ERROR_RSV_1: u32 = 2;
export const ERROR_INVALID_OPCODE: u32 = 3;
export const ERROR_CONTROL_NOT_FIN: u32 = 4;
export const ERROR_CONTROL_PAYLOAD_LENGTH: u32 = 5;
export const ERROR_EXPECTED_MASK: u32 = 6;
export const ERROR_UNEXPECTED_MASK: u32 = 7;
export const ERROR_LENGTH_TOO_LARGE: u32 = 8;

export const CLOSE_PROTOCOL_ERROR: u32 = 1002;
export const CLOSE_MESSAGE_TOO_BIG: u32 = 1009;

export const MAX_LENGTH_HIGH: u32 = 0x1fffff;
