/**
 * Hand-built scan cases with their exact records, worked out by hand from src/kernels/contract.ts
 * and RFC 6455. They pin every tier and the oracle alike. Offsets are relative to the first byte of
 * `bytes`; the suite places the bytes at several offsets with guard bytes around them.
 */
import {
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_PROTOCOL_ERROR,
  ERROR_CONTROL_NOT_FIN,
  ERROR_CONTROL_PAYLOAD_LENGTH,
  ERROR_EXPECTED_MASK,
  ERROR_INVALID_OPCODE,
  ERROR_LENGTH_TOO_LARGE,
  ERROR_RSV_1,
  ERROR_RSV_2_3,
  ERROR_UNEXPECTED_MASK,
  SCAN_ALLOW_RSV1,
  SCAN_EXPECT_MASKED,
} from '../../src/kernels/contract';
import { FrameSpec, LengthEncoding, OPCODE, buildFrame, concatBytes } from '../helpers/frames';
import { M, ScanRecord, expectRecord as r } from './records';

export interface ScanCase {
  title: string;
  bytes: Uint8Array;
  options: number;
  /** Words in `records`; default 16 records. Need not be a multiple of RECORD_WORDS. */
  recordWords?: number;
  expected: ScanRecord[];
  /** The unmasked payload of each FRAME record, in order. */
  payloads: readonly (string | Uint8Array)[];
}

const SERVER = SCAN_EXPECT_MASKED;
const CLIENT = 0;
const DEFLATE = SCAN_ALLOW_RSV1;

/** EXAMPLE_KEY as the big-endian word a PARTIAL record carries. */
const EXAMPLE_KEY_WORD = 0x37fa213d;
const KEY_A = [0x01, 0x02, 0x03, 0x04];
const KEY_B = [0xff, 0x00, 0x80, 0x7f];
const KEY_C = [0xde, 0xad, 0xbe, 0xef];

/** Distinct, non-repeating-looking payload bytes, so a misplaced key or offset shows. */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return out;
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const HELLO = [0x48, 0x65, 0x6c, 0x6c, 0x6f];

/** RFC 6455 section 5.7 examples, as literal bytes. */
const rfcExamples: ScanCase[] = [
  {
    title: '5.7: a single-frame unmasked text message',
    bytes: bytes(0x81, 0x05, ...HELLO),
    options: CLIENT,
    expected: [r.frame(0x81, 0, 2, 5)],
    payloads: ['Hello'],
  },
  {
    title: '5.7: a single-frame masked text message',
    bytes: bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    options: SERVER,
    expected: [r.frame(0x81 | M, 0, 6, 5)],
    payloads: ['Hello'],
  },
  {
    title: '5.7: a fragmented unmasked text message',
    bytes: bytes(0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f),
    options: CLIENT,
    expected: [r.frame(0x01, 0, 2, 3), r.frame(0x80, 5, 7, 2)],
    payloads: ['Hel', 'lo'],
  },
  {
    title: '5.7: an unmasked ping',
    bytes: bytes(0x89, 0x05, ...HELLO),
    options: CLIENT,
    expected: [r.frame(0x89, 0, 2, 5)],
    payloads: ['Hello'],
  },
  {
    title: '5.7: a masked pong',
    bytes: bytes(0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58),
    options: SERVER,
    expected: [r.frame(0x8a | M, 0, 6, 5)],
    payloads: ['Hello'],
  },
  {
    title: '5.7: 256 bytes in a single unmasked binary frame (16-bit length)',
    bytes: concatBytes([bytes(0x82, 0x7e, 0x01, 0x00), pattern(256)]),
    options: CLIENT,
    expected: [r.frame(0x82, 0, 4, 256)],
    payloads: [pattern(256)],
  },
  {
    title: '5.7: 64 KiB in a single unmasked binary frame (64-bit length)',
    bytes: concatBytes([bytes(0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00), pattern(65536)]),
    options: CLIENT,
    expected: [r.frame(0x82, 0, 10, 65536)],
    payloads: [pattern(65536)],
  },
];

