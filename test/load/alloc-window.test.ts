import { describe, expect, it } from 'vitest';
import type { HeapReading, WindowEndReading } from '../../bench/alloc/probe-client';
import { parseSocketBytes } from '../../bench/alloc/socket-bytes';
import type { SocketBytes } from '../../bench/alloc/socket-bytes';
import { evaluateWindow, nextRunMs, NO_GROWTH, perUnit } from '../../bench/alloc/window';
import type { WindowReadings } from '../../bench/alloc/window';
import { ALLOC_BROADCAST_WINDOW, ALLOC_WORKLOADS, AllocWorkload, allocWorkload, frameHeaderBytes } from '../../bench/alloc/workloads';

const echo32 = allocWorkload('echo-32b');
const broadcast64 = allocWorkload('broadcast-64b');

function heap(usedHeap: number, externalMemory: number): HeapReading {
  return { usedHeap, externalMemory, arrayBuffers: externalMemory, spaces: {} };
}

function heapEnd(usedHeap: number, externalMemory: number, collections: string[] = []): WindowEndReading {
  return { ...heap(usedHeap, externalMemory), collections };
}

function bytes(received: number, acked: number, sockets: number, queued = 0): SocketBytes {
  return { sockets, received, acked, receiveQueue: queued, sendQueue: 0 };
}

/** An echo 32 B window of `messages` messages, the heap growing by `heapGrowth` and external memory by `externalGrowth`. */
function echoWindow(messages: number, heapGrowth: number, externalGrowth: number, collections: string[] = []): WindowReadings {
  return {
    heapBefore: heap(1_000_000, 50_000),
    heapAfter: heapEnd(1_000_000 + heapGrowth, 50_000 + externalGrowth, collections),
    bytesBefore: bytes(10_000, 20_000, 100),
    bytesAfter: bytes(10_000 + messages * 38, 20_000 + messages * 34, 100),
    runMs: 100,
  };
}

describe('frame sizes that turn byte counters into messages (RFC 6455 section 5.2)', () => {
  it('adds the extended length and, from a client, the 4-byte masking key', () => {
    expect(frameHeaderBytes(32, true)).toBe(6);
    expect(frameHeaderBytes(125, false)).toBe(2);
    expect(frameHeaderBytes(126, false)).toBe(4);
    expect(frameHeaderBytes(1024, true)).toBe(8);
    expect(frameHeaderBytes(65536, false)).toBe(10);
  });

  it('takes the load workloads\' sizes and connections', () => {
    expect(echo32).toMatchObject({ mode: 'echo', connections: 100, fanOut: 1, clientFrameBytes: 38, serverFrameBytes: 34 });
    expect(allocWorkload('echo-1k-text')).toMatchObject({ clientFrameBytes: 1032, serverFrameBytes: 1028 });
    expect(broadcast64).toMatchObject({ mode: 'broadcast', connections: 1001, fanOut: 1000, clientFrameBytes: 70, serverFrameBytes: 66 });
  });
});

