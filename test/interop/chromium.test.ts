/**
 * Headless Chromium -> simdws's WebSocketServer. The page comes from the same http.Server that
 * upgrades its WebSocket (RFC 6455 section 4.1), so the browser connects as it would in production.
 * A browser cannot send an invalid frame, so protocol errors are covered by test/rfc6455, not here.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { callPage, launchChromium } from './helpers/chromium';
import { INTEROP_PAGE } from './helpers/browser-page';
import { startEchoServer } from './helpers/echo-server';
import type { EchoServer, ServerConnection } from './helpers/echo-server';
import { MIB, UNICODE_CLOSE_REASON, UNICODE_SAMPLE, patternBytes } from './helpers/payload';

interface Opened {
  readonly id: number;
  readonly extensions: string;
  readonly protocol: string;
}

interface EchoResult {
  readonly type: 'text' | 'arraybuffer' | 'blob';
  readonly length: number;
  readonly equal: boolean;
}

interface BrowserClose {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

let server: EchoServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startEchoServer(INTEROP_PAGE);
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(server.pageUrl);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

afterEach(() => {
  expect(server.errors).toEqual([]);
});

async function connect(binaryType: 'arraybuffer' | 'blob'): Promise<{ id: number; peer: ServerConnection }> {
  const opened = await callPage<Opened>(page, 'open', server.wsUrl, binaryType);
  // Chromium offers permessage-deflate; the server's default (ws's) is not to negotiate it (RFC 7692 section 5).
  expect(opened.extensions).toBe('');
  return { id: opened.id, peer: await server.connections.next() };
}

async function expectBytesEcho(
  id: number,
  peer: ServerConnection,
  form: 'arraybuffer' | 'blob' | 'view',
  length: number,
  seed: number,
  received: EchoResult['type'],
): Promise<void> {
  const echo = await callPage<EchoResult>(page, 'echoBytes', id, form, length, seed);
  const message = await peer.messages.next();
  expect(message.isBinary).toBe(true);
  expect(message.data.length).toBe(length);
  expect(message.data.equals(patternBytes(length, seed))).toBe(true);
  expect(echo).toEqual({ type: received, length, equal: true });
}

describe('Chromium -> simdws server: data frames (RFC 6455 section 5.6)', () => {
  it('a text message arrives as text and is echoed as text', async () => {
    const { id, peer } = await connect('arraybuffer');
    const echo = await callPage<EchoResult>(page, 'echoText', id, 'hello simdws', 1);
    const message = await peer.messages.next();
    expect(message.isBinary).toBe(false);
    expect(message.data.toString('utf8')).toBe('hello simdws');
    expect(echo).toEqual({ type: 'text', length: 12, equal: true });
    await callPage(page, 'close', id, 1000, '');
  });

  it('unicode text (2-, 3- and 4-byte UTF-8, ZWJ sequences) survives both directions', async () => {
    const { id, peer } = await connect('arraybuffer');
    const echo = await callPage<EchoResult>(page, 'echoText', id, UNICODE_SAMPLE, 1);
    const message = await peer.messages.next();
    expect(message.isBinary).toBe(false);
    expect(message.data.toString('utf8')).toBe(UNICODE_SAMPLE);
    expect(echo).toEqual({ type: 'text', length: UNICODE_SAMPLE.length, equal: true });
    await callPage(page, 'close', id, 1000, '');
  });

  it('ArrayBuffer and typed-array messages at every payload-length encoding (5.2: 7, 16 and 64 bits)', async () => {
    const { id, peer } = await connect('arraybuffer');
    for (const [seed, length] of [0, 1, 125, 126, 127, 65535, 65536, 100_003].entries()) {
      await expectBytesEcho(id, peer, seed % 2 === 0 ? 'arraybuffer' : 'view', length, seed, 'arraybuffer');
    }
    await callPage(page, 'close', id, 1000, '');
  });

  it('a Blob is sent as a binary message and the echo arrives as a Blob', async () => {
    const { id, peer } = await connect('blob');
    await expectBytesEcho(id, peer, 'blob', 4099, 7, 'blob');
    await callPage(page, 'close', id, 1000, '');
  });

  it.each([
    ['1 MiB', MIB],
    ['16 MiB', 16 * MIB],
  ])('a %s binary message round-trips intact', async (_label, length) => {
    const { id, peer } = await connect('arraybuffer');
    await expectBytesEcho(id, peer, 'arraybuffer', length, 42, 'arraybuffer');
    await callPage(page, 'close', id, 1000, '');
  }, 120_000);

  it('a 1 MiB text message of multi-byte characters round-trips (UTF-8 split across chunks)', async () => {
    const { id, peer } = await connect('arraybuffer');
    const repeat = Math.ceil(MIB / Buffer.byteLength(UNICODE_SAMPLE));
    const echo = await callPage<EchoResult>(page, 'echoText', id, UNICODE_SAMPLE, repeat);
    const message = await peer.messages.next();
    expect(message.isBinary).toBe(false);
    expect(message.data.toString('utf8')).toBe(UNICODE_SAMPLE.repeat(repeat));
    expect(echo).toEqual({ type: 'text', length: UNICODE_SAMPLE.length * repeat, equal: true });
    await callPage(page, 'close', id, 1000, '');
  }, 60_000);
});

describe('Chromium -> simdws server: control frames (RFC 6455 section 5.5)', () => {
  it("the server's ping is answered by the browser with a pong carrying the same data, unseen by the page", async () => {
    const { id, peer } = await connect('arraybuffer');
    peer.socket.ping(Buffer.from('are you there?'));
    expect((await peer.pongs.next()).toString()).toBe('are you there?');
    const echo = await callPage<EchoResult>(page, 'echoText', id, 'after ping', 1);
    expect(echo.equal).toBe(true);
    expect(await callPage<number>(page, 'pendingMessages', id)).toBe(0);
    await callPage(page, 'close', id, 1000, '');
  });

  it('the browser closes with a code and reason: the server sees both and echoes the code (5.5.1, 7.4)', async () => {
    const { id, peer } = await connect('arraybuffer');
    const browserSide = await callPage<BrowserClose>(page, 'close', id, 4000, 'client says bye');
    expect(await peer.closed).toEqual({ code: 4000, reason: 'client says bye' });
    expect(browserSide).toEqual({ code: 4000, reason: 'client says bye', wasClean: true });
  });

  it('a close reason with multi-byte characters reaches the server intact (7.1.6)', async () => {
    const { id, peer } = await connect('arraybuffer');
    await callPage<BrowserClose>(page, 'close', id, 1000, UNICODE_CLOSE_REASON);
    expect(await peer.closed).toEqual({ code: 1000, reason: UNICODE_CLOSE_REASON });
  });

  it('the server closes with a code and reason: the page sees both in a clean close (7.1.5)', async () => {
    const { id, peer } = await connect('arraybuffer');
    peer.socket.close(4001, 'server says bye');
    const browserSide = await callPage<BrowserClose>(page, 'closed', id);
    expect(browserSide).toEqual({ code: 4001, reason: 'server says bye', wasClean: true });
    // The server's 'close' reports the peer's answering close frame: the code comes back (5.5.1),
    // the reason is the peer's choice (undici sends none).
    expect((await peer.closed).code).toBe(4001);
  });
});
