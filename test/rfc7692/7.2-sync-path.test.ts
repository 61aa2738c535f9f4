/**
 * RFC 7692 section 7.2 on the main-thread path: frames of at most syncMaxInputBytes are deflated and
 * inflated synchronously on the connection's own zlib stream (src/extensions/zlib-sync.ts). The LZ77
 * window of context takeover (section 7.1.1) must carry across messages both ways and across the two
 * paths, results must come back in call order whatever mix of sizes, and maxPayload must still stop a
 * decompression bomb at maxPayload plus one zlib chunk (RFC 6455 section 7.4.1, 1009).
 *
 * zlib is wrapped (not changed) so the tests can count what each inflate stream produces on either path.
 */
import { describe, expect, it, vi } from 'vitest';
import * as realZlib from 'zlib';
import {
  PerMessageDeflate,
  SYNC_MAX_INFLATE_BYTES,
  SYNC_MAX_INPUT_BYTES,
} from '../../src/extensions/permessage-deflate';
import { kStatusCode } from '../../src/protocol/errors';
import { compress, decompress, negotiate } from './deflate-pair';
import { WsPerMessageDeflate, wsExtension } from './ws-oracle';

/** Every inflate stream made, and the bytes it produced: synchronous steps and 'data' events alike. */
const inflates = vi.hoisted(() => [] as Array<{ stream: import('zlib').InflateRaw; produced: number }>);
vi.mock('zlib', async (importOriginal) => {
  const actual = await importOriginal<typeof import('zlib')>();
  return {
    ...actual,
    createInflateRaw: (options?: import('zlib').ZlibOptions) => {
      const stream = actual.createInflateRaw(options);
      const entry = { stream, produced: 0 };
      inflates.push(entry);
      stream.on('data', (chunk: Buffer) => (entry.produced += chunk.length));
      // The synchronous path writes through the handle: count what each of its steps gives.
      const internals = stream as unknown as {
        _handle: { writeSync: (...args: unknown[]) => void };
        _writeState: Uint32Array;
      };
      const writeSync = internals._handle.writeSync;
      internals._handle.writeSync = function (...args: unknown[]) {
        writeSync.apply(this, args);
        if (!stream.destroyed) entry.produced += (args[6] as number) - internals._writeState[0];
      };
      return stream;
    },
  };
});

const NAME = 'permessage-deflate';
const CHUNK = 16 * 1024; // zlib's default chunkSize: one output step

/** ws's PerMessageDeflate for the other end of the wire, with the parameters `ours` agreed. */
function wsPeerOf(ours: PerMessageDeflate): WsPerMessageDeflate {
  const peer = new WsPerMessageDeflate({ isServer: !ours.isServer });
  peer.accept(wsExtension.parse(wsExtension.format({ [NAME]: ours.params }))[NAME]);
  return peer;
}

function wsCall(pmd: WsPerMessageDeflate, method: 'compress' | 'decompress', data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pmd[method](data, true, (error, result) => (error ? reject(error) : resolve(result as Buffer))),
  );
}

/** Calls `run` with a callback and says whether that callback ran before `run` returned, and with what. */
function ranSynchronously(run: (callback: (error: Error | null, result?: Buffer) => void) => void): {
  synchronous: boolean;
  value: Buffer | undefined;
  result: Promise<Buffer>;
} {
  let returned = false;
  let synchronous = false;
  let value: Buffer | undefined;
  const result = new Promise<Buffer>((resolve, reject) =>
    run((error, output) => {
      synchronous = !returned;
      value = output;
      if (error) reject(error);
      else resolve(output as Buffer);
    }),
  );
  returned = true;
  return { synchronous, value, result };
}

/** JSON-like text, different for each seed, with repeats inside the 32 KiB window. */
function json(size: number, seed: number): Buffer {
  let text = '';
  for (let i = 0; text.length < size; i++) text += `{"id":${(seed * 7919 + i * 104729) % 100003},"tag":"t${i % 13}"},`;
  return Buffer.from(text.slice(0, size));
}