describe('a measured window', () => {
  it('divides the growth, less the readings\' own cost, by the messages counted from whole frames', () => {
    const verdict = evaluateWindow(echo32, echoWindow(10_000, 2_536_000, 380_000), { heapBytes: 36_000, externalBytes: 0, arrayBufferBytes: 0 });
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.sample).toMatchObject({ messages: 10_000, deliveries: 10_000, heapBytes: 2_500_000, externalBytes: 380_000 });
    expect(perUnit(verdict.sample, 'messages')).toEqual({ heapBytes: 250, externalBytes: 38, arrayBufferBytes: 38 });
  });

  it('is thrown away, asking for a shorter one, when V8 collected in it', () => {
    const verdict = evaluateWindow(echo32, echoWindow(10_000, -5_000_000, 0, ['Scavenge']), NO_GROWTH);
    expect(verdict).toEqual({ ok: false, reason: 'Scavenge during the window', shorten: true });
  });

  it('is retried when the counters stop inside a frame', () => {
    const readings = { ...echoWindow(10_000, 1, 1), bytesAfter: bytes(10_000 + 10_000 * 38 - 5, 20_000 + 10_000 * 34, 100) };
    const verdict = evaluateWindow(echo32, readings, NO_GROWTH);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.shorten).toBe(false);
  });

  it('is retried when not every echo was written, or bytes are still queued', () => {
    const unanswered = { ...echoWindow(10_000, 1, 1), bytesAfter: bytes(10_000 + 10_000 * 38, 20_000 + 9_999 * 34, 100) };
    expect(evaluateWindow(echo32, unanswered, NO_GROWTH)).toMatchObject({ ok: false, shorten: false });
    const queued = { ...echoWindow(10_000, 1, 1), bytesAfter: bytes(10_000 + 10_000 * 38, 20_000 + 10_000 * 34, 100, 38) };
    expect(evaluateWindow(echo32, queued, NO_GROWTH)).toMatchObject({ ok: false, reason: 'bytes still queued at the end of the window' });
  });

  it('counts a broadcast only when every subscriber got every published message', () => {
    const base = { heapBefore: heap(0, 0), heapAfter: heapEnd(1_000_000, 66_000), bytesBefore: bytes(0, 0, 1001), runMs: 50 };
    const whole = evaluateWindow(broadcast64, { ...base, bytesAfter: bytes(10 * 70, 10 * 1000 * 66, 1001) }, NO_GROWTH);
    expect(whole).toMatchObject({ ok: true, sample: { messages: 10, deliveries: 10_000 } });
    const short = evaluateWindow(broadcast64, { ...base, bytesAfter: bytes(10 * 70, (10 * 1000 - 1) * 66, 1001) }, NO_GROWTH);
    expect(short.ok).toBe(false);
  });

  it('fails loudly when a connection was lost', () => {
    const readings = { ...echoWindow(10, 1, 1), bytesAfter: bytes(10_000 + 380, 20_000 + 340, 99) };
    expect(() => evaluateWindow(echo32, readings, NO_GROWTH)).toThrow(/connections/);
  });
});

describe('the length of the next window', () => {
  const budget = { heapBytes: 32_000_000, externalBytes: 16_000_000, minMs: 20, maxMs: 2000, maxGrowth: 10 };
  const sample = (heapBytes: number, externalBytes: number) => ({ heapBytes, externalBytes, arrayBufferBytes: externalBytes, messages: 1, deliveries: 1, runMs: 100 });

  it('keeps the faster-filling of the young generation and the ArrayBuffer limit within budget', () => {
    expect(nextRunMs(sample(8_000_000, 1_000_000), budget)).toBe(400);
    expect(nextRunMs(sample(1_000_000, 8_000_000), budget)).toBe(200);
  });

  it('grows by at most maxGrowth over the last window', () => {
    expect(nextRunMs(sample(1000, 0), { ...budget, maxGrowth: 2 })).toBe(200);
  });

  it('stays between the shortest and the longest window', () => {
    expect(nextRunMs(sample(1000, 0), { ...budget, maxGrowth: 100 })).toBe(2000);
    expect(nextRunMs(sample(1e12, 0), budget)).toBe(20);
  });
});

describe('ss -tinH output', () => {
  it('sums the queues and the byte counters of every connection, a missing counter being zero', () => {
    const output = [
      '0      0      127.0.0.1:41971 127.0.0.1:58172',
      '\t cubic wscale:10,10 rto:204 bytes_sent:120 bytes_acked:100 bytes_received:380 segs_out:2',
      '38     12     127.0.0.1:41971 127.0.0.1:58174',
      '\t cubic wscale:10,10 rto:204 bytes_received:76 segs_out:2',
      '',
    ].join('\n');
    expect(parseSocketBytes(output)).toEqual({ sockets: 2, received: 456, acked: 100, receiveQueue: 38, sendQueue: 12 });
  });

  it('refuses a line it does not understand', () => {
    expect(() => parseSocketBytes('ESTAB 0 0 127.0.0.1:1 127.0.0.1:2\n')).toThrow(/unexpected/);
  });
});

describe('the allocation workloads', () => {
  it("are the load rows' generator arguments, but broadcast keeps ALLOC_BROADCAST_WINDOW publishes in flight", () => {
    const broadcast = ALLOC_WORKLOADS.find((workload) => workload.mode === 'broadcast') as AllocWorkload;
    const window = broadcast.args[broadcast.args.indexOf('--window') + 1];
    expect(window).toBe(String(ALLOC_BROADCAST_WINDOW));
    expect(broadcast.title).toContain(`${ALLOC_BROADCAST_WINDOW} publishes in flight`);
    expect(broadcast.args.filter((arg) => arg !== window)).toEqual(broadcast.load.args.filter((arg, i) => broadcast.load.args[i - 1] !== '--window'));
    for (const echo of ALLOC_WORKLOADS.filter((workload) => workload.mode === 'echo')) expect(echo.args).toEqual(echo.load.args);
  });
});
