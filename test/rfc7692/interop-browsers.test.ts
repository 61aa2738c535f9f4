/**
 * permessage-deflate with the clients people actually run, against simdws's WebSocketServer over
 * 127.0.0.1: headless Chromium (it offers `permessage-deflate; client_max_window_bits` and compresses
 * what it sends) and undici 7, Node's own WebSocket (same offer; it inflates what it receives and
 * sends uncompressed, which RFC 7692 section 6 allows). Each runs against ws's default parameters and
 * against MEMORY_LEAN_DEFLATE (no context takeover either way, 11-bit windows: section 7.1).
 *
 * "Compressed" is checked on the wire: the server's socket carries far fewer bytes than the payloads.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import type { PerMessageDeflate, PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';
import { MEMORY_LEAN_DEFLATE } from '../../src/extensions/presets';
import { callPage, launchChromium } from '../interop/helpers/chromium';
import { INTEROP_PAGE } from '../interop/helpers/browser-page';
import { startEchoServer } from '../interop/helpers/echo-server';
import type { EchoServer, ServerConnection } from '../interop/helpers/echo-server';
import { MIB, UNICODE_SAMPLE, patternBytes } from '../interop/helpers/payload';
import { connectUndici } from '../interop/helpers/undici-client';
import type { UndiciClient } from '../interop/helpers/undici-client';

/** A page-serving echo server whose WebSocketServer negotiates permessage-deflate with `options`. */
function startDeflateServer(options: PerMessageDeflateOptions | true): Promise<EchoServer> {
  return startEchoServer(INTEROP_PAGE, { perMessageDeflate: options });
}

/**
 * What each preset negotiates with a client offering `permessage-deflate; client_max_window_bits`: the
 * parameters, and the response header, which a WHATWG client reports as its `extensions`.
 */
const PRESETS: readonly {
  name: string;
  options: PerMessageDeflateOptions | true;
  header: string;
  params: Record<string, unknown>;
}[] = [
  { name: "ws's defaults", options: true, header: 'permessage-deflate', params: {} },
  {
    name: 'MEMORY_LEAN_DEFLATE',
    options: MEMORY_LEAN_DEFLATE,
    // ws's order: the offer's parameters first, then the server's own (byte-identical to ws's header).
    header:
      'permessage-deflate; client_max_window_bits=11; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11',
    params: {
      server_no_context_takeover: true,
      client_no_context_takeover: true,
      server_max_window_bits: 11,
      client_max_window_bits: 11,
    },
  },
];

const servers = new Map<string, EchoServer>();

beforeAll(async () => {
  for (const preset of PRESETS) servers.set(preset.name, await startDeflateServer(preset.options));
});

afterAll(async () => {
  for (const server of servers.values()) await server.stop();
});

afterEach(() => {
  for (const server of servers.values()) expect(server.errors).toEqual([]);
});

function paramsOf(connection: ServerConnection): Record<string, unknown> {
  return { ...(connection.socket._extensions['permessage-deflate'] as PerMessageDeflate).params };
}

/** Bytes the server's socket read and wrote while `run` ran. */
async function wireBytes(connection: ServerConnection, run: () => Promise<void>): Promise<{ read: number; written: number }> {
  const socket = connection.socket._socket as Socket;
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  await run();
  return { read: socket.bytesRead - read, written: socket.bytesWritten - written };
}

/** Text that deflates to a few percent of its size. */
const SAMPLE = 'Chromium and simdws agree on RFC 7692. ';
const REPEAT = 6000;

