/**
 * RFC 7692 section 7.2: compressing and decompressing message payloads, with ws 8.23 as the peer on
 * the other end of the wire; maxPayload on inflated bytes (decompression bombs), message order, and the
 * process-wide zlib concurrency limit.
 *
 * zlib is wrapped (not changed) so the tests can count the bytes inflate streams produce.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import * as realZlib from 'zlib';
import { PerMessageDeflate } from '../../src/extensions/permessage-deflate';
import { ZlibLimiter, sharedZlibLimiter } from '../../src/extensions/zlib-limiter';
import { kStatusCode } from '../../src/protocol/errors';
import { Receiver } from '../../src/protocol/receiver';
import { Sender } from '../../src/protocol/sender';
import { compress, decompress, negotiate } from './deflate-pair';
import { WsPerMessageDeflate, wsExtension, wsStatus } from './ws-oracle';

const inflates = vi.hoisted(() => [] as import('zlib').InflateRaw[]);
vi.mock('zlib', async (importOriginal) => {
  const actual = await importOriginal<typeof import('zlib')>();
  return {
    ...actual,
    createInflateRaw: (options?: import('zlib').ZlibOptions) => {
      const stream = actual.createInflateRaw(options);
      inflates.push(stream);
      return stream;
    },
  };
});

const NAME = 'permessage-deflate';
const hex = (bytes: readonly number[]): Buffer => Buffer.from(bytes);

/** ws's PerMessageDeflate pair negotiated with the same options, for the other end of the wire. */
function wsPeer(options: Record<string, unknown>, isServer: boolean, params: object): WsPerMessageDeflate {
  const peer = new WsPerMessageDeflate({ ...options, isServer });
  const header = wsExtension.format({ [NAME]: params });
  peer.accept(wsExtension.parse(header)[NAME]);
  return peer;
}

function wsCall(
  pmd: WsPerMessageDeflate,
  method: 'compress' | 'decompress',
  data: Buffer,
  fin = true,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pmd[method](data, fin, (error, result) => (error ? reject(error) : resolve(result as Buffer))),
  );
}

/** Text with repeats far apart: it inflates wrongly, or fails, if a window is smaller than promised. */
function farRepeats(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i >= 3000 && (x & 3) !== 0 ? out[i - 3000 + ((x >>> 8) % 40)] : 0x61 + ((x >>> 16) % 26);
  }
  return out;
}

describe('7.2.3 the RFC examples', () => {
  it('7.2.3.1 "Hello" compresses to f2 48 cd c9 c9 07 00 and back', async () => {
    const { server, client } = negotiate();
    const payload = await compress(server, 'Hello');
    expect(payload).toEqual(hex([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]));
    expect((await decompress(client, payload)).toString()).toBe('Hello');
  });

  it('7.2.3.2 with the LZ77 window shared, the second "Hello" is f2 00 11 00 00', async () => {
    const { server, client } = negotiate();
    await decompress(client, await compress(server, 'Hello'));
    const second = await compress(server, 'Hello');
    expect(second).toEqual(hex([0xf2, 0x00, 0x11, 0x00, 0x00]));
    expect((await decompress(client, second)).toString()).toBe('Hello');
  });

  it('7.2.3.2 with server_no_context_takeover the second "Hello" is the first one again', async () => {
    const { server } = negotiate({ serverNoContextTakeover: true });
    const first = await compress(server, 'Hello');
    expect(await compress(server, 'Hello')).toEqual(first);
  });

  it('7.2.3.3 a stored (uncompressed) DEFLATE block inflates', async () => {
    const { client } = negotiate();
    const stored = hex([0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]);
    expect((await decompress(client, stored)).toString()).toBe('Hello');
  });

  it('7.2.3.4 a message ending with a BFINAL=1 block is accepted, and the next message still inflates', async () => {
    const { client, server } = negotiate();
    expect((await decompress(client, hex([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]))).toString()).toBe('Hello');
    // A whole zlib stream ended with Z_FINISH, as some peers send, then a normal message.
    const finished = realZlib.deflateRawSync(Buffer.from('bonjour '.repeat(100)));
    expect((await decompress(client, finished)).toString()).toBe('bonjour '.repeat(100));
    const next = await compress(server, 'after the final block');
    expect((await decompress(client, next)).toString()).toBe('after the final block');
  });

  it('7.2.3.5 two DEFLATE blocks in one message inflate', async () => {
    const { client } = negotiate();
    const twoBlocks = hex([0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00]);
    expect((await decompress(client, twoBlocks)).toString()).toBe('Hello');
  });

  it('7.2.3.6 an empty message is the single octet 00, both ways', async () => {
    const { server, client } = negotiate();
    const payload = await compress(server, Buffer.alloc(0));
    expect(payload).toEqual(hex([0x00]));
    expect(await decompress(client, payload)).toHaveLength(0);
  });
});

