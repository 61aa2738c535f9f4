/**
 * RFC 6455 section 5.4 (fragmentation): the Receiver reassembles fragments, lets control frames in
 * between them, refuses continuations without a message and new messages inside one, and limits the
 * fragment count; the Sender writes continuation frames with opcode 0.
 */
import { describe, expect, it } from 'vitest';
import { Sender } from '../../src/protocol/sender';
import { FrameSpec } from '../helpers/frames';
import { receive } from '../helpers/receiver-events';

describe('5.4 fragmentation', () => {
  it('5.4 fragments of a text message are reassembled into one message', () => {
    expect(
      receive([
        { opcode: 1, fin: false, payload: 'Hel' },
        { opcode: 0, fin: false, payload: 'lo, ' },
        { opcode: 0, payload: 'world' },
      ]),
    ).toEqual([['message', 'Hello, world', false]]);
  });

  it('5.4 control frames may be injected in the middle of a fragmented message', () => {
    expect(
      receive([
        { opcode: 2, fin: false, payload: 'ab' },
        { opcode: 9, payload: 'ping' },
        { opcode: 10, payload: 'pong' },
        { opcode: 0, payload: 'cd' },
      ]),
    ).toEqual([
      ['ping', 'ping'],
      ['pong', 'pong'],
      ['message', 'abcd', true],
    ]);
  });

  it('5.4 a continuation frame without a started message -> 1002 "invalid opcode 0"', () => {
    expect(receive([{ opcode: 0, payload: 'x' }])).toEqual([
      ['error', 'RangeError', 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 0', 1002],
    ]);
  });

  it('5.4 a new data frame inside a fragmented message -> 1002 "invalid opcode 1" / "invalid opcode 2"', () => {
    for (const opcode of [1, 2]) {
      expect(receive([{ opcode: 2, fin: false, payload: 'a' }, { opcode, payload: 'b' }])).toEqual([
        ['error', 'RangeError', 'WS_ERR_INVALID_OPCODE', `Invalid WebSocket frame: invalid opcode ${opcode}`, 1002],
      ]);
    }
  });

  it('5.4 after a finished message, a continuation is again an error', () => {
    expect(receive([{ opcode: 1, fin: false, payload: 'a' }, { opcode: 0, payload: 'b' }, { opcode: 0, payload: 'c' }])).toEqual([
      ['message', 'ab', false],
      ['error', 'RangeError', 'WS_ERR_INVALID_OPCODE', 'Invalid WebSocket frame: invalid opcode 0', 1002],
    ]);
  });

  it('5.4 maxFragments: one fragment more than allowed -> 1008 WS_ERR_TOO_MANY_BUFFERED_PARTS', () => {
    const specs: FrameSpec[] = [
      { opcode: 1, fin: false, payload: 'a' },
      { opcode: 0, fin: false, payload: 'b' },
      { opcode: 0, payload: 'c' },
    ];
    expect(receive(specs, { maxFragments: 3 })).toEqual([['message', 'abc', false]]);
    expect(receive(specs, { maxFragments: 2 })).toEqual([
      ['error', 'RangeError', 'WS_ERR_TOO_MANY_BUFFERED_PARTS', 'Too many message fragments', 1008],
    ]);
  });

  it('5.4 maxPayload counts the running total of the fragments', () => {
    const specs: FrameSpec[] = [
      { opcode: 2, fin: false, payload: 'x'.repeat(6) },
      { opcode: 0, payload: 'y'.repeat(5) },
    ];
    expect(receive(specs, { maxPayload: 11 })).toHaveLength(1);
    expect(receive(specs, { maxPayload: 10 })).toEqual([
      ['error', 'RangeError', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'Max payload size exceeded', 1009],
    ]);
  });

  it('5.4 the Sender writes the first fragment with the opcode and the rest as continuations', () => {
    const writes: Buffer[] = [];
    const sender = new Sender({ write: (chunk) => writes.push(Buffer.from(chunk)) > 0, cork() {}, uncork() {} });
    sender.send('ab', { binary: true, fin: false, rsv1: true });
    sender.send('cd', { binary: true, fin: false, rsv1: true });
    sender.send('ef', { binary: true, fin: true });
    sender.send('gh', { fin: true });
    expect(writes.map((frame) => frame[0])).toEqual([0x42, 0x00, 0x80, 0x81]);
  });
});
