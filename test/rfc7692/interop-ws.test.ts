/**
 * permessage-deflate against ws 8 from npm, both directions over 127.0.0.1: a ws client against
 * simdws's WebSocketServer, and simdws's client against ws's WebSocketServer. For every combination of
 * the four parameters of RFC 7692 section 7.1 (context takeover each way, window bits each way), asked
 * for by the client and imposed by the server:
 * - both ends agree on the parameters, and they are the ones ws agrees on between two ws peers;
 * - messages cross both ways intact and compressed (the wire carries far fewer bytes than the
 *   payloads), including a message longer than any window, a fragmented one, an uncompressed one
 *   between compressed ones, and a repeated one (what context takeover, section 7.1.1, exists for);
 * - the closing handshake completes (RFC 6455 section 7.1.2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket } from '../../src/websocket';
import { WebSocketServer } from '../../src/websocket-server';
import type { PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';
import { WsPerMessageDeflate, wsExtension } from './ws-oracle';

const Ws = createRequire(__filename)('ws') as typeof import('ws');
/** @types/ws types window bits as numbers only; ours also take ws's booleans. The values used here are numbers. */
type WsDeflateOptions = import('ws').PerMessageDeflateOptions;

/** What both peers' WebSocket classes offer that the exchange uses. */
interface Peer {
  send(data: string | Buffer, options: { binary?: boolean; fin?: boolean; compress?: boolean }): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  off(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  close(code?: number): void;
  readonly extensions: string;
  readonly _extensions: Record<string, unknown>;
  readonly _socket: unknown;
}

type Params = Record<string, unknown>;

interface Combination {
  readonly name: string;
  readonly options: PerMessageDeflateOptions;
}

/** Section 7.1: every combination of the four parameters, with values at and inside the limits. */
const COMBINATIONS: readonly Combination[] = (() => {
  const list: Combination[] = [];
  for (const serverNoContextTakeover of [undefined, true]) {
    for (const clientNoContextTakeover of [undefined, true]) {
      for (const serverMaxWindowBits of [undefined, 8, 11]) {
        for (const clientMaxWindowBits of [undefined, 9, 15]) {
          const options: PerMessageDeflateOptions = {};
          if (serverNoContextTakeover) options.serverNoContextTakeover = true;
          if (clientNoContextTakeover) options.clientNoContextTakeover = true;
          if (serverMaxWindowBits !== undefined) options.serverMaxWindowBits = serverMaxWindowBits;
          if (clientMaxWindowBits !== undefined) options.clientMaxWindowBits = clientMaxWindowBits;
          list.push({ name: JSON.stringify(options), options });
        }
      }
    }
  }
  return list;
})();

/** The parameters two ws peers agree on for these options (ws's own classes, no socket). */
function wsAgreement(serverOptions: PerMessageDeflateOptions, clientOptions: PerMessageDeflateOptions): Params {
  const client = new WsPerMessageDeflate({ ...clientOptions, isServer: false });
  const server = new WsPerMessageDeflate({ ...serverOptions, isServer: true });
  const offer = wsExtension.format({ 'permessage-deflate': client.offer() });
  server.accept(wsExtension.parse(offer)['permessage-deflate']);
  const response = wsExtension.format({ 'permessage-deflate': server.params });
  return client.accept(wsExtension.parse(response)['permessage-deflate']);
}

function paramsOf(peer: Peer): Params {
  return { ...((peer._extensions['permessage-deflate'] as { params: Params }).params) };
}

/** Text that deflates well and is longer than the largest window (32 KiB): RFC 7692's point. */
const LONG_TEXT = 'permessage-deflate, RFC 7692 section 7: compress me please. '.repeat(4400);
/** Bytes that do not deflate: the output is a little larger than the input. */
const NOISE = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 2654435761) >>> 24));
const REPEATED = 'the same 2 KiB message sent twice; with context takeover the second costs a few bytes. '.repeat(24);

interface Sent {
  readonly data: string | Buffer;
  readonly binary: boolean;
  readonly fin: boolean;
  readonly compress?: boolean;
}

