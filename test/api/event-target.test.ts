/**
 * The WHATWG interface of a WebSocket (events, addEventListener, on<event> attributes) as ws offers it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CloseEvent, ErrorEvent, Event, MessageEvent } from '../../src/event-target';
import { WebSocket } from '../../src/websocket';
import { HandServer, Ws, once, startHandServer } from './harness';

let server: HandServer | null = null;
afterEach(async () => {
  if (server !== null) await server.close();
  server = null;
});

describe('event classes', () => {
  it('have ws defaults and enumerable accessors', () => {
    expect(new Event('open')).toMatchObject({ type: 'open', target: null });
    expect(new CloseEvent('close')).toMatchObject({ code: 0, reason: '', wasClean: false });
    expect(new ErrorEvent('error')).toMatchObject({ error: null, message: '' });
    expect(new MessageEvent('message')).toMatchObject({ data: null });
    const close = new CloseEvent('close', { code: 1000, reason: 'r', wasClean: true });
    expect([close.code, close.reason, close.wasClean]).toEqual([1000, 'r', true]);
    const keys: string[] = [];
    for (const key in close) keys.push(key);
    expect(keys.sort()).toEqual(['code', 'reason', 'target', 'type', 'wasClean']);
  });
});

describe('addEventListener / removeEventListener / on<event>', () => {
  it('wraps emitter events into Event objects, with the WebSocket as target', () => {
    const ws = new WebSocket(null);
    const seen: Event[] = [];
    const listener = (event: Event) => seen.push(event);
    for (const type of ['open', 'message', 'close', 'error']) ws.addEventListener(type, listener);
    ws.emit('open');
    ws.emit('message', Buffer.from('text'), false);
    ws.emit('message', Buffer.from('bin'), true);
    ws.emit('error', new Error('bad'));
    ws.emit('close', 1001, Buffer.from('away'));
    expect(seen.map((event) => event.type)).toEqual(['open', 'message', 'message', 'error', 'close']);
    expect(seen.every((event) => event.target === ws)).toBe(true);
    expect((seen[1] as MessageEvent).data).toBe('text');
    expect((seen[2] as MessageEvent).data).toEqual(Buffer.from('bin'));
    expect((seen[3] as ErrorEvent).message).toBe('bad');
    expect(seen[4]).toMatchObject({ code: 1001, reason: 'away', wasClean: false });
  });

  it('adds a listener once, supports handleEvent objects, once, and removal', () => {
    const ws = new WebSocket(null);
    let calls = 0;
    const listener = () => calls++;
    ws.addEventListener('open', listener);
    ws.addEventListener('open', listener);
    const handler = { count: 0, handleEvent() { this.count++; } };
    ws.addEventListener('open', handler);
    let onceCalls = 0;
    ws.addEventListener('open', () => onceCalls++, { once: true });
    ws.addEventListener('unknown', listener);
    expect(ws.listenerCount('unknown')).toBe(0);
    ws.emit('open');
    ws.emit('open');
    expect([calls, handler.count, onceCalls]).toEqual([2, 2, 1]);
    ws.removeEventListener('open', listener);
    ws.emit('open');
    expect(calls).toBe(2);
  });

  it('on<event> attributes: one handler each, separate from addEventListener', () => {
    const ws = new WebSocket(null);
    expect(ws.onopen).toBeNull();
    const first = () => {};
    const second = () => {};
    ws.onopen = first;
    ws.onopen = second;
    expect(ws.onopen).toBe(second);
    expect(ws.listenerCount('open')).toBe(1);
    ws.addEventListener('open', second);
    expect(ws.listenerCount('open')).toBe(2);
    ws.removeEventListener('open', second);
    expect(ws.onopen).toBe(second);
    ws.onopen = 'not a function' as never;
    expect(ws.onopen).toBeNull();
    expect(ws.listenerCount('open')).toBe(0);
  });

  it('reports wasClean for a completed closing handshake', async () => {
    server = await startHandServer();
    const peer = new Ws.WebSocket(server.url);
    const ours = await server.next();
    await once(peer, 'open');
    const event = new Promise<CloseEvent>((resolve) => {
      ours.onclose = resolve as never;
    });
    const messages: unknown[] = [];
    ours.onmessage = (e: MessageEvent) => messages.push(e.data);
    peer.send('hi');
    await once(ours, 'message');
    peer.close(1000, 'ok');
    const close = await event;
    expect(messages).toEqual(['hi']);
    expect([close.code, close.reason, close.wasClean]).toEqual([1000, 'ok', true]);
  });
});