const one = (title: string, options: number, expected: ScanRecord, spec: FrameSpec): ScanCase => ({
  title,
  bytes: buildFrame(spec),
  options,
  expected: [expected],
  payloads: expected.kind === 'FRAME' ? [spec.payload ?? ''] : [],
});

const wholeFrames: ScanCase[] = [
  one('masked, 16-bit length, 126 bytes', SERVER, r.frame(0x82 | M, 0, 8, 126), {
    opcode: 2,
    mask: KEY_A,
    payload: pattern(126),
  }),
  one('masked, 16-bit length, 65535 bytes', SERVER, r.frame(0x82 | M, 0, 8, 65535), {
    opcode: 2,
    mask: KEY_B,
    payload: pattern(65535, 1),
  }),
  one('masked, 64-bit length, 65536 bytes', SERVER, r.frame(0x82 | M, 0, 14, 65536), {
    opcode: 2,
    mask: KEY_C,
    payload: pattern(65536, 2),
  }),
  one('unmasked, 7-bit length, 125 bytes', CLIENT, r.frame(0x81, 0, 2, 125), { opcode: 1, payload: 'x'.repeat(125) }),
  one('non-minimal 16-bit length accepted', CLIENT, r.frame(0x81, 0, 4, 5), {
    opcode: 1,
    payload: 'Hello',
    lengthEncoding: '16',
  }),
  one('non-minimal 64-bit length accepted, masked', SERVER, r.frame(0x81 | M, 0, 14, 5), {
    opcode: 1,
    mask: true,
    payload: 'Hello',
    lengthEncoding: '64',
  }),
  one('masked empty text frame', SERVER, r.frame(0x81 | M, 0, 6, 0), { opcode: 1, mask: true }),
  one('unmasked empty binary frame', CLIENT, r.frame(0x82, 0, 2, 0), { opcode: 2 }),
  one('empty close frame', CLIENT, r.frame(0x88, 0, 2, 0), { opcode: OPCODE.CLOSE }),
  one('close frame with only a status code', SERVER, r.frame(0x88 | M, 0, 6, 2), {
    opcode: OPCODE.CLOSE,
    mask: true,
    payload: bytes(0x03, 0xe8),
  }),
  one('masked empty ping', SERVER, r.frame(0x89 | M, 0, 6, 0), { opcode: OPCODE.PING, mask: KEY_A }),
  one('masked ping of 125 bytes', SERVER, r.frame(0x89 | M, 0, 6, 125), {
    opcode: OPCODE.PING,
    mask: KEY_B,
    payload: pattern(125, 3),
  }),
  one('unmasked pong of 125 bytes', CLIENT, r.frame(0x8a, 0, 2, 125), {
    opcode: OPCODE.PONG,
    payload: pattern(125, 4),
  }),
  one('masked close of 125 bytes', SERVER, r.frame(0x88 | M, 0, 6, 125), {
    opcode: OPCODE.CLOSE,
    mask: KEY_C,
    payload: concatBytes([bytes(0x03, 0xe8), pattern(123)]),
  }),
  one('RSV1 on a text frame with SCAN_ALLOW_RSV1', SERVER | DEFLATE, r.frame(0xc1 | M, 0, 6, 3), {
    opcode: 1,
    rsv1: true,
    mask: true,
    payload: 'abc',
  }),
  one('RSV1 on a first, unfinished binary frame with SCAN_ALLOW_RSV1', CLIENT | DEFLATE, r.frame(0x42, 0, 2, 3), {
    opcode: 2,
    fin: false,
    rsv1: true,
    payload: 'abc',
  }),
  {
    title: 'several masked frames in one chunk, consumed exactly to the end',
    bytes: concatBytes([
      buildFrame({ opcode: 1, fin: false, mask: KEY_A, payload: 'abc' }),
      buildFrame({ opcode: 0, mask: KEY_B, payload: 'def' }),
      buildFrame({ opcode: OPCODE.PING, mask: KEY_C }),
      buildFrame({ opcode: 2, mask: KEY_C, payload: pattern(200, 5) }),
      buildFrame({ opcode: OPCODE.CLOSE, mask: KEY_A, payload: bytes(0x03, 0xe8, 0x62, 0x79, 0x65) }),
    ]),
    options: SERVER,
    expected: [
      r.frame(0x01 | M, 0, 6, 3),
      r.frame(0x80 | M, 9, 15, 3),
      r.frame(0x89 | M, 18, 24, 0),
      r.frame(0x82 | M, 24, 32, 200),
      r.frame(0x88 | M, 232, 238, 5),
    ],
    payloads: ['abc', 'def', '', pattern(200, 5), bytes(0x03, 0xe8, 0x62, 0x79, 0x65)],
  },
  {
    title: 'three empty unmasked frames in one chunk',
    bytes: bytes(0x81, 0x00, 0x82, 0x00, 0x88, 0x00),
    options: CLIENT,
    expected: [r.frame(0x81, 0, 2, 0), r.frame(0x82, 2, 4, 0), r.frame(0x88, 4, 6, 0)],
    payloads: ['', '', ''],
  },
  {
    title: 'start === end writes nothing',
    bytes: bytes(),
    options: SERVER,
    expected: [],
    payloads: [],
  },
];