/** The messages each side sends: what arrives is the concatenation of each message's fragments. */
const SENDS: readonly Sent[] = [
  { data: LONG_TEXT, binary: false, fin: true },
  { data: 'hello', binary: false, fin: true },
  { data: NOISE, binary: true, fin: true },
  { data: LONG_TEXT.slice(0, 3000), binary: false, fin: false },
  { data: LONG_TEXT.slice(3000, 5000), binary: false, fin: false },
  { data: LONG_TEXT.slice(5000, 9000), binary: false, fin: true },
  { data: REPEATED, binary: false, fin: true, compress: false },
  { data: REPEATED, binary: false, fin: true },
  { data: REPEATED, binary: false, fin: true },
];

const EXPECTED: readonly { text: string; isBinary: boolean }[] = [
  { text: LONG_TEXT, isBinary: false },
  { text: 'hello', isBinary: false },
  { text: NOISE.toString('latin1'), isBinary: true },
  { text: LONG_TEXT.slice(0, 9000), isBinary: false },
  { text: REPEATED, isBinary: false },
  { text: REPEATED, isBinary: false },
  { text: REPEATED, isBinary: false },
];

const PAYLOAD_BYTES = SENDS.reduce((total, sent) => total + Buffer.byteLength(sent.data), 0);

/** `from` sends SENDS; resolves with what `to` received, in order. */
function exchange(from: Peer, to: Peer): Promise<{ text: string; isBinary: boolean }[]> {
  const received: { text: string; isBinary: boolean }[] = [];
  const done = new Promise<typeof received>((resolve) => {
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      received.push({ text: data.toString(isBinary ? 'latin1' : 'utf8'), isBinary });
      if (received.length === EXPECTED.length) {
        to.off('message', onMessage);
        resolve(received);
      }
    };
    to.on('message', onMessage);
  });
  for (const sent of SENDS) {
    const options: { binary: boolean; fin: boolean; compress?: boolean } = { binary: sent.binary, fin: sent.fin };
    if (sent.compress !== undefined) options.compress = sent.compress;
    from.send(sent.data, options);
  }
  return done;
}

/** Both directions, then the wire check on simdws's socket and a clean close. */
async function exerciseConnection(ours: Peer, theirs: Peer, client: Peer): Promise<void> {
  const socket = ours._socket as Socket;
  const readBefore = socket.bytesRead;
  const writtenBefore = socket.bytesWritten;
  expect(await exchange(theirs, ours)).toEqual(EXPECTED);
  expect(await exchange(ours, theirs)).toEqual(EXPECTED);
  // Compressed both ways: the deflatable text dominates the payloads.
  expect(socket.bytesRead - readBefore).toBeLessThan(PAYLOAD_BYTES / 4);
  expect(socket.bytesWritten - writtenBefore).toBeLessThan(PAYLOAD_BYTES / 4);
  const server = client === ours ? theirs : ours;
  const closes = Promise.all([once(client as never, 'close'), once(server as never, 'close')]);
  client.close(1000);
  const [[clientCode], [serverCode]] = (await closes) as [[number], [number]];
  expect([clientCode, serverCode]).toEqual([1000, 1000]);
}

let simdwsServer: WebSocketServer | null = null;
let wsServer: InstanceType<typeof Ws.WebSocketServer> | null = null;

afterAll(async () => {
  if (simdwsServer !== null) await new Promise<void>((resolve) => (simdwsServer as WebSocketServer).close(() => resolve()));
  if (wsServer !== null) await new Promise<void>((resolve) => (wsServer as InstanceType<typeof Ws.WebSocketServer>).close(() => resolve()));
});

/** A simdws server per option set: perMessageDeflate is a server-wide option. */
async function startSimdws(options: PerMessageDeflateOptions): Promise<{ url: string; next: Promise<[WebSocket]> }> {
  if (simdwsServer !== null) await new Promise<void>((resolve) => (simdwsServer as WebSocketServer).close(() => resolve()));
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options });
  simdwsServer = server;
  await once(server, 'listening');
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, next: once(server, 'connection') as Promise<[WebSocket]> };
}