describe('7.2 the synchronous path', () => {
  it('small frames complete before compress/decompress returns; larger ones, or syncMaxInputBytes 0, later', async () => {
    const { server, client } = negotiate();
    const small = json(1024, 1);
    const deflated = ranSynchronously((cb) => server.compress(small, true, cb));
    expect(deflated.synchronous).toBe(true);
    const inflated = ranSynchronously((cb) => client.decompress(deflated.value ?? Buffer.alloc(0), true, cb));
    expect(inflated.synchronous).toBe(true);
    expect(await inflated.result).toEqual(small);

    const large = json(SYNC_MAX_INPUT_BYTES + 1, 2);
    const pooled = ranSynchronously((cb) => server.compress(large, true, cb));
    expect(pooled.synchronous).toBe(false);
    await pooled.result;

    const off = negotiate({ syncMaxInputBytes: 0 });
    const always = ranSynchronously((cb) => off.server.compress('x', true, cb));
    expect(always.synchronous).toBe(false);
    expect((await decompress(off.client, await always.result)).toString()).toBe('x');
  });

  it('7.1.1 context takeover carries across small messages both ways, with ws at the other end', async () => {
    const { server, client } = negotiate();
    const wsClient = wsPeerOf(client);
    const wsServer = wsPeerOf(server);
    const message = json(2000, 3);
    const payloads: Buffer[] = [];
    for (let i = 0; i < 4; i++) payloads.push(await compress(server, message));
    // The repeats are back-references into the window the earlier messages left.
    expect(payloads[1].length).toBeLessThan(payloads[0].length / 10);
    for (const payload of payloads) expect(await wsCall(wsClient, 'decompress', payload)).toEqual(message);

    // ws keeps its window too, so its later payloads only inflate if ours kept the same window.
    const theirs: Buffer[] = [];
    for (let i = 0; i < 4; i++) theirs.push(await wsCall(wsServer, 'compress', json(1500, i % 2)));
    expect(theirs[2].length).toBeLessThan(theirs[0].length / 10);
    for (let i = 0; i < 4; i++) expect(await decompress(client, theirs[i])).toEqual(json(1500, i % 2));
  });

  it('7.1.1 the window carries across the two paths: small, large (thread pool), small; deflate and inflate', async () => {
    // The client inflates on the main thread up to 1 KiB of input only, so the large payload goes to the pool.
    const { server, client } = negotiate({}, { syncMaxInputBytes: 1024 });
    // The large one is above the server's threshold, yet within the 32 KiB window with the others.
    const messages = [json(800, 4), json(SYNC_MAX_INPUT_BYTES + 4000, 5), json(800, 4), json(900, 6)];
    const payloads: Buffer[] = [];
    for (const message of messages) payloads.push(await compress(server, message));
    expect(payloads[2].length).toBeLessThan(payloads[0].length / 10);
    expect([payloads[0].length <= 1024, payloads[1].length > 1024, payloads[3].length <= 1024]).toEqual([true, true, true]);
    const wsClient = wsPeerOf(client);
    for (let i = 0; i < messages.length; i++) expect(await wsCall(wsClient, 'decompress', payloads[i])).toEqual(messages[i]);
    const synchronous: boolean[] = [];
    for (let i = 0; i < messages.length; i++) {
      const inflated = ranSynchronously((cb) => client.decompress(payloads[i], true, cb));
      synchronous.push(inflated.synchronous);
      expect(await inflated.result).toEqual(messages[i]);
    }
    expect(synchronous).toEqual([true, false, true, true]);
  });

  it('order: calls made without waiting, small and large mixed, come back in call order and inflate in sequence', async () => {
    const { server, client } = negotiate();
    const messages = [json(SYNC_MAX_INPUT_BYTES * 8, 7), json(100, 8), json(SYNC_MAX_INPUT_BYTES * 2, 9), json(100, 8), json(300, 10)];
    const order: number[] = [];
    const payloads = await Promise.all(
      messages.map((message, index) => compress(server, message).then((payload) => (order.push(index), payload))),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // The small ones waited for the large one ahead of them: ws, inflating in sequence, gets every message.
    const wsClient = wsPeerOf(client);
    for (let i = 0; i < messages.length; i++) expect(await wsCall(wsClient, 'decompress', payloads[i])).toEqual(messages[i]);

    order.length = 0;
    const inflated = await Promise.all(
      payloads.map((payload, index) => decompress(client, payload).then((result) => (order.push(index), result))),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(inflated).toEqual(messages);
  });

  it('7.2.3.6 empty messages, one after another, are each the single octet 00', async () => {
    const { server, client } = negotiate();
    for (const message of ['', 'a', '', '']) {
      const payload = await compress(server, message);
      expect(payload.toString('hex')).toBe(message === '' ? '00' : '4a0400');
      expect((await decompress(client, payload)).toString()).toBe(message);
    }
  });

  it('a callback that throws leaves the direction usable: the next call runs, with the window intact', async () => {
    const { server, client } = negotiate();
    const message = json(1200, 13);
    let first: Buffer = Buffer.alloc(0);
    expect(() =>
      server.compress(message, true, (error, result) => {
        first = result as Buffer;
        throw new Error('user handler');
      }),
    ).toThrow('user handler');
    const second = ranSynchronously((cb) => server.compress(message, true, cb));
    expect(second.synchronous).toBe(true);
    expect((await second.result).length).toBeLessThan(first.length / 10);
    const wsClient = wsPeerOf(client);
    expect(await wsCall(wsClient, 'decompress', first)).toEqual(message);
    expect(await wsCall(wsClient, 'decompress', await second.result)).toEqual(message);
  });

  it('data zlib refuses fails at once with 1007 on the synchronous path', () => {
    const { client } = negotiate();
    const refused = ranSynchronously((cb) => client.decompress(Buffer.from([0xff, 0xff, 0xff, 0xff]), true, cb));
    expect(refused.synchronous).toBe(true);
    return refused.result.then(
      () => expect.fail('inflated garbage'),
      (error: Error) => expect((error as never)[kStatusCode]).toBe(1007),
    );
  });
});

describe('maxPayload on the synchronous path (decompression bombs)', () => {
  /** A small input that inflates ~1000-fold: 4 MiB of zeros in about 4 KiB. */
  const bomb = realZlib.deflateRawSync(Buffer.alloc(4 << 20), { level: 9, finishFlush: realZlib.constants.Z_SYNC_FLUSH });

  it('a bomb below syncMaxInputBytes fails with 1009 at once, having produced at most maxPayload + one chunk', async () => {
    expect(bomb.length).toBeLessThanOrEqual(SYNC_MAX_INPUT_BYTES);
    const maxPayload = 40_000;
    expect(maxPayload).toBeLessThan(SYNC_MAX_INFLATE_BYTES);
    const { client } = negotiate({}, {}, maxPayload);
    const before = inflates.length;
    const failed = ranSynchronously((cb) => client.decompress(bomb.subarray(0, -4), true, cb));
    expect(failed.synchronous).toBe(true);
    const error = (await failed.result.catch((e: Error) => e)) as Error & { code: string };
    expect([error.message, error.code, (error as never)[kStatusCode]]).toEqual([
      'Max payload size exceeded',
      'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      1009,
    ]);
    const { produced } = inflates[before];
    expect(produced).toBeGreaterThan(maxPayload);
    expect(produced).toBeLessThanOrEqual(maxPayload + CHUNK);
  });

  it('past SYNC_MAX_INFLATE_BYTES the rest goes to the thread pool, which still stops at maxPayload + one chunk', async () => {
    const maxPayload = 1 << 20;
    const { client } = negotiate({}, {}, maxPayload);
    const before = inflates.length;
    const failed = ranSynchronously((cb) => client.decompress(bomb.subarray(0, -4), true, cb));
    expect(failed.synchronous).toBe(false);
    const error = (await failed.result.catch((e: Error) => e)) as Error & { code: string };
    expect(error.code).toBe('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
    const { stream } = inflates[before];
    if (!stream.closed) await new Promise((resolve) => stream.once('close', resolve));
    const { produced } = inflates[before];
    expect(produced).toBeGreaterThan(maxPayload);
    expect(produced).toBeLessThanOrEqual(maxPayload + CHUNK);
  });

  it('a legitimate message that inflates past SYNC_MAX_INFLATE_BYTES arrives whole, and the next one still inflates', async () => {
    const { server, client } = negotiate();
    const big = Buffer.concat([json(1000, 11), Buffer.alloc(SYNC_MAX_INFLATE_BYTES * 3, 0x20), json(1000, 12)]);
    const payload = await compress(server, big);
    expect(payload.length).toBeLessThanOrEqual(SYNC_MAX_INPUT_BYTES);
    const inflated = ranSynchronously((cb) => client.decompress(payload, true, cb));
    expect(inflated.synchronous).toBe(false);
    expect(await inflated.result).toEqual(big);
    const next = json(1000, 11);
    expect(await decompress(client, await compress(server, next))).toEqual(next);
  });
});
