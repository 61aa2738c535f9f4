/**
 * RFC 6455 section 5.5 (control frames): at most 125 bytes, never fragmented; close (5.5.1), ping
 * (5.5.2) and pong (5.5.3) in both directions.
 */
import { describe, expect, it } from 'vitest';
import { Receiver } from '../../src/protocol/receiver';
import { Sender } from '../../src/protocol/sender';
import { buildFrames } from '../helpers/frames';
import { ReceiverEvents, receive } from '../helpers/receiver-events';

function sent(act: (sender: Sender) => void): Buffer {
  const writes: Buffer[] = [];
  act(new Sender({ write: (chunk) => writes.push(Buffer.from(chunk)) > 0, cork() {}, uncork() {} }));
  return Buffer.concat(writes);
}

describe('5.5 control frames', () => {
  it('5.5 a control payload of 126 bytes -> 1002 WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', () => {
    expect(receive([{ opcode: 9, payload: 'x'.repeat(126) }])).toEqual([
      ['error', 'RangeError', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 126', 1002],
    ]);
  });

  it('5.5 a control payload of 125 bytes is fine', () => {
    expect(receive([{ opcode: 10, payload: 'x'.repeat(125) }])).toEqual([['pong', 'x'.repeat(125)]]);
  });

  it('5.5 a fragmented control frame -> 1002 WS_ERR_EXPECTED_FIN', () => {
    expect(receive([{ opcode: 9, fin: false }])).toEqual([
      ['error', 'RangeError', 'WS_ERR_EXPECTED_FIN', 'Invalid WebSocket frame: FIN must be set', 1002],
    ]);
  });

  it('5.5 sending a ping or pong over 125 bytes throws a RangeError, as ws', () => {
    expect(() => sent((sender) => sender.ping('x'.repeat(126)))).toThrow(new RangeError('The data size must not be greater than 125 bytes'));
    expect(() => sent((sender) => sender.pong(Buffer.alloc(126)))).toThrow(RangeError);
  });

  it('5.5.1 close frame with a 1-byte body -> 1002', () => {
    expect(receive([{ opcode: 8, payload: Uint8Array.of(0x03) }])).toEqual([
      ['error', 'RangeError', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 1', 1002],
    ]);
  });

  it('5.5.1 a close without a body reports 1005 and an empty reason', () => {
    expect(receive([{ opcode: 8 }])).toEqual([['close', 1005, '']]);
  });

  it('5.5.1 nothing is read after a close frame', () => {
    expect(receive(buildFrames([{ opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0x6f, 0x6b) }, { opcode: 1, payload: 'late' }, { opcode: 3 }]))).toEqual([
      ['close', 1000, 'ok'],
    ]);
  });

  it('5.5.1 the Sender writes the code big-endian, then the reason', () => {
    expect(sent((sender) => sender.close(1001, 'going'))).toEqual(Buffer.from([0x88, 7, 0x03, 0xe9, ...Buffer.from('going')]));
    expect(sent((sender) => sender.close())).toEqual(Buffer.from([0x88, 0]));
  });

  it('5.5.2 a ping is delivered with its application data', () => {
    expect(receive([{ opcode: 9, payload: 'are you there' }])).toEqual([['ping', 'are you there']]);
  });

  it('5.5.3 ping and pong frames go out with FIN and their opcode', () => {
    expect(sent((sender) => sender.ping('a'))).toEqual(Buffer.from([0x89, 1, 0x61]));
    expect(sent((sender) => sender.pong(new Uint8Array(0)))).toEqual(Buffer.from([0x8a, 0]));
  });

  it('5.5 with allowSynchronousEvents false, each event comes in its own macrotask, in order', async () => {
    const recorder = new ReceiverEvents();
    const receiver = new Receiver(recorder, { allowSynchronousEvents: false });
    receiver.push(Buffer.from(buildFrames([{ opcode: 9 }, { opcode: 1, payload: 'm' }, { opcode: 10 }, { opcode: 8 }])));
    expect(recorder.names).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.names).toEqual(['ping']);
    for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.names).toEqual(['ping', 'message', 'pong', 'close']);
  });
});