/** One frame per header shape (5.2): 7/16/64-bit length, masked or not. */
const headerShapes: { name: string; encoding: LengthEncoding; masked: boolean; headerLength: number }[] = [
  { name: 'unmasked 7-bit', encoding: '7', masked: false, headerLength: 2 },
  { name: 'unmasked 16-bit', encoding: '16', masked: false, headerLength: 4 },
  { name: 'unmasked 64-bit', encoding: '64', masked: false, headerLength: 10 },
  { name: 'masked 7-bit', encoding: '7', masked: true, headerLength: 6 },
  { name: 'masked 16-bit', encoding: '16', masked: true, headerLength: 8 },
  { name: 'masked 64-bit', encoding: '64', masked: true, headerLength: 14 },
];

function truncatedCases(): ScanCase[] {
  const cases: ScanCase[] = [];
  for (const shape of headerShapes) {
    const options = shape.masked ? SERVER : CLIENT;
    const info = 0x82 | (shape.masked ? M : 0);
    const payloadLength = 40;
    const frame = buildFrame({
      opcode: 2,
      mask: shape.masked,
      payload: pattern(payloadLength, 6),
      lengthEncoding: shape.encoding,
    });
    const prefix = buildFrame({ opcode: 1, mask: shape.masked ? KEY_A : false, payload: 'ok' });
    const prefixRecord = r.frame(0x81 | (shape.masked ? M : 0), 0, prefix.length - 2, 2);
    for (let cut = 1; cut < shape.headerLength; cut++) {
      cases.push({
        title: `NEED_HEADER with ${cut} of ${shape.headerLength} header bytes (${shape.name})`,
        bytes: frame.subarray(0, cut),
        options,
        expected: [r.needHeader(0)],
        payloads: [],
      });
      cases.push({
        title: `a frame, then NEED_HEADER with ${cut} of ${shape.headerLength} header bytes (${shape.name})`,
        bytes: concatBytes([prefix, frame.subarray(0, cut)]),
        options,
        expected: [prefixRecord, r.needHeader(prefix.length)],
        payloads: ['ok'],
      });
    }
    const key = shape.masked ? EXAMPLE_KEY_WORD : 0;
    for (const have of [0, 1, payloadLength - 1]) {
      cases.push({
        title: `PARTIAL with ${have} of ${payloadLength} payload bytes (${shape.name})`,
        bytes: frame.subarray(0, shape.headerLength + have),
        options,
        expected: [r.partial(info, 0, shape.headerLength, payloadLength, key)],
        payloads: [],
      });
    }
    cases.push({
      title: `a frame, then PARTIAL (${shape.name})`,
      bytes: concatBytes([prefix, frame.subarray(0, shape.headerLength + 3)]),
      options,
      expected: [prefixRecord, r.partial(info, prefix.length, prefix.length + shape.headerLength, payloadLength, key)],
      payloads: ['ok'],
    });
  }
  return cases;
}