async function startWs(options: PerMessageDeflateOptions): Promise<{ url: string; next: Promise<[Peer]> }> {
  if (wsServer !== null) await new Promise<void>((resolve) => (wsServer as InstanceType<typeof Ws.WebSocketServer>).close(() => resolve()));
  const server = new Ws.WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options as WsDeflateOptions });
  wsServer = server;
  await once(server, 'listening');
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, next: once(server, 'connection') as Promise<[Peer]> };
}

async function wsClientToSimdws(serverOptions: PerMessageDeflateOptions, clientOptions: PerMessageDeflateOptions): Promise<void> {
  const { url, next } = await startSimdws(serverOptions);
  const client = new Ws.WebSocket(url, { perMessageDeflate: clientOptions as WsDeflateOptions }) as unknown as Peer;
  await once(client as never, 'open');
  const [ours] = await next;
  const expected = wsAgreement(serverOptions, clientOptions);
  expect(client.extensions).toBe('permessage-deflate');
  expect(ours.extensions).toBe('permessage-deflate');
  expect(paramsOf(ours)).toEqual(expected);
  expect(paramsOf(client)).toEqual(expected);
  await exerciseConnection(ours, client, client);
}

async function simdwsClientToWs(serverOptions: PerMessageDeflateOptions, clientOptions: PerMessageDeflateOptions): Promise<void> {
  const { url, next } = await startWs(serverOptions);
  const client = new WebSocket(url, { perMessageDeflate: clientOptions });
  await once(client, 'open');
  const [theirs] = await next;
  const expected = wsAgreement(serverOptions, clientOptions);
  expect(client.extensions).toBe('permessage-deflate');
  expect(theirs.extensions).toBe('permessage-deflate');
  expect(paramsOf(client)).toEqual(expected);
  expect(paramsOf(theirs)).toEqual(expected);
  await exerciseConnection(client, theirs, client);
}

beforeAll(() => {
  expect(COMBINATIONS).toHaveLength(36);
});

describe('RFC 7692 section 7.1: parameters the client asks for, server on its defaults', () => {
  it.each(COMBINATIONS)('ws client -> simdws server, client offers $name', async ({ options }) => {
    await wsClientToSimdws({}, options);
  });

  it.each(COMBINATIONS)('simdws client -> ws server, client offers $name', async ({ options }) => {
    await simdwsClientToWs({}, options);
  });
});

describe('RFC 7692 section 7.1: parameters the server imposes, client on its defaults', () => {
  it.each(COMBINATIONS)('ws client -> simdws server, server wants $name', async ({ options }) => {
    await wsClientToSimdws(options, {});
  });

  it.each(COMBINATIONS)('simdws client -> ws server, server wants $name', async ({ options }) => {
    await simdwsClientToWs(options, {});
  });
});

describe('RFC 7692 section 7: offers the server cannot accept', () => {
  it('a ws client asking for a smaller server window than the server allows talks uncompressed (ws would answer 400)', async () => {
    const { url, next } = await startSimdws({ serverMaxWindowBits: 12 });
    const client = new Ws.WebSocket(url, { perMessageDeflate: { serverMaxWindowBits: 10 } }) as unknown as Peer;
    await once(client as never, 'open');
    const [ours] = await next;
    expect([client.extensions, ours.extensions]).toEqual(['', '']);
    const socket = ours._socket as Socket;
    const readBefore = socket.bytesRead;
    expect(await exchange(client, ours)).toEqual(EXPECTED);
    expect(socket.bytesRead - readBefore).toBeGreaterThan(PAYLOAD_BYTES);
    client.close(1000);
    expect((await once(ours, 'close'))[0]).toBe(1000);
  });

  it('a simdws client without an offer gets no extension from a ws server that has it on', async () => {
    const { url, next } = await startWs({});
    const client = new WebSocket(url, { perMessageDeflate: false });
    await once(client, 'open');
    const [theirs] = await next;
    expect([client.extensions, theirs.extensions]).toEqual(['', '']);
    expect(await exchange(theirs, client)).toEqual(EXPECTED);
    client.close(1000);
    expect((await once(theirs as never, 'close'))[0]).toBe(1000);
  });
});
