/**
 * RFC 6455 section 5.5 (control frames): at most 125 bytes, never fragmented; close (5.5.1), ping
 * (5.5.2) and pong (5.5.3) in both directions.
 */
import { describe, expect, it } from 'vitest';
import { Receiver, ReceiverOptions } from '../../src/protocol/receiver';
import { Sender } from '../../src/protocol/sender';
import { kStatusCode } from '../../src/protocol/errors';
import { FrameSpec, buildFrame } from '../helpers/frames';

function receive(specs: FrameSpec[], options: ReceiverOptions = {}): unknown[][] {
  const events: unknown[][] = [];
  const receiver = new Receiver(
    {
      onMessage: (data, isBinary) => events.push(['message', Buffer.from(data as Buffer).toString(), isBinary]),
      onPing: (data) => events.push(['ping', data.toString()]),
      onPong: (data) => events.push(['pong', data.toString()]),
      onClose: (code, reason) => events.push(['close', code, reason.toString()]),
      onError: (error) => events.push(['error', (error as never as { code: string }).code, error.message, (error as never)[kStatusCode]]),
    },
    options,
  );
  receiver.push(Buffer.concat(specs.map((spec) => buildFrame(spec))));
  return events;
}

function sent(act: (sender: Sender) => void): Buffer {
  const writes: Buffer[] = [];
  act(new Sender({ write: (chunk) => writes.push(Buffer.from(chunk)) > 0, cork() {}, uncork() {} }));
  return Buffer.concat(writes);
}

describe('5.5 control frames', () => {
  it('5.5 a control payload of 126 bytes -> 1002 WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', () => {
    expect(receive([{ opcode: 9, payload: 'x'.repeat(126) }])).toEqual([
      ['error', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 126', 1002],
    ]);
  });

  it('5.5 a control payload of 125 bytes is fine', () => {
    expect(receive([{ opcode: 10, payload: 'x'.repeat(125) }])).toEqual([['pong', 'x'.repeat(125)]]);
  });

  it('5.5 a fragmented control frame -> 1002 WS_ERR_EXPECTED_FIN', () => {
    expect(receive([{ opcode: 9, fin: false }])).toEqual([
      ['error', 'WS_ERR_EXPECTED_FIN', 'Invalid WebSocket frame: FIN must be set', 1002],
    ]);
  });

  it('5.5 sending a ping or pong over 125 bytes throws a RangeError, as ws', () => {
    expect(() => sent((sender) => sender.ping('x'.repeat(126)))).toThrow(new RangeError('The data size must not be greater than 125 bytes'));
    expect(() => sent((sender) => sender.pong(Buffer.alloc(126)))).toThrow(RangeError);
  });

  it('5.5.1 close frame with a 1-byte body -> 1002', () => {
    expect(receive([{ opcode: 8, payload: Uint8Array.of(0x03) }])).toEqual([
      ['error', 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'Invalid WebSocket frame: invalid payload length 1', 1002],
    ]);
  });

  it('5.5.1 a close without a body reports 1005 and an empty reason', () => {
    expect(receive([{ opcode: 8 }])).toEqual([['close', 1005, '']]);
  });

  it('5.5.1 nothing is read after a close frame', () => {
    expect(receive([{ opcode: 8, payload: Uint8Array.of(0x03, 0xe8, 0x6f, 0x6b) }, { opcode: 1, payload: 'late' }, { opcode: 3 }])).toEqual([
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
    const events: string[] = [];
    const receiver = new Receiver(
      {
        onMessage: () => events.push('message'),
        onPing: () => events.push('ping'),
        onPong: () => events.push('pong'),
        onClose: () => events.push('close'),
        onError: () => events.push('error'),
      },
      { allowSynchronousEvents: false },
    );
    receiver.push(Buffer.concat([buildFrame({ opcode: 9 }), buildFrame({ opcode: 1, payload: 'm' }), buildFrame({ opcode: 10 }), buildFrame({ opcode: 8 })]));
    expect(events).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['ping']);
    for (let i = 0; i < 4; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['ping', 'message', 'pong', 'close']);
  });
});