const partials: ScanCase[] = [
  {
    title: 'PARTIAL carries a masking key with its top bit set as a negative Int32',
    bytes: buildFrame({ opcode: 2, mask: KEY_B, payload: pattern(300) }).subarray(0, 8 + 100),
    options: SERVER,
    expected: [r.partial(0x82 | M, 0, 8, 300, 0xff00807f)],
    payloads: [],
  },
  {
    title: 'a 64-bit length of exactly 2^53 - 1 is accepted as PARTIAL',
    bytes: buildFrame({ opcode: 2, declaredLength: 2n ** 53n - 1n, payload: pattern(5) }),
    options: CLIENT,
    expected: [r.partial(0x82, 0, 10, 2 ** 53 - 1, 0)],
    payloads: [],
  },
  {
    title: 'a masked 64-bit length of exactly 2^53 - 1 is accepted as PARTIAL',
    bytes: buildFrame({ opcode: 2, mask: true, declaredLength: 2n ** 53n - 1n }),
    options: SERVER,
    expected: [r.partial(0x82 | M, 0, 14, 2 ** 53 - 1, EXAMPLE_KEY_WORD)],
    payloads: [],
  },
  {
    title: 'a 64-bit length of 2^32 is PARTIAL with the high word set',
    bytes: buildFrame({ opcode: 2, declaredLength: 2n ** 32n }),
    options: CLIENT,
    expected: [r.partial(0x82, 0, 10, 2 ** 32, 0)],
    payloads: [],
  },
  {
    title: 'a 16-bit length past the end is PARTIAL',
    bytes: buildFrame({ opcode: 1, declaredLength: 0xffff, lengthEncoding: '16' }),
    options: CLIENT,
    expected: [r.partial(0x81, 0, 4, 0xffff, 0)],
    payloads: [],
  },
  {
    title: 'the checks start once two header bytes are in: one byte with RSV2 set is NEED_HEADER',
    bytes: bytes(0xa1),
    options: CLIENT,
    expected: [r.needHeader(0)],
    payloads: [],
  },
  {
    title: 'the 64-bit length is checked once the whole header (with its key) is in',
    bytes: buildFrame({ opcode: 2, mask: true, declaredLength: 2n ** 63n }).subarray(0, 10),
    options: SERVER,
    expected: [r.needHeader(0)],
    payloads: [],
  },
];

interface ErrorCase {
  title: string;
  spec: FrameSpec;
  options: number;
  info: number;
  errorId: number;
  closeCode?: number;
}

const reservedOpcodes = [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf];