describe.each(PRESETS)('headless Chromium -> simdws server, permessage-deflate with $name', ({ name, header, params }) => {
  let browser: Browser;
  let page: Page;
  let server: EchoServer;

  interface Opened {
    readonly id: number;
    readonly extensions: string;
  }

  interface EchoResult {
    readonly type: string;
    readonly length: number;
    readonly equal: boolean;
  }

  beforeAll(async () => {
    server = servers.get(name) as EchoServer;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(server.pageUrl);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function connect(): Promise<{ id: number; peer: ServerConnection }> {
    const opened = await callPage<Opened>(page, 'open', server.wsUrl, 'arraybuffer');
    expect(opened.extensions).toBe(header);
    const peer = await server.connections.next();
    expect(paramsOf(peer)).toEqual(params);
    return { id: opened.id, peer };
  }

  it('text compressed both ways: the browser deflates, simdws inflates, and the reverse', async () => {
    const { id, peer } = await connect();
    const text = SAMPLE.repeat(REPEAT);
    let echo: EchoResult | null = null;
    const wire = await wireBytes(peer, async () => {
      echo = await callPage<EchoResult>(page, 'echoText', id, SAMPLE, REPEAT);
    });
    const message = await peer.messages.next();
    expect(message.isBinary).toBe(false);
    expect(message.data.toString() === text).toBe(true);
    expect(echo).toEqual({ type: 'text', length: text.length, equal: true });
    expect(wire.read).toBeLessThan(text.length / 10);
    expect(wire.written).toBeLessThan(text.length / 10);
    await callPage(page, 'close', id, 1000, '');
    expect((await peer.closed).code).toBe(1000);
  });

  it('binary messages at every payload-length encoding, and 1 MiB of multi-byte text', async () => {
    const { id, peer } = await connect();
    for (const [seed, length] of [0, 1, 125, 126, 65535, 65536, 100_003, MIB].entries()) {
      const echo = await callPage<EchoResult>(page, 'echoBytes', id, 'arraybuffer', length, seed);
      const message = await peer.messages.next();
      expect(message.isBinary).toBe(true);
      expect(message.data.equals(patternBytes(length, seed))).toBe(true);
      expect(echo).toEqual({ type: 'arraybuffer', length, equal: true });
    }
    const repeat = Math.ceil(MIB / Buffer.byteLength(UNICODE_SAMPLE));
    const echo = await callPage<EchoResult>(page, 'echoText', id, UNICODE_SAMPLE, repeat);
    expect((await peer.messages.next()).data.toString() === UNICODE_SAMPLE.repeat(repeat)).toBe(true);
    expect(echo).toEqual({ type: 'text', length: UNICODE_SAMPLE.length * repeat, equal: true });
    await callPage(page, 'close', id, 1000, '');
  }, 60_000);

  it('a fragmented compressed message from the server, with a ping queued behind its deflate', async () => {
    const { id, peer } = await connect();
    const text = SAMPLE.repeat(REPEAT);
    // The page compares the next message it receives with the text it sends: the server's message,
    // sent first, must equal it (RFC 7692 section 6: RSV1 on the first fragment only).
    peer.socket.send(text.slice(0, 50_000), { fin: false });
    peer.socket.ping('behind the deflate');
    peer.socket.send(text.slice(50_000), { fin: true });
    const echo = await callPage<EchoResult>(page, 'echoText', id, SAMPLE, REPEAT);
    expect(echo).toEqual({ type: 'text', length: text.length, equal: true });
    expect((await peer.pongs.next()).toString()).toBe('behind the deflate');
    await callPage(page, 'close', id, 1000, '');
    expect((await peer.closed).code).toBe(1000);
  });
});

describe.each(PRESETS)('undici -> simdws server, permessage-deflate with $name', ({ name, header, params }) => {
  let server: EchoServer;
  const clients: UndiciClient[] = [];

  beforeAll(() => {
    server = servers.get(name) as EchoServer;
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.release();
  });

  async function connect(): Promise<{ client: UndiciClient; peer: ServerConnection }> {
    const client = await connectUndici(server.wsUrl, 'arraybuffer');
    clients.push(client);
    expect(client.socket.extensions).toBe(header);
    const peer = await server.connections.next();
    expect(paramsOf(peer)).toEqual(params);
    return { client, peer };
  }

  async function closeCleanly(client: UndiciClient, peer: ServerConnection): Promise<void> {
    client.socket.close(1000);
    expect((await client.closed).wasClean).toBe(true);
    expect((await peer.closed).code).toBe(1000);
  }

  it('undici sends uncompressed, simdws answers compressed, undici inflates', async () => {
    const { client, peer } = await connect();
    const text = SAMPLE.repeat(REPEAT);
    const wire = await wireBytes(peer, async () => {
      client.socket.send(text);
      expect((await peer.messages.next()).data.toString() === text).toBe(true);
      expect((await client.messages.next()) === text).toBe(true);
    });
    expect(wire.read).toBeGreaterThan(text.length);
    expect(wire.written).toBeLessThan(text.length / 10);
    await closeCleanly(client, peer);
  });

  it('binary messages up to 1 MiB, each echoed compressed', async () => {
    const { client, peer } = await connect();
    for (const [seed, length] of [0, 1, 125, 126, 65535, 65536, 100_003, MIB].entries()) {
      const bytes = patternBytes(length, seed);
      client.socket.send(bytes);
      expect((await peer.messages.next()).data.equals(bytes)).toBe(true);
      const echo = await client.messages.next();
      expect(echo instanceof ArrayBuffer && Buffer.from(echo).equals(bytes)).toBe(true);
    }
    await closeCleanly(client, peer);
  }, 60_000);

  it('server messages arrive in order: a large one, fragments, and one sent uncompressed in between', async () => {
    const { client, peer } = await connect();
    const text = SAMPLE.repeat(REPEAT);
    peer.socket.send(text);
    peer.socket.send('small');
    peer.socket.send(text.slice(0, 30_000), { fin: false });
    peer.socket.send(text.slice(30_000, 60_000), { fin: false });
    peer.socket.send(text.slice(60_000), { fin: true });
    peer.socket.send('not compressed', { compress: false });
    peer.socket.ping('after all that');
    const received: unknown[] = [];
    for (let i = 0; i < 4; i++) received.push(await client.messages.next());
    expect(received.map((data) => (data === text ? 'text' : data))).toEqual(['text', 'small', 'text', 'not compressed']);
    expect((await peer.pongs.next()).toString()).toBe('after all that');
    await closeCleanly(client, peer);
  });
});