describe('7.2.1-7.2.2 round trips, ws as the peer', () => {
  const parameterSets = [
    {},
    { serverNoContextTakeover: true, clientNoContextTakeover: true },
    { serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
    { serverNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
  ];

  it.each(parameterSets)('7.2 %j: messages both ways, each end ours or ws, in sequence', async (options) => {
    const { server, client } = negotiate(options, options);
    const wsClient = wsPeer(options, false, client.params as object);
    const wsServer = wsPeer(options, true, server.params as object);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 5000 }), { minLength: 1, maxLength: 6 }), async (messages) => {
        for (const message of messages) {
          const data = Buffer.from(message);
          // Server to client: ours deflates, ws inflates; and ws deflates, ours inflates.
          expect(await wsCall(wsClient, 'decompress', await compress(server, data))).toEqual(data);
          expect(await decompress(client, await wsCall(wsServer, 'compress', data))).toEqual(data);
          // Client to server likewise.
          expect(await wsCall(wsServer, 'decompress', await compress(client, data))).toEqual(data);
          expect(await decompress(server, await wsCall(wsClient, 'compress', data))).toEqual(data);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('7.2.1 our payload for a message is byte-identical to ws\'s for the same parameters', async () => {
    for (const options of parameterSets) {
      const { server } = negotiate(options, options);
      const wsServer = wsPeer(options, true, server.params as object);
      for (const size of [0, 1, 100, 5000, 70000]) {
        const data = farRepeats(size, size + 1);
        expect(await compress(server, data)).toEqual(await wsCall(wsServer, 'compress', data));
      }
    }
  });

  it('7.2.1 text given as a string is compressed as its UTF-8 bytes', async () => {
    const { server, client } = negotiate();
    expect((await decompress(client, await compress(server, 'héllo wörld ✓'))).toString()).toBe('héllo wörld ✓');
  });
});

describe('7.1.1 context takeover on and off', () => {
  const data = farRepeats(4000, 7);

  it('7.1.1 with takeover, a repeated message costs a few bytes; without, it costs the same each time', async () => {
    const keep = negotiate();
    const first = await compress(keep.server, data);
    const second = await compress(keep.server, data);
    expect(second.length).toBeLessThan(first.length / 10);
    expect(await decompress(keep.client, first)).toEqual(data);
    expect(await decompress(keep.client, second)).toEqual(data);

    const fresh = negotiate({ serverNoContextTakeover: true, clientNoContextTakeover: true });
    const a = await compress(fresh.server, data);
    expect(await compress(fresh.server, data)).toEqual(a);
    const b = await compress(fresh.client, data);
    expect(await compress(fresh.client, data)).toEqual(b);
  });

  it('7.1.1.1 with server_no_context_takeover the client resets its inflater: a fresh stream per message', async () => {
    const { server, client } = negotiate({ serverNoContextTakeover: true });
    const payload = await compress(server, data);
    // Each message is a DEFLATE stream of its own, so the same bytes inflate again and again.
    for (let i = 0; i < 3; i++) expect(await decompress(client, payload)).toEqual(data);
  });

  it('7.1.1 without the reset, the takeover payload would not inflate on a fresh inflater (the test can fail)', async () => {
    const keep = negotiate();
    await compress(keep.server, data);
    const second = await compress(keep.server, data);
    const fresh = negotiate();
    await expect(decompress(fresh.client, second)).rejects.toThrow();
  });
});

describe('7.1.2 window bits 8-15', () => {
  const data = farRepeats(20000, 3);

  /**
   * zlib checks a match's distance against its window only for bytes already moved out of the output
   * buffer, so a strict peer inflates into 64-byte output chunks: every far match then goes through
   * the window, and one reaching past 2^bits fails with "invalid distance too far back".
   */
  function strictInflate(payload: Buffer, bits: number): Buffer {
    return realZlib.inflateRawSync(payload, {
      windowBits: bits,
      chunkSize: 64,
      finishFlush: realZlib.constants.Z_SYNC_FLUSH,
    });
  }

  it('7.1.2 the strict peer does catch a window wider than negotiated (the checks below can fail)', () => {
    const wide = realZlib.deflateRawSync(data, { windowBits: 15, finishFlush: realZlib.constants.Z_SYNC_FLUSH });
    expect(() => strictInflate(wide, 11)).toThrow('invalid distance too far back');
    expect(strictInflate(wide, 15).equals(data)).toBe(true);
  });

  it.each([8, 9, 10, 11, 12, 13, 14, 15])('7.1.2 %i bits: the output inflates in a window of that size', async (bits) => {
    const options = { serverMaxWindowBits: bits, clientMaxWindowBits: bits };
    const { server, client } = negotiate(options, options);
    expect(server.params).toEqual({ server_max_window_bits: bits, client_max_window_bits: bits });
    for (const from of [server, client]) {
      const payload = await compress(from, data);
      expect(strictInflate(payload, bits).equals(data)).toBe(true);
      expect(await decompress(from === server ? client : server, payload)).toEqual(data);
    }
  });

  it('7.1.2 8 bits: zlib cannot deflate with 256 bytes, so 9 is used (as ws does); the matches still fit 256', async () => {
    const { server } = negotiate({ serverMaxWindowBits: 8 }, { serverMaxWindowBits: 8 });
    const wsServer = wsPeer({}, true, server.params as object);
    const payload = await compress(server, data);
    expect(payload).toEqual(await wsCall(wsServer, 'compress', data));
    expect(payload).toEqual(
      realZlib.deflateRawSync(data, { windowBits: 9, finishFlush: realZlib.constants.Z_SYNC_FLUSH }).subarray(0, -4),
    );
  });

  it('7.1.2 a peer that uses a larger window than negotiated is caught by the inflater', async () => {
    const options = { serverMaxWindowBits: 9, zlibInflateOptions: { chunkSize: 64 } };
    const { client } = negotiate(options, options);
    const tooWide = realZlib.deflateRawSync(data, { windowBits: 15, finishFlush: realZlib.constants.Z_SYNC_FLUSH });
    const error = await decompress(client, tooWide.subarray(0, -4)).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as never)[kStatusCode]).toBe(1007);
  });
});

describe('7.2 fragmented compressed messages', () => {
  it('7.2.1 a message compressed fragment by fragment inflates fragment by fragment to the same bytes', async () => {
    const { server, client } = negotiate();
    const data = farRepeats(30000, 11);
    const cuts = [0, 1, 7000, 7001, 29999, 30000];
    const payloads: Buffer[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      payloads.push(await compress(server, data.subarray(cuts[i], cuts[i + 1]), i + 2 === cuts.length));
    }
    const parts: Buffer[] = [];
    for (let i = 0; i < payloads.length; i++) parts.push(await decompress(client, payloads[i], i + 1 === payloads.length));
    expect(Buffer.concat(parts)).toEqual(data);
  });

  it('7.2.1 through Sender and Receiver: RSV1 only on the first frame, and the message arrives whole', async () => {
    const { server, client } = negotiate();
    const written: Buffer[] = [];
    const socket = { write: (chunk: Uint8Array) => (written.push(Buffer.from(chunk)), true), cork() {}, uncork() {} };
    const sender = new Sender(socket);
    const pieces = ['first piece, ', 'second piece, ', 'last piece'];
    for (let i = 0; i < pieces.length; i++) {
      const fin = i + 1 === pieces.length;
      sender.send(await compress(server, pieces[i], fin), { fin, rsv1: true });
    }
    const wire = Buffer.concat(written);
    const firstBytes: number[] = [];
    for (let at = 0; at < wire.length; at += 2 + (wire[at + 1] & 0x7f)) firstBytes.push(wire[at]);
    expect(firstBytes).toEqual([0x41, 0x00, 0x80]);

    const messages = await new Promise<string[]>((resolve, reject) => {
      const got: string[] = [];
      const receiver = new Receiver(
        {
          onMessage: (data) => {
            got.push(String(data));
            resolve(got);
          },
          onPing() {},
          onPong() {},
          onClose() {},
          onError: reject,
        },
        { perMessageDeflate: client },
      );
      receiver.push(wire);
    });
    expect(messages).toEqual([pieces.join('')]);
  });
});

describe('maxPayload on inflated bytes (decompression bombs)', () => {
  /** A sync-flushed DEFLATE segment keeps no state, so copies of it chain: 64 x 16 MiB of zeros. */
  const segment = realZlib.deflateRawSync(Buffer.alloc(16 << 20), { level: 9, finishFlush: realZlib.constants.Z_SYNC_FLUSH });
  const bomb = Buffer.concat(Array.from({ length: 64 }, () => segment));
  const CHUNK = 16 * 1024; // zlib's default chunkSize: one output chunk

  function produced(stream: import('zlib').InflateRaw): () => number {
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => (bytes += chunk.length));
    return () => bytes;
  }

  it('a bomb (1 GiB from ~1 MiB) fails with 1009 after at most maxPayload + one zlib chunk was produced', async () => {
    expect(bomb.length).toBeLessThan(2 << 20);
    const maxPayload = 1 << 20;
    const { client } = negotiate({}, {}, maxPayload);
    const before = inflates.length;
    const pending = decompress(client, bomb).catch((e: Error) => e);
    const stream = inflates[before];
    const count = produced(stream);
    const error = (await pending) as Error & { code: string };
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('Max payload size exceeded');
    expect(error.code).toBe('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    expect((error as never)[kStatusCode]).toBe(1009);
    // Once the stream is closed, zlib has stopped: count what it ever produced.
    if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
    expect(count()).toBeGreaterThan(maxPayload);
    expect(count()).toBeLessThanOrEqual(maxPayload + CHUNK);
  });

  it('ws gives the same error, code and status for the same bomb', async () => {
    const { client } = negotiate({}, {}, 1 << 20);
    const ws = new WsPerMessageDeflate({ isServer: false, maxPayload: 1 << 20 });
    ws.accept(wsExtension.parse(NAME)[NAME]);
    const mine = (await decompress(client, bomb).catch((e: Error) => e)) as Error & { code: string };
    const theirs = (await wsCall(ws, 'decompress', bomb).catch((e: Error) => e)) as Error & { code: string };
    expect([mine.constructor, mine.message, mine.code, (mine as never)[kStatusCode]]).toEqual([
      theirs.constructor,
      theirs.message,
      theirs.code,
      (theirs as never)[wsStatus],
    ]);
  });

  it('the limit is on the whole message: two frames of 600 KiB each fail a 1 MiB maxPayload at the second', async () => {
    const { server, client } = negotiate({}, {}, 1 << 20);
    const frame1 = await compress(server, Buffer.alloc(600 << 10, 1), false);
    const frame2 = await compress(server, Buffer.alloc(600 << 10, 2), true);
    expect(await decompress(client, frame1, false)).toHaveLength(600 << 10);
    await expect(decompress(client, frame2, true)).rejects.toMatchObject({ code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
  });

  it('a message of exactly maxPayload inflated bytes passes, and the count restarts with each message', async () => {
    const { server, client } = negotiate({}, {}, 100000);
    for (let i = 0; i < 3; i++) {
      expect(await decompress(client, await compress(server, Buffer.alloc(100000, i)))).toHaveLength(100000);
    }
  });

  it('data zlib refuses fails with status 1007 and zlib\'s message, as ws', async () => {
    const garbage = hex([0xff, 0xff, 0xff, 0xff, 0x00, 0x13]);
    const { client } = negotiate();
    const ws = wsPeer({}, false, client.params as object);
    const mine = (await decompress(client, garbage).catch((e: Error) => e)) as Error & { code: string };
    const theirs = (await wsCall(ws, 'decompress', garbage).catch((e: Error) => e)) as Error & { code: string };
    expect([mine.message, mine.code, (mine as never)[kStatusCode]]).toEqual([theirs.message, theirs.code, 1007]);
    expect(theirs.code).toBe('Z_DATA_ERROR');
  });
});

describe('message order', () => {
  it('a slow (large) message then a fast (tiny) one on one connection come back in call order', async () => {
    const { server, client } = negotiate();
    const large = farRepeats(8 << 20, 5);
    const slow = await compress(server, large);
    const fast = await compress(server, 'tiny');
    const order: string[] = [];
    const done = Promise.all([
      decompress(client, slow).then((r) => order.push(r.equals(large) ? 'large' : 'large corrupted')),
      decompress(client, fast).then((r) => order.push(r.toString())),
    ]);
    await done;
    expect(order).toEqual(['large', 'tiny']);
  });

  it('compress calls made without waiting come back in call order, each payload whole', async () => {
    const { server, client } = negotiate();
    const messages = [farRepeats(3 << 20, 1), Buffer.from('a'), farRepeats(50000, 2), Buffer.from('b')];
    const payloads = await Promise.all(messages.map((m) => compress(server, m)));
    for (let i = 0; i < messages.length; i++) expect((await decompress(client, payloads[i])).equals(messages[i])).toBe(true);
  });

  it('through the Receiver: a large compressed message then a small one in one chunk are delivered in order', async () => {
    const { server, client } = negotiate();
    const large = farRepeats(4 << 20, 9);
    const frames: Buffer[] = [];
    const sender = new Sender({ write: (c: Uint8Array) => (frames.push(Buffer.from(c)), true), cork() {}, uncork() {} });
    sender.send(await compress(server, large), { fin: true, rsv1: true, binary: true });
    sender.send(await compress(server, 'small'), { fin: true, rsv1: true });
    const got = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const receiver = new Receiver(
        {
          onMessage: (data, isBinary) => {
            seen.push(isBinary ? ((data as Buffer).equals(large) ? 'large' : 'bad') : String(data));
            if (seen.length === 2) resolve(seen);
          },
          onPing() {},
          onPong() {},
          onClose() {},
          onError: reject,
        },
        { perMessageDeflate: client },
      );
      receiver.push(Buffer.concat(frames));
    });
    expect(got).toEqual(['large', 'small']);
  });
});

describe('the zlib concurrency limit (ws Limiter)', () => {
  it('at most `concurrency` zlib jobs run at once across connections; the rest wait, then all finish', async () => {
    const limiter = sharedZlibLimiter();
    const n = limiter.concurrency * 3;
    const pairs = Array.from({ length: n }, () => negotiate());
    const data = farRepeats(200000, 4);
    let peak = 0;
    const all = pairs.map(({ server }) =>
      compress(server, data).then((payload) => {
        peak = Math.max(peak, limiter.pending);
        return payload;
      }),
    );
    expect(limiter.pending).toBe(limiter.concurrency);
    expect(limiter.queued).toBe(n - limiter.concurrency);
    const payloads = await Promise.all(all);
    expect(peak).toBeLessThanOrEqual(limiter.concurrency);
    expect([limiter.pending, limiter.queued]).toEqual([0, 0]);
    expect(await decompress(pairs[0].client, payloads[n - 1])).toEqual(data);
  });

  it('the first concurrencyLimit wins for the whole process, as in ws', () => {
    const limiter = sharedZlibLimiter();
    new PerMessageDeflate({ concurrencyLimit: limiter.concurrency + 5 });
    expect(sharedZlibLimiter().concurrency).toBe(limiter.concurrency);
  });

  it('ZlibLimiter: FIFO, never more than the limit, 0 means no limit, synchronous jobs do not recurse', () => {
    const limiter = new ZlibLimiter(2);
    const started: number[] = [];
    const dones: Array<() => void> = [];
    for (let i = 0; i < 5; i++) {
      limiter.add((done) => {
        started.push(i);
        dones.push(done);
      });
    }
    expect(started).toEqual([0, 1]);
    dones.shift()?.();
    expect(started).toEqual([0, 1, 2]);
    expect([limiter.pending, limiter.queued]).toEqual([2, 2]);
    while (dones.length > 0) dones.shift()?.();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(new ZlibLimiter(0).concurrency).toBe(Infinity);

    const sync = new ZlibLimiter(1);
    let ran = 0;
    const block: Array<() => void> = [];
    sync.add((done) => block.push(done));
    for (let i = 0; i < 100000; i++) sync.add((done) => (ran++, done()));
    block[0]();
    expect(ran).toBe(100000);
    expect(sync.pending).toBe(0);
  });
});

describe('cleanup', () => {
  it('a compress in progress gets ws\'s error, queued ones too, and the limiter place is given back', async () => {
    const limiter = sharedZlibLimiter();
    const { server } = negotiate();
    const results = [
      compress(server, farRepeats(1 << 20, 1)).catch((e: Error) => e.message),
      compress(server, 'queued').catch((e: Error) => e.message),
    ];
    server.cleanup();
    expect(await Promise.all(results)).toEqual([
      'The deflate stream was closed while data was being processed',
      'The deflate stream was closed while data was being processed',
    ]);
    expect(limiter.pending).toBe(0);
  });

  it('a decompress in progress is dropped (its callback never runs, as ws) and the place is given back', async () => {
    const limiter = sharedZlibLimiter();
    const { server, client } = negotiate();
    const payload = await compress(server, farRepeats(1 << 20, 2));
    let called = false;
    const before = inflates.length;
    client.decompress(payload, true, () => (called = true));
    const stream = inflates[before];
    client.cleanup();
    expect(limiter.pending).toBe(0);
    if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
    expect(called).toBe(false);
  });

  it('compress or decompress before accept() is API misuse: it throws', () => {
    const pmd = new PerMessageDeflate();
    expect(() => pmd.compress('x', true, () => {})).toThrow(/accept/);
    expect(() => pmd.decompress(Buffer.alloc(1), true, () => {})).toThrow(/accept/);
  });
});

describe('threshold (ws Sender rule)', () => {
  it('below threshold only when our side keeps no context; default 1024', () => {
    const keep = negotiate();
    expect(keep.server.shouldCompress(10)).toBe(true);
    const fresh = negotiate({ serverNoContextTakeover: true }, { clientNoContextTakeover: true });
    expect([fresh.server.shouldCompress(1023), fresh.server.shouldCompress(1024)]).toEqual([false, true]);
    expect([fresh.client.shouldCompress(1023), fresh.client.shouldCompress(1024)]).toEqual([false, true]);
    expect(new PerMessageDeflate().shouldCompress(5000)).toBe(false);
  });
});