const errorCases: ErrorCase[] = [
  {
    title: 'RSV2 set',
    spec: { opcode: 1, rsv2: true, payload: 'x' },
    options: CLIENT,
    info: 0xa1,
    errorId: ERROR_RSV_2_3,
  },
  {
    title: 'RSV3 set',
    spec: { opcode: 2, rsv3: true, mask: true, payload: 'x' },
    options: SERVER,
    info: 0x92 | M,
    errorId: ERROR_RSV_2_3,
  },
  {
    title: 'RSV2 set even with SCAN_ALLOW_RSV1',
    spec: { opcode: 1, rsv2: true },
    options: CLIENT | DEFLATE,
    info: 0xa1,
    errorId: ERROR_RSV_2_3,
  },
  {
    title: 'RSV1 without SCAN_ALLOW_RSV1',
    spec: { opcode: 1, rsv1: true, payload: 'x' },
    options: CLIENT,
    info: 0xc1,
    errorId: ERROR_RSV_1,
  },
  {
    title: 'RSV1 on a control frame',
    spec: { opcode: OPCODE.PING, rsv1: true, mask: true },
    options: SERVER | DEFLATE,
    info: 0xc9 | M,
    errorId: ERROR_RSV_1,
  },
  {
    title: 'RSV1 on a continuation frame',
    spec: { opcode: 0, rsv1: true, payload: 'x' },
    options: CLIENT | DEFLATE,
    info: 0xc0,
    errorId: ERROR_RSV_1,
  },
  ...reservedOpcodes.map((opcode) => ({
    title: `reserved opcode 0x${opcode.toString(16)}`,
    spec: { opcode, payload: 'x' },
    options: CLIENT,
    info: 0x80 | opcode,
    errorId: ERROR_INVALID_OPCODE,
  })),
  ...[OPCODE.CLOSE, OPCODE.PING, OPCODE.PONG].map((opcode) => ({
    title: `control frame 0x${opcode.toString(16)} without FIN`,
    spec: { opcode, fin: false, mask: true },
    options: SERVER,
    info: opcode | M,
    errorId: ERROR_CONTROL_NOT_FIN,
  })),
  {
    title: 'ping with a 126-byte payload',
    spec: { opcode: OPCODE.PING, payload: pattern(126) },
    options: CLIENT,
    info: 0x89,
    errorId: ERROR_CONTROL_PAYLOAD_LENGTH,
  },
  {
    title: 'pong with a 64-bit length field',
    spec: { opcode: OPCODE.PONG, mask: true, payload: 'x', lengthEncoding: '64' },
    options: SERVER,
    info: 0x8a | M,
    errorId: ERROR_CONTROL_PAYLOAD_LENGTH,
  },
  {
    title: 'close with a 1-byte payload',
    spec: { opcode: OPCODE.CLOSE, payload: bytes(0x03) },
    options: CLIENT,
    info: 0x88,
    errorId: ERROR_CONTROL_PAYLOAD_LENGTH,
  },
  {
    title: 'an unmasked frame to a server',
    spec: { opcode: 1, payload: 'Hello' },
    options: SERVER,
    info: 0x81,
    errorId: ERROR_EXPECTED_MASK,
  },
  {
    title: 'a masked frame to a client',
    spec: { opcode: 1, mask: true, payload: 'Hello' },
    options: CLIENT,
    info: 0x81 | M,
    errorId: ERROR_UNEXPECTED_MASK,
  },
  {
    title: 'a 64-bit length with the top bit set',
    spec: { opcode: 2, declaredLength: 2n ** 63n },
    options: CLIENT,
    info: 0x82,
    errorId: ERROR_LENGTH_TOO_LARGE,
    closeCode: CLOSE_MESSAGE_TOO_BIG,
  },
  {
    title: 'a masked 64-bit length of 2^64 - 1',
    spec: { opcode: 2, mask: true, declaredLength: 2n ** 64n - 1n },
    options: SERVER,
    info: 0x82 | M,
    errorId: ERROR_LENGTH_TOO_LARGE,
    closeCode: CLOSE_MESSAGE_TOO_BIG,
  },
  {
    title: 'a 64-bit length of 2^53',
    spec: { opcode: 1, declaredLength: 2n ** 53n, payload: 'x' },
    options: CLIENT,
    info: 0x81,
    errorId: ERROR_LENGTH_TOO_LARGE,
    closeCode: CLOSE_MESSAGE_TOO_BIG,
  },
  // The check order of contract.ts (ws's): with several faults, the first listed wins.
  {
    title: 'order: RSV2 before RSV1, opcode and mask',
    spec: { opcode: 3, rsv1: true, rsv2: true, mask: true },
    options: CLIENT,
    info: 0xe3 | M,
    errorId: ERROR_RSV_2_3,
  },
  {
    title: 'order: RSV1 before the opcode',
    spec: { opcode: 0xb, rsv1: true },
    options: CLIENT,
    info: 0xcb,
    errorId: ERROR_RSV_1,
  },
  {
    title: 'order: the opcode before the mask',
    spec: { opcode: 7, mask: true },
    options: CLIENT,
    info: 0x87 | M,
    errorId: ERROR_INVALID_OPCODE,
  },
  {
    title: 'order: control FIN before control RSV1 and length',
    spec: { opcode: OPCODE.CLOSE, fin: false, rsv1: true, payload: 'x' },
    options: CLIENT | DEFLATE,
    info: 0x48,
    errorId: ERROR_CONTROL_NOT_FIN,
  },
  {
    title: 'order: control RSV1 before control length',
    spec: { opcode: OPCODE.PING, rsv1: true, payload: pattern(126) },
    options: CLIENT | DEFLATE,
    info: 0xc9,
    errorId: ERROR_RSV_1,
  },
  {
    title: 'order: control length before the mask',
    spec: { opcode: OPCODE.PING, payload: pattern(126) },
    options: SERVER,
    info: 0x89,
    errorId: ERROR_CONTROL_PAYLOAD_LENGTH,
  },
  {
    title: 'order: the mask before the 64-bit length',
    spec: { opcode: 2, declaredLength: 2n ** 63n },
    options: SERVER,
    info: 0x82,
    errorId: ERROR_EXPECTED_MASK,
  },
];

