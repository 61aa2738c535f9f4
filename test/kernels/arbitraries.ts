/**
 * fast-check generators for the kernel properties. Lengths lean on the edges where word and
 * vector loops change course (4, 16, 32, 64 bytes) and where RFC 6455 5.2 changes the length
 * encoding (125/126, 65535/65536); offsets cover every alignment within 16 bytes.
 */
import fc from 'fast-check';
import { SCAN_ALLOW_RSV1, SCAN_EXPECT_MASKED } from '../../src/kernels/contract';
import { FrameSpec, LengthEncoding, OPCODE } from '../helpers/frames';
import { Layout } from './placement';

export const smallPayloadLength = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 8 }) },
  { weight: 3, arbitrary: fc.integer({ min: 15, max: 17 }) },
  { weight: 3, arbitrary: fc.integer({ min: 31, max: 33 }) },
  { weight: 3, arbitrary: fc.integer({ min: 63, max: 65 }) },
  { weight: 3, arbitrary: fc.integer({ min: 125, max: 127 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 300 }) },
);

export const payloadLength = fc.oneof(
  { weight: 20, arbitrary: smallPayloadLength },
  { weight: 1, arbitrary: fc.integer({ min: 65535, max: 65537 }) },
);

/** Up to 1 MiB: for a few runs only. */
export const largePayloadLength = fc.integer({ min: 65538, max: 1 << 20 });

export const maskKey: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(null).map(() => new Uint8Array(4)) },
);

/** A key that sits at some offset inside a bigger array, as keys from a pool do. */
export const placedMaskKey: fc.Arbitrary<Uint8Array> = fc
  .tuple(maskKey, fc.integer({ min: 0, max: 7 }))
  .map(([key, offset]) => {
    const holder = new Uint8Array(offset + 8).fill(0xa5);
    holder.set(key, offset);
    return holder.subarray(offset, offset + 4);
  });

export const offset = fc.integer({ min: 0, max: 15 });
export const oddOffset = fc.integer({ min: 0, max: 7 }).map((n) => 2 * n + 1);

export const layout: fc.Arbitrary<Layout> = fc.record({
  viewOffset: offset,
  lead: offset,
  trail: offset,
  asBuffer: fc.boolean(),
});

export const seed = fc.integer({ min: 1, max: 0x7fffffff });

/** Any mix of the scan options. */
export const scanOptions = fc.integer({ min: 0, max: SCAN_EXPECT_MASKED | SCAN_ALLOW_RSV1 });

/** Record capacities from the minimum (2) up, and a records length that is not always a multiple of 6. */
export const recordCapacity = fc.integer({ min: 2, max: 12 });
export const recordSlack = fc.integer({ min: 0, max: 5 });

const rarely = (ratio: number): fc.Arbitrary<boolean> =>
  fc.oneof({ weight: ratio - 1, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const lengthEncoding: fc.Arbitrary<LengthEncoding | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom<LengthEncoding>('16', '64') },
);

/** 64-bit lengths around the contract's limit (2^53 - 1) and the MSB (5.2). */
const hugeLength: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 32n),
  fc.bigInt({ min: 2n ** 32n, max: 2n ** 64n - 1n }),
);

/**
 * A frame that may break the contract's rules: rare reserved bits, reserved opcodes, wrong MASK
 * for the side, huge declared lengths, long control frames. Resolved against the scan options by
 * toFrameSpec, so "masked as expected" follows whichever side is scanning.
 */
export interface AnyFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  maskAsExpected: boolean;
  key: Uint8Array;
  length: number;
  lengthEncoding: LengthEncoding | undefined;
  hugeLength: bigint | null;
  seed: number;
}

export const anyFrame: fc.Arbitrary<AnyFrame> = fc.record({
  fin: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  rsv1: rarely(6),
  rsv2: rarely(40),
  rsv3: rarely(40),
  opcode: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(0, 1, 2, 8, 9, 10) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) },
  ),
  maskAsExpected: rarely(25).map((wrong) => !wrong),
  key: maskKey,
  length: payloadLength,
  lengthEncoding,
  hugeLength: fc.oneof({ weight: 30, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hugeLength }),
  seed,
});

export function toFrameSpec(frame: AnyFrame, options: number): FrameSpec {
  const masked = ((options & SCAN_EXPECT_MASKED) !== 0) === frame.maskAsExpected;
  const payload = new Uint8Array(frame.length);
  fillPayload(payload, frame.seed);
  const encoding = fitEncoding(frame.lengthEncoding, frame.length);
  return {
    fin: frame.fin,
    rsv1: frame.rsv1,
    rsv2: frame.rsv2,
    rsv3: frame.rsv3,
    opcode: frame.opcode,
    mask: masked ? frame.key : false,
    payload,
    ...(frame.hugeLength === null
      ? { lengthEncoding: encoding }
      : { lengthEncoding: '64' as const, declaredLength: frame.hugeLength }),
  };
}

/** The requested encoding if the length fits it, else the minimal one. */
function fitEncoding(requested: LengthEncoding | undefined, length: number): LengthEncoding | undefined {
  if (requested === '16' && length > 0xffff) return undefined;
  return requested;
}

function fillPayload(payload: Uint8Array, seedValue: number): void {
  let state = seedValue;
  for (let i = 0; i < payload.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    payload[i] = state >>> 24;
  }
}

/**
 * A frame every side accepts (5.2, 5.5): a known opcode, a control frame only when whole and at most
 * 125 bytes (a close body never 1 byte), RSV1 only on a first data frame, and only when allowed.
 */
export interface ValidFrame {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  key: Uint8Array;
  length: number;
  lengthEncoding: LengthEncoding | undefined;
  seed: number;
}

export const validFrame: fc.Arbitrary<ValidFrame> = fc
  .record({
    opcode: fc.constantFrom(OPCODE.CONTINUATION, OPCODE.TEXT, OPCODE.BINARY, OPCODE.CLOSE, OPCODE.PING, OPCODE.PONG),
    fin: fc.boolean(),
    rsv1: fc.boolean(),
    key: maskKey,
    length: smallPayloadLength,
    lengthEncoding,
    seed,
  })
  .map((frame) => {
    const control = frame.opcode >= 8;
    const controlLength = Math.min(frame.length, 125);
    return {
      ...frame,
      fin: control || frame.fin,
      rsv1: frame.rsv1 && !control && frame.opcode !== OPCODE.CONTINUATION,
      length: !control ? frame.length : frame.opcode === OPCODE.CLOSE && controlLength === 1 ? 2 : controlLength,
      lengthEncoding: control ? undefined : frame.lengthEncoding,
    };
  });

export function validFrameSpec(frame: ValidFrame, options: number): FrameSpec {
  const payload = new Uint8Array(frame.length);
  fillPayload(payload, frame.seed);
  return {
    opcode: frame.opcode,
    fin: frame.fin,
    rsv1: frame.rsv1 && (options & SCAN_ALLOW_RSV1) !== 0,
    mask: (options & SCAN_EXPECT_MASKED) !== 0 ? frame.key : false,
    payload,
    lengthEncoding: frame.lengthEncoding,
  };
}
