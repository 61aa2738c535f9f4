/**
 * The timers on real sockets (127.0.0.1), where fake timers cannot drive the network: our server,
 * ws's client from npm as the peer (it answers pings on its own), and a raw TCP peer that never
 * answers a close frame. Timeouts are small; every assertion is about events and close codes,
 * never about elapsed time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'module';
import { EventEmitter, once } from 'events';
import { connect as connectTcp, Socket } from 'net';
import type { AddressInfo } from 'net';
import { WebSocketServer, ServerOptions } from '../../src/websocket-server';
import { WebSocket } from '../../src/websocket';
import { timerWheel } from '../../src/timers/timer-wheel';

const require = createRequire(__filename);
// ws from npm: the peer.
const Ws = require('ws') as typeof import('ws');
type Peer = InstanceType<typeof Ws.WebSocket>;

const servers: WebSocketServer[] = [];
const peers: (Peer | Socket)[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) {
    if (peer instanceof Socket) peer.destroy();
    else peer.terminate();
  }
  for (const wss of servers.splice(0)) {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

async function startServer(options: ServerOptions): Promise<{ wss: WebSocketServer; port: number }> {
  const wss = new WebSocketServer({ ...options, host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await once(wss, 'listening');
  return { wss, port: (wss.address() as AddressInfo).port };
}

/** A ws client and the server-side WebSocket it became. */
async function connect(wss: WebSocketServer, port: number, options: { autoPong?: boolean } = {}): Promise<[WebSocket, Peer]> {
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const peer = new Ws.WebSocket(`ws://127.0.0.1:${port}`, options);
  peers.push(peer);
  const [[server]] = await Promise.all([accepted, once(peer, 'open')]);
  return [server, peer];
}

interface Closed {
  code: number;
  reason: string;
}

function closed(emitter: EventEmitter): Promise<Closed> {
  return new Promise((resolve) => {
    emitter.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
}

/** Waits until `emitter` has emitted `event` `count` times. */
function times(emitter: EventEmitter, event: string, count: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const listener = (): void => {
      if (++seen < count) return;
      emitter.removeListener(event, listener);
      resolve();
    };
    emitter.on(event, listener);
  });
}

describe('idleTimeout on real sockets', () => {
  it('drops a connection whose peer sends nothing, although the server keeps sending (1006 both ends)', async () => {
    const { wss, port } = await startServer({ idleTimeout: 0.3 });
    const [server, peer] = await connect(wss, port);
    let received = 0;
    let pinged = 0;
    peer.on('message', () => received++);
    peer.on('ping', () => pinged++);
    const serverClosed = closed(server);
    const peerClosed = closed(peer);
    server.send('tick');
    const ticker = setInterval(() => server.send('tick'), 40);
    try {
      expect((await serverClosed).code).toBe(1006);
      expect((await peerClosed).code).toBe(1006);
    } finally {
      clearInterval(ticker);
    }
    // What the server sent did not count as activity, and no ping went out with pings off.
    expect(received).toBeGreaterThan(0);
    expect(pinged).toBe(0);
    expect(timerWheel.size).toBe(0);
  });

  it('keeps a connection open while the peer keeps sending, then drops it once the peer stops', async () => {
    const { wss, port } = await startServer({ idleTimeout: 0.5 });
    const [server, peer] = await connect(wss, port);
    const serverClosed = closed(server);
    const chatter = setInterval(() => peer.send('still here'), 40);
    try {
      // 30 messages span well over two idleTimeouts; a close before that fails the test at once.
      const dropped = serverClosed.then(() => Promise.reject(new Error('dropped while the peer was sending')));
      await Promise.race([times(server, 'message', 30), dropped]);
      expect(server.readyState).toBe(WebSocket.OPEN);
    } finally {
      clearInterval(chatter);
    }
    expect((await serverClosed).code).toBe(1006);
    expect(timerWheel.size).toBe(0);
  });
});

describe('sendPingsAutomatically on real sockets', () => {
  it('pings an idle connection; a peer that answers with pongs stays open', async () => {
    const { wss, port } = await startServer({ idleTimeout: 1, sendPingsAutomatically: true });
    const [server, peer] = await connect(wss, port);
    let pinged = 0;
    peer.on('ping', () => pinged++);
    // Three pongs: the connection has outlived idleTimeout several times over.
    await times(server, 'pong', 3);
    expect(pinged).toBe(3);
    expect(server.readyState).toBe(WebSocket.OPEN);
    expect(peer.readyState).toBe(Ws.WebSocket.OPEN);
    const serverClosed = closed(server);
    server.close(1000);
    expect((await serverClosed).code).toBe(1000);
    expect(timerWheel.size).toBe(0);
  });

  it('drops a peer that does not answer the ping', async () => {
    const { wss, port } = await startServer({ idleTimeout: 0.4, sendPingsAutomatically: true });
    const [server, peer] = await connect(wss, port, { autoPong: false });
    let pinged = 0;
    peer.on('ping', () => pinged++);
    const [serverClose, peerClose] = await Promise.all([closed(server), closed(peer)]);
    expect(pinged).toBe(1);
    expect(serverClose.code).toBe(1006);
    expect(peerClose.code).toBe(1006);
    expect(timerWheel.size).toBe(0);
  });
});

describe('maxLifetime on real sockets', () => {
  it('closes a busy connection at that age with 1000 "please reconnect", a clean closing handshake', async () => {
    // 0.005 minutes: 300 ms.
    const { wss, port } = await startServer({ maxLifetime: 0.005 });
    const [server, peer] = await connect(wss, port);
    const chatter = setInterval(() => peer.send('busy'), 40);
    try {
      const [serverClose, peerClose] = await Promise.all([closed(server), closed(peer)]);
      expect(peerClose).toEqual({ code: 1000, reason: 'please reconnect' });
      // The peer echoed the close frame (RFC 6455 section 5.5.1).
      expect(serverClose.code).toBe(1000);
    } finally {
      clearInterval(chatter);
    }
    expect(timerWheel.size).toBe(0);
  });
});

describe('closeTimeout on the wheel', () => {
  it('destroys the socket of a peer that never answers a close frame', async () => {
    const { wss, port } = await startServer({ closeTimeout: 200 });
    const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
    const raw = connectTcp(port, '127.0.0.1');
    peers.push(raw);
    const bytes: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => bytes.push(chunk));
    await once(raw, 'connect');
    raw.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const [server] = await accepted;
    const serverClosed = closed(server);
    const rawClosed = once(raw, 'close');
    server.close(1001, 'bye');
    // The peer reads everything and answers nothing; only the close timer can end this.
    expect((await serverClosed).code).toBe(1006);
    await rawClosed;
    const received = Buffer.concat(bytes);
    const frame = received.subarray(received.indexOf('\r\n\r\n') + 4);
    // An unmasked close frame (opcode 0x8) with code 1001 and reason 'bye' (RFC 6455 section 5.5.1).
    expect([...frame]).toEqual([0x88, 5, 0x03, 0xe9, ...Buffer.from('bye')]);
    expect(timerWheel.size).toBe(0);
  });
});