function errorScanCases(): ScanCase[] {
  const cases: ScanCase[] = [];
  for (const c of errorCases) {
    const closeCode = c.closeCode ?? CLOSE_PROTOCOL_ERROR;
    const bad = buildFrame(c.spec);
    const masked = (c.options & SERVER) !== 0;
    const good = buildFrame({ opcode: 2, mask: masked ? KEY_C : false, payload: 'good' });
    cases.push({
      title: `ERROR: ${c.title}`,
      bytes: bad,
      options: c.options,
      expected: [r.error(c.info, 0, c.errorId, closeCode)],
      payloads: [],
    });
    cases.push({
      title: `ERROR after a frame: ${c.title}`,
      bytes: concatBytes([good, bad, good]),
      options: c.options,
      expected: [
        r.frame(0x82 | (masked ? M : 0), 0, good.length - 4, 4),
        r.error(c.info, good.length, c.errorId, closeCode),
      ],
      payloads: ['good'],
    });
  }
  cases.push({
    title: 'ERROR from the first two bytes, before the 16-bit length is in',
    bytes: bytes(0x89, 0xfe),
    options: SERVER,
    expected: [r.error(0x89 | M, 0, ERROR_CONTROL_PAYLOAD_LENGTH, CLOSE_PROTOCOL_ERROR)],
    payloads: [],
  });
  return cases;
}

function fullCases(): ScanCase[] {
  const f1 = buildFrame({ opcode: 1, mask: KEY_A, payload: 'one' });
  const f2 = buildFrame({ opcode: 1, mask: KEY_B, payload: 'two' });
  const f3 = buildFrame({ opcode: 1, mask: KEY_C, payload: 'three' });
  const first = r.frame(0x81 | M, 0, 6, 3);
  const second = r.frame(0x81 | M, 9, 15, 3);
  return [
    {
      title: 'FULL when one record slot is left and frames remain',
      bytes: concatBytes([f1, f2, f3]),
      options: SERVER,
      recordWords: 12,
      expected: [first, r.full(9)],
      payloads: ['one'],
    },
    {
      title: 'FULL takes the last slot before a NEED_HEADER',
      bytes: concatBytes([f1, f2.subarray(0, 1)]),
      options: SERVER,
      recordWords: 12,
      expected: [first, r.full(9)],
      payloads: ['one'],
    },
    {
      title: 'FULL takes the last slot before an ERROR',
      bytes: concatBytes([f1, bytes(0xa1, 0x80)]),
      options: SERVER,
      recordWords: 12,
      expected: [first, r.full(9)],
      payloads: ['one'],
    },
    {
      title: 'no FULL when the frames end exactly with one slot left',
      bytes: concatBytes([f1, f2]),
      options: SERVER,
      recordWords: 18,
      expected: [first, second],
      payloads: ['one', 'two'],
    },
    {
      title: 'no FULL when the last frame ends exactly at capacity - 1 records',
      bytes: f1,
      options: SERVER,
      recordWords: 12,
      expected: [first],
      payloads: ['one'],
    },
    {
      title: 'capacity is floor(records.length / RECORD_WORDS)',
      bytes: concatBytes([f1, f2, f3]),
      options: SERVER,
      recordWords: 17,
      expected: [first, r.full(9)],
      payloads: ['one'],
    },
  ];
}

export const SCAN_CASES: readonly ScanCase[] = [
  ...rfcExamples,
  ...wholeFrames,
  ...truncatedCases(),
  ...partials,
  ...errorScanCases(),
  ...fullCases(),
];
