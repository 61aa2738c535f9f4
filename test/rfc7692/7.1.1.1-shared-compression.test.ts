/**
 * RFC 7692 section 7.1.1.1 (server_no_context_takeover) makes every message a DEFLATE stream of its
 * own, so one compressed payload serves every connection with the same deflate settings: SharedDeflate
 * deflates a message once per profile, and the payload is the one each connection would have made.
 *
 * zlib is wrapped (not changed) to count how many times a message is actually deflated.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';
import { SharedDeflate, deflateProfile, profileKey } from '../../src/extensions/shared-compression';
import { compress, decompress, negotiate } from './deflate-pair';
import { WsPerMessageDeflate, wsExtension } from './ws-oracle';

const deflateRuns = vi.hoisted(() => ({ async: 0, sync: 0 }));
vi.mock('zlib', async (importOriginal) => {
  const actual = await importOriginal<typeof import('zlib')>();
  return {
    ...actual,
    deflateRaw: (...args: Parameters<typeof actual.deflateRaw>) => {
      deflateRuns.async++;
      return actual.deflateRaw(...args);
    },
    deflateRawSync: (...args: Parameters<typeof actual.deflateRawSync>) => {
      deflateRuns.sync++;
      return actual.deflateRawSync(...args);
    },
  };
});

const NAME = 'permessage-deflate';
const SHARED: PerMessageDeflateOptions = { serverNoContextTakeover: true };

function shared(deflate: SharedDeflate, profile: ReturnType<typeof deflateProfile>): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    deflate.compress(profile!, (error, payload) => (error ? reject(error) : resolve(payload as Buffer))),
  );
}

describe('7.1.1.1 which connections can share', () => {
  it('only a side that starts every message from an empty window has a profile', () => {
    expect(deflateProfile(negotiate().server)).toBeNull();
    expect(deflateProfile(negotiate(SHARED).server)).toEqual({ windowBits: 15, level: 6, memLevel: 8, strategy: 0 });
    expect(deflateProfile(negotiate(SHARED).client)).toBeNull();
    expect(deflateProfile(negotiate({}, { clientNoContextTakeover: true }).client)).not.toBeNull();
    const withDictionary = negotiate({ ...SHARED, zlibDeflateOptions: { dictionary: Buffer.from('abc') } });
    expect(deflateProfile(withDictionary.server)).toBeNull();
  });

  it('the profile holds what changes the output: window bits (8 counts as 9), level, memLevel, strategy', () => {
    const key = (options: PerMessageDeflateOptions) => profileKey(deflateProfile(negotiate({ ...SHARED, ...options }).server)!);
    expect(key({ serverMaxWindowBits: 8 })).toBe(key({ serverMaxWindowBits: 9 }));
    expect(key({ serverMaxWindowBits: 10 })).not.toBe(key({ serverMaxWindowBits: 9 }));
    expect(key({ zlibDeflateOptions: { level: -1 } })).toBe(key({ zlibDeflateOptions: { level: 6 } }));
    expect(key({ zlibDeflateOptions: { level: 1 } })).not.toBe(key({}));
    expect(key({ zlibDeflateOptions: { memLevel: 4 } })).not.toBe(key({}));
    expect(key({ zlibDeflateOptions: { strategy: 1 } })).not.toBe(key({}));
    // chunkSize changes how zlib hands the output over, not the output.
    expect(key({ zlibDeflateOptions: { chunkSize: 1024 } })).toBe(key({}));
  });
});

describe('7.1.1.1 compress once for many', () => {
  it('100 connections with one profile: one deflate, one Buffer for all', async () => {
    const connections = Array.from({ length: 100 }, () => negotiate(SHARED));
    const message = new SharedDeflate(Buffer.from('market data tick '.repeat(200)));
    const before = deflateRuns.async;
    const payloads = await Promise.all(connections.map(({ server }) => shared(message, deflateProfile(server))));
    expect(deflateRuns.async - before).toBe(1);
    expect(message.builds).toBe(1);
    for (const payload of payloads) expect(payload).toBe(payloads[0]);
    expect((await decompress(connections[42].client, payloads[0])).toString()).toBe('market data tick '.repeat(200));
  });

  it('connections with different profiles get one deflate per profile', async () => {
    const options: PerMessageDeflateOptions[] = [
      SHARED,
      { ...SHARED, serverMaxWindowBits: 8 },
      { ...SHARED, serverMaxWindowBits: 9 },
      { ...SHARED, zlibDeflateOptions: { level: 1 } },
      SHARED,
    ];
    const connections = options.map((o) => negotiate(o));
    const data = Buffer.from('x'.repeat(3000) + 'y'.repeat(3000));
    const message = new SharedDeflate(data);
    const payloads = await Promise.all(connections.map(({ server }) => shared(message, deflateProfile(server))));
    expect(message.builds).toBe(3);
    expect(payloads[4]).toBe(payloads[0]);
    expect(payloads[2]).toBe(payloads[1]);
    for (let i = 0; i < connections.length; i++) {
      expect((await decompress(connections[i].client, payloads[i])).equals(data)).toBe(true);
    }
  });

  it('the shared payload is byte-identical to what each connection would compress itself (property)', async () => {
    const optionSets: PerMessageDeflateOptions[] = [
      SHARED,
      { ...SHARED, serverMaxWindowBits: 8 },
      { ...SHARED, serverMaxWindowBits: 12, zlibDeflateOptions: { memLevel: 4, level: 9 } },
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...optionSets), fc.uint8Array({ maxLength: 70000 }), fc.boolean(), async (options, bytes, text) => {
        const { server } = negotiate(options);
        const data = text ? Buffer.from('ab'.repeat(bytes.length >> 1)) : Buffer.from(bytes);
        const own = await compress(server, data);
        const message = new SharedDeflate(data);
        expect((await shared(message, deflateProfile(server))).equals(own)).toBe(true);
        expect(new SharedDeflate(data).compressSync(deflateProfile(server)!).equals(own)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('ws clients inflate the shared payload, message after message', async () => {
    const { server, client } = negotiate(SHARED);
    const wsClient = new WsPerMessageDeflate({ isServer: false });
    wsClient.accept(wsExtension.parse(wsExtension.format({ [NAME]: client.params }))[NAME]);
    for (const text of ['first message '.repeat(100), 'second', 'third message '.repeat(50)]) {
      const payload = await shared(new SharedDeflate(text), deflateProfile(server));
      const inflated = await new Promise<Buffer>((resolve, reject) =>
        wsClient.decompress(payload, true, (error, result) => (error ? reject(error) : resolve(result as Buffer))),
      );
      expect(inflated.toString()).toBe(text);
    }
  });

  it('compressSync and compress share one cache: deflated once, whichever is asked first', async () => {
    const profile = deflateProfile(negotiate(SHARED).server)!;
    const message = new SharedDeflate('sync first '.repeat(100));
    const before = { ...deflateRuns };
    const sync = message.compressSync(profile);
    expect(await shared(message, profile)).toBe(sync);
    expect([deflateRuns.sync - before.sync, deflateRuns.async - before.async]).toEqual([1, 0]);

    const other = new SharedDeflate('async first '.repeat(100));
    const pending = shared(other, profile);
    const meanwhile = other.compressSync(profile);
    expect(await pending).toBe(meanwhile);
  });

  it('the callback always runs asynchronously, even when the payload is cached', async () => {
    const profile = deflateProfile(negotiate(SHARED).server)!;
    const message = new SharedDeflate('cached');
    message.compressSync(profile);
    let called = false;
    const done = new Promise<void>((resolve) =>
      message.compress(profile, () => {
        called = true;
        resolve();
      }),
    );
    expect(called).toBe(false);
    await done;
    expect(called).toBe(true);
  });
});
