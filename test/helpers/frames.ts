/**
 * Builds WebSocket frames byte by byte, as RFC 6455 section 5.2 lays them out, for the kernel and
 * protocol tests. Everything a valid sender would choose can be overridden, so the same builder
 * also makes the malformed headers the receiver must refuse.
 */

export const OPCODE = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The masking key of the examples in RFC 6455 section 5.7, used when `mask` is just `true`. */
export const EXAMPLE_KEY: readonly number[] = [0x37, 0xfa, 0x21, 0x3d];

/** How the payload length is written (5.2): in the 7 bits of byte 1, or as a 16- or 64-bit extension. */
export type LengthEncoding = '7' | '16' | '64';

export interface FrameSpec {
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** 0-15; reserved values are written as given. */
  opcode: number;
  /** false (default): unmasked; true: masked with EXAMPLE_KEY; or the 4-byte key itself. */
  mask?: boolean | ArrayLike<number>;
  /** The payload before masking; a string is UTF-8 encoded. */
  payload?: Uint8Array | string;
  /**
   * Forces the length encoding, e.g. '64' for a 5-byte payload: RFC 6455 asks senders for the
   * minimal encoding, but receivers (ws among them) accept the others. Default: minimal.
   */
  lengthEncoding?: LengthEncoding;
  /** Raw override: the length written in the header, in place of the payload's length. */
  declaredLength?: number | bigint;
  /** Raw override: the whole first header byte (FIN, RSV1-3, opcode), in place of the fields above. */
  byte0?: number;
  /** Raw override: the whole second header byte (MASK, 7-bit length); the rest is written as usual. */
  byte1?: number;
}

const LIMITS: Record<LengthEncoding, bigint> = { '7': 125n, '16': 0xffffn, '64': 0xffffffffffffffffn };
const EXTENSION_BYTES: Record<LengthEncoding, number> = { '7': 0, '16': 2, '64': 8 };

function minimalEncoding(length: bigint): LengthEncoding {
  return length <= LIMITS['7'] ? '7' : length <= LIMITS['16'] ? '16' : '64';
}

function maskingKey(mask: FrameSpec['mask']): number[] | null {
  if (mask === undefined || mask === false) return null;
  if (mask === true) return [...EXAMPLE_KEY];
  if (mask.length !== 4) throw new RangeError(`a masking key has 4 bytes, got ${mask.length}`);
  return Array.from(mask);
}

export function payloadBytes(payload: FrameSpec['payload']): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  return typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
}

/** The wire bytes of one frame: header, masking key, then the payload (masked when a key is set). */
export function buildFrame(spec: FrameSpec): Uint8Array {
  if (!Number.isInteger(spec.opcode) || spec.opcode < 0 || spec.opcode > 0xf) {
    throw new RangeError(`opcode must be 0-15, got ${spec.opcode}`);
  }
  const payload = payloadBytes(spec.payload);
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const encoding = spec.lengthEncoding ?? minimalEncoding(declared);
  if (declared < 0n || declared > LIMITS[encoding]) {
    throw new RangeError(`length ${declared} does not fit the ${encoding}-bit length encoding`);
  }
  const key = maskingKey(spec.mask);
  const extension = EXTENSION_BYTES[encoding];
  const headerLength = 2 + extension + (key === null ? 0 : 4);
  const frame = new Uint8Array(headerLength + payload.length);

  frame[0] =
    spec.byte0 ??
    ((spec.fin === false ? 0 : 0x80) |
      (spec.rsv1 === true ? 0x40 : 0) |
      (spec.rsv2 === true ? 0x20 : 0) |
      (spec.rsv3 === true ? 0x10 : 0) |
      spec.opcode);
  const length7 = encoding === '7' ? Number(declared) : encoding === '16' ? 126 : 127;
  frame[1] = spec.byte1 ?? ((key === null ? 0 : 0x80) | length7);
  // 5.2: the extended payload length is an unsigned integer in network byte order.
  for (let i = 0; i < extension; i++) {
    frame[2 + i] = Number((declared >> BigInt(8 * (extension - 1 - i))) & 0xffn);
  }
  if (key !== null) frame.set(key, 2 + extension);
  // 5.3: octet i of the masked payload is octet i of the payload XOR octet i MOD 4 of the key.
  for (let i = 0; i < payload.length; i++) {
    frame[headerLength + i] = key === null ? payload[i] : payload[i] ^ key[i % 4];
  }
  return frame;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function buildFrames(specs: readonly FrameSpec[]): Uint8Array {
  return concatBytes(specs.map(buildFrame));
}
