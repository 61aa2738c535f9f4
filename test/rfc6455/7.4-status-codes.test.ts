/**
 * RFC 6455 section 7.4 (status codes): which codes a close frame may carry, as ws decides it, and what
 * happens to close frames that carry others.
 */
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { describe, expect, it } from 'vitest';
import { decodeCloseBody, encodeCloseBody, isValidStatusCode } from '../../src/protocol/close-frame';
import { buildFrame } from '../helpers/frames';
import { receive } from '../helpers/receiver-events';

const require = createRequire(__filename);
const wsValidation = require(join(dirname(require.resolve('ws')), 'lib', 'validation.js')) as {
  isValidStatusCode(code: number): boolean;
};

const body = (code: number, ...reason: number[]) => Buffer.from([code >> 8, code & 0xff, ...reason]);

describe('7.4 status codes', () => {
  it('7.4.1 1000-1003 and 1007-1014 are valid; 1004, 1005, 1006 and 1015 are not', () => {
    for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014]) {
      expect(isValidStatusCode(code)).toBe(true);
    }
    for (const code of [1004, 1005, 1006, 1015]) expect(isValidStatusCode(code)).toBe(false);
  });

  it('7.4.2 0-999 and 1016-2999 are invalid; 3000-4999 are valid; 5000 and up are invalid', () => {
    for (const code of [0, 1, 999, 1016, 2000, 2999, 5000, 65_535]) expect(isValidStatusCode(code)).toBe(false);
    for (const code of [3000, 3999, 4000, 4999]) expect(isValidStatusCode(code)).toBe(true);
  });

  it("7.4 every 16-bit code is judged as ws's isValidStatusCode judges it", () => {
    for (let code = 0; code <= 0xffff; code++) expect(isValidStatusCode(code)).toBe(wsValidation.isValidStatusCode(code));
  });

  it('7.4 a received close with an invalid code -> 1002 WS_ERR_INVALID_CLOSE_CODE', () => {
    expect(receive(buildFrame({ opcode: 8, payload: body(1006) }))).toEqual([
      ['error', 'RangeError', 'WS_ERR_INVALID_CLOSE_CODE', 'Invalid WebSocket frame: invalid status code 1006', 1002],
    ]);
  });

  it('7.4 decodeCloseBody gives the code and the reason bytes', () => {
    expect(decodeCloseBody(body(4000, 0x68, 0x69), false)).toEqual({ code: 4000, reason: Buffer.from('hi') });
    expect(decodeCloseBody(Buffer.alloc(0), false)).toEqual({ code: 1005, reason: Buffer.alloc(0) });
  });

  it('7.4 sending: an invalid code throws a TypeError, a reason over 123 bytes a RangeError (as ws)', () => {
    expect(() => encodeCloseBody(1005)).toThrow(new TypeError('First argument must be a valid error code number'));
    expect(() => encodeCloseBody(1000, 'x'.repeat(124))).toThrow(new RangeError('The message must not be greater than 123 bytes'));
    expect(encodeCloseBody(1000, 'x'.repeat(123))).toHaveLength(125);
    expect(encodeCloseBody(3000, Uint8Array.of(0x61))).toEqual(body(3000, 0x61));
    expect(encodeCloseBody(1000, '')).toEqual(body(1000));
    expect(encodeCloseBody()).toHaveLength(0);
  });
});
