/**
 * The memory-lean preset (after uWebSockets.js's DEDICATED_COMPRESSOR_16KB and DEDICATED_DECOMPRESSOR_2KB):
 * what it negotiates (RFC 7692 sections 7.1.1-7.1.2) in both roles, with ws's default client and server
 * on the other side, and the zlib settings it really reaches zlib with.
 *
 * zlib is wrapped (not changed) to read the options each stream is created with.
 */
import { describe, expect, it, vi } from 'vitest';
import { MEMORY_LEAN_DEFLATE } from '../../src/extensions/presets';
import { PerMessageDeflate } from '../../src/extensions/permessage-deflate';
import { deflateProfile } from '../../src/extensions/shared-compression';
import { format, parse } from '../../src/handshake/extension-header';
import { compress, decompress, negotiate } from './deflate-pair';
import { WsPerMessageDeflate, wsExtension } from './ws-oracle';

const created = vi.hoisted(() => [] as Array<{ kind: string; options: import('zlib').ZlibOptions | undefined }>);
vi.mock('zlib', async (importOriginal) => {
  const actual = await importOriginal<typeof import('zlib')>();
  return {
    ...actual,
    createDeflateRaw: (options?: import('zlib').ZlibOptions) => {
      created.push({ kind: 'deflate', options });
      return actual.createDeflateRaw(options);
    },
    createInflateRaw: (options?: import('zlib').ZlibOptions) => {
      created.push({ kind: 'inflate', options });
      return actual.createInflateRaw(options);
    },
  };
});

const NAME = 'permessage-deflate';
const LEAN_PARAMS = {
  server_no_context_takeover: true,
  client_no_context_takeover: true,
  server_max_window_bits: 11,
  client_max_window_bits: 11,
};

function wsCall(pmd: WsPerMessageDeflate, method: 'compress' | 'decompress', data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => pmd[method](data, true, (e, r) => (e ? reject(e) : resolve(r as Buffer))));
}

describe('7.1.2 the memory-lean preset', () => {
  it('is a frozen, named options object: windows of 2^11, memLevel 4, no context takeover', () => {
    expect(Object.isFrozen(MEMORY_LEAN_DEFLATE)).toBe(true);
    expect(Object.isFrozen(MEMORY_LEAN_DEFLATE.zlibDeflateOptions)).toBe(true);
    expect(MEMORY_LEAN_DEFLATE).toMatchObject({
      serverMaxWindowBits: 11,
      clientMaxWindowBits: 11,
      zlibDeflateOptions: { memLevel: 4 },
    });
  });

  it('as a server, against ws\'s default client offer: 11-bit windows both ways, round trips with ws', async () => {
    const wsClient = new WsPerMessageDeflate({ isServer: false });
    const server = new PerMessageDeflate(MEMORY_LEAN_DEFLATE, true);
    const response = server.accept(parse(wsExtension.format({ [NAME]: wsClient.offer() }))[NAME]);
    expect(response).toEqual(LEAN_PARAMS);
    wsClient.accept(wsExtension.parse(format({ [NAME]: response }))[NAME]);

    const before = created.length;
    const data = Buffer.from('lean '.repeat(2000));
    expect((await wsCall(wsClient, 'decompress', await compress(server, data))).equals(data)).toBe(true);
    expect((await decompress(server, await wsCall(wsClient, 'compress', data))).equals(data)).toBe(true);
    expect(created.slice(before)).toEqual([
      // flush: every write ends with a sync flush (RFC 7692 section 7.2.1), one zlib job per message.
      { kind: 'deflate', options: { memLevel: 4, windowBits: 11, flush: 2 } },
      { kind: 'inflate', options: { windowBits: 11 } },
    ]);
  });

  it('as a client, against ws\'s default server: it asks for and gets the same parameters', async () => {
    const client = new PerMessageDeflate(MEMORY_LEAN_DEFLATE, false);
    const wsServer = new WsPerMessageDeflate({ isServer: true });
    const response = wsServer.accept(wsExtension.parse(format({ [NAME]: client.offer() }))[NAME]);
    expect(client.accept(parse(wsExtension.format({ [NAME]: response }))[NAME])).toEqual(LEAN_PARAMS);
    const data = Buffer.from('client side '.repeat(500));
    expect((await wsCall(wsServer, 'decompress', await compress(client, data))).equals(data)).toBe(true);
  });

  it('its server messages can be compressed once for many (SharedDeflate)', () => {
    expect(deflateProfile(negotiate(MEMORY_LEAN_DEFLATE).server)).toEqual({ windowBits: 11, level: 6, memLevel: 4, strategy: 0 });
  });

  it('7.1.2.2 a client offer without client_max_window_bits is declined: the server cannot bound its window', () => {
    const server = new PerMessageDeflate(MEMORY_LEAN_DEFLATE, true);
    expect(() => server.accept(parse('permessage-deflate')[NAME])).toThrow('None of the extension offers can be accepted');
  });
});
